package e2e

// Issue 13, point 1: a server that is not on this machine names, in its documents, URLs on this machine (the
// shape of a Docker API call, http://127.0.0.1:PORT/v1.41/images/create?…). The bridge must refuse each one, say
// which document and field named what, and connect nothing to the recorder listening there.
//
// The hostile server must look remote while it runs here. It is served with TLS as https://example.com (the name
// in httptest's certificate, trusted with --ca-file) and reached through an HTTPS proxy on loopback, as through a
// corporate proxy: its URL is not loopback, so the rule for remote servers applies, and nothing about the rule is
// bent for the test. Go never sends loopback addresses or localhost through a proxy, so a named 127.0.0.1 URL is
// dialed directly, and only the bridge's own rule stands between it and the recorder.

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// ssrfServer is the hostile server's documents: what each URL field names.
type ssrfServer struct {
	resourceMetadata, authServer, registration, token string
	register                                          atomic.Int64 // requests to its own /register
}

func (s *ssrfServer) handler() http.Handler {
	const origin = "https://example.com"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/mcp":
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+s.resourceMetadata+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/.well-known/oauth-protected-resource/v1/mcp":
			json.NewEncoder(w).Encode(map[string]any{"resource": origin + "/v1/mcp", "authorization_servers": []string{s.authServer}})
		case "/.well-known/oauth-authorization-server":
			json.NewEncoder(w).Encode(map[string]any{"issuer": origin, "authorization_endpoint": origin + "/authorize",
				"token_endpoint": s.token, "registration_endpoint": s.registration, "code_challenge_methods_supported": []string{"S256"},
				"token_endpoint_auth_methods_supported": []string{"none"}})
		case "/register":
			s.register.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_client_metadata","error_description":"the control case stops here"}`)
		default:
			http.NotFound(w, r)
		}
	})
}

// connectProxy is an HTTPS proxy that tunnels every CONNECT to upstream, whatever host it names, and records the
// hosts asked for.
func connectProxy(t *testing.T, upstream string) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		asked = append(asked, r.Host)
		mu.Unlock()
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		c.Close()
	}))
	t.Cleanup(p.Close)
	return p, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), asked...) }
}

// tcpRecorder listens on 127.0.0.1 and counts every connection, TLS or not, that reaches it.
func tcpRecorder(t *testing.T) (port string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

// loopbackHostname is this machine's host name when it resolves to loopback addresses only (Debian's /etc/hosts
// has it as 127.0.1.1), else "": a name no URL check recognises, which only the dialer can catch.
func loopbackHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.EqualFold(h, "localhost") {
		return ""
	}
	addrs, err := net.LookupIP(h)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			return ""
		}
	}
	return h
}

// ssrfCase is one hostile document and what the bridge must say about it.
type ssrfCase struct {
	name    string
	edit    func(*ssrfServer)
	noProxy string   // NO_PROXY for this run
	why     []string // in stderr (and in the client's answer when serving)
	serve   bool     // run the bridge for a client instead of `login`
}

func TestServerNamedURLsCannotReachThisMachine(t *testing.T) {
	const origin = "https://example.com"
	recPort, recorded := tcpRecorder(t)
	rec := "127.0.0.1:" + recPort
	good := func() *ssrfServer {
		return &ssrfServer{resourceMetadata: origin + "/.well-known/oauth-protected-resource/v1/mcp", authServer: origin,
			registration: origin + "/register", token: origin + "/token"}
	}
	cases := []ssrfCase{
		{"registration_endpoint: Docker API on loopback, plain http", func(s *ssrfServer) {
			s.registration = "http://" + rec + "/v1.41/images/create?fromImage=evil"
		}, "", []string{"registration_endpoint http://" + rec + "/v1.41/images/create", "127.0.0.1 is a loopback address", "authorization server metadata at https://example.com/.well-known/oauth-authorization-server"}, false},
		{"token_endpoint: https on localhost", func(s *ssrfServer) {
			s.token = "https://localhost:" + recPort + "/token"
		}, "", []string{"token_endpoint https://localhost:" + recPort + "/token", "localhost"}, false},
		{name: "resource_metadata in the challenge (serving: login has no challenge)", serve: true, edit: func(s *ssrfServer) {
			s.resourceMetadata = "http://" + rec + "/prm"
		}, why: []string{"WWW-Authenticate challenge names resource_metadata http://" + rec + "/prm", "loopback"}},
		{"authorization_servers: an IPv4-mapped loopback address", func(s *ssrfServer) {
			s.authServer = "https://[::ffff:127.0.0.1]:" + recPort
		}, "", []string{"names authorization_servers https://[::ffff:127.0.0.1]:" + recPort, "loopback"}, false},
	}
	if h := loopbackHostname(); h != "" {
		cases = append(cases, ssrfCase{"registration_endpoint: a host name that resolves to loopback, dialed directly", func(s *ssrfServer) {
			s.registration = "https://" + h + ":" + recPort + "/register"
		}, h, []string{"refused to connect to " + strings.ToLower(h), "a loopback address"}, false})
	} else {
		t.Logf("this machine's host name does not resolve to loopback only: the dial-time case runs in internal/netutil and auth/oauth only")
	}
	// The control: the same server and proxy with nothing hostile reach the server's own registration endpoint, so
	// an empty recorder below means the bridge refused, not that it never got that far.
	cases = append(cases, ssrfCase{"control", func(*ssrfServer) {}, "", []string{"the control case stops here"}, false})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.edit(s)
			ts := httptest.NewTLSServer(s.handler())
			defer ts.Close()
			proxy, asked := connectProxy(t, ts.Listener.Addr().String())
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			var env []string
			for _, kv := range signInEnv(filepath.Join(dir, "config")) {
				if k, _, _ := strings.Cut(kv, "="); !strings.EqualFold(k, "HTTPS_PROXY") && !strings.EqualFold(k, "HTTP_PROXY") && !strings.EqualFold(k, "NO_PROXY") {
					env = append(env, kv)
				}
			}
			env = append(env, "HTTPS_PROXY="+proxy.URL, "NO_PROXY="+c.noProxy)
			before := recorded.Load()
			var stderr string
			if c.serve {
				rb := startRawIn(t, dir, env, "--no-browser", "--ca-file", ca, "--auth-timeout", "30s", origin+"/v1/mcp")
				rb.send(t, initLine)
				if m := rb.until(t, float64(1)); m["result"] == nil {
					assertReason(t, "initialize", m, c.why)
				} else {
					rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
					rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
					assertReason(t, "tools/call", rb.until(t, float64(2)), c.why)
				}
				stderr = rb.stderr.String()
			} else {
				cmd := exec.Command(bridgeBin, "login", "--no-browser", "--ca-file", ca, "--auth-timeout", "30s", origin+"/v1/mcp")
				cmd.Env, cmd.Dir = env, dir
				var out syncBuffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				stderr = out.String()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() == 0 {
					t.Fatalf("login must fail, got %v\n%s", err, stderr)
				}
				if c.name != "control" && !strings.Contains(stderr, "ask its operator") {
					t.Error("stderr lacks the advice")
				}
			}
			defer func() {
				if t.Failed() {
					t.Logf("stderr:\n%s\nproxy CONNECTs: %v", stderr, asked())
				}
			}()
			for _, w := range c.why {
				if !containsReason(stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if n := recorded.Load() - before; n != 0 {
				t.Errorf("the recorder on %s got %d connections", rec, n)
			}
			for _, h := range asked() {
				if h != "example.com:443" {
					t.Errorf("the proxy was asked for %s: only the hostile server's own host should go through it", h)
				}
			}
			if c.name == "control" {
				if s.register.Load() != 1 {
					t.Errorf("the control reached the server's registration endpoint %d times, want 1", s.register.Load())
				}
			} else if s.register.Load() != 0 {
				t.Errorf("the server's own registration endpoint was reached")
			}
		})
	}
}
