package e2e

// Issue 13, point 4: a server that quotes back the secrets it was sent — the token endpoint in error_description
// (access and refresh tokens, the authorization code, the PKCE verifier), the MCP endpoint in WWW-Authenticate,
// Location and a JSON-RPC error (the API key, a --header value) — must not get any of them printed: not on stdout,
// not on stderr, not in the log file, with or without --debug. The reference server's echo-secrets fault does the
// quoting; the test records what the server really received, so it knows every value to look for.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// received records the secrets a server was sent: token request fields and bearer tokens.
type received struct {
	mu   sync.Mutex
	vals map[string][]string // kind → values
}

func (rc *received) add(kind, v string) {
	if v == "" {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.vals == nil {
		rc.vals = map[string][]string{}
	}
	rc.vals[kind] = append(rc.vals[kind], v)
}

func (rc *received) snapshot() map[string][]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]string{}
	for k, v := range rc.vals {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// recording serves h, noting each token request's secrets and each bearer token sent to the MCP endpoint.
func recording(rc *received, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			for _, k := range []string{"code", "code_verifier", "refresh_token"} {
				rc.add(k, form.Get(k))
			}
		}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && r.URL.Path == "/v1/mcp" {
			rc.add("access_token", tok)
		}
		h.ServeHTTP(w, r)
	})
}

// assertNotLeaked fails when any value appears in the bridge's stdout, stderr or log file, and checks that the
// echo really reached those outputs (scrubbed), so that the test is not passing for want of an echo.
func assertNotLeaked(t *testing.T, vals map[string][]string, stdout, stderr, logFile string) {
	t.Helper()
	for kind, vs := range vals {
		for _, v := range vs {
			for where, text := range map[string]string{"stdout": stdout, "stderr": stderr, "the log file": logFile} {
				if strings.Contains(text, v) || strings.Contains(text, url.QueryEscape(v)) {
					t.Errorf("the %s the server echoed (%d chars) appears on %s", kind, len(v), where)
				}
			}
		}
	}
	if !strings.Contains(stderr+logFile, "[redacted]") {
		t.Error("nothing was redacted: the server's echo never reached the log, so the test proves nothing")
	}
}

func TestEchoedSecretsOAuth(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "debug"}[debug], func(t *testing.T) {
			t.Parallel()
			rc := &received{}
			srv := devserver.New(devserver.Config{OAuth: true, AutoApprove: true, Step: 5 * time.Millisecond})
			ts := httptest.NewServer(recording(rc, srv.Handler()))
			defer ts.Close()
			dir := t.TempDir()
			env := signInEnv(dir)
			login := exec.Command(bridgeBin, "login", "--browser-command", fetchBin, ts.URL+"/v1/mcp")
			login.Env = env
			if out, err := login.CombinedOutput(); err != nil {
				t.Fatalf("login: %v\n%s", err, out)
			}
			// From now on the server quotes back every secret: the stored access token (401 invalid_token), then the
			// refresh token (invalid_grant), then, in the new sign-in that follows, the code and the verifier.
			srv.SetFaults(devserver.FaultEchoSecrets)
			args := []string{"--browser-command", fetchBin, "--sign-in-wait", hangGuard.String(), "--auth-timeout", hangGuard.String(), ts.URL + "/v1/mcp"}
			if debug {
				args = append([]string{"--debug"}, args...)
			}
			rb := startRawIn(t, t.TempDir(), env, args...)
			var stdout strings.Builder
			rb.send(t, initLine)
			for _, id := range []float64{1, 2} {
				if id == 2 {
					rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
				}
				m := rb.until(t, id)
				stdout.WriteString(toJSON(m) + "\n")
			}
			vals := rc.snapshot()
			for _, kind := range []string{"access_token", "refresh_token", "code", "code_verifier"} {
				if len(vals[kind]) == 0 {
					t.Fatalf("the server never received a %s to echo (%v): the scenario did not run", kind, keys(vals))
				}
			}
			rb.stdin.Close()
			_ = rb.cmd.Wait()
			logFile, _ := os.ReadFile(filepath.Join(dir, "meshai-mcp-server.log"))
			assertNotLeaked(t, vals, stdout.String(), rb.stderr.String(), string(logFile))
			if !strings.Contains(rb.stderr.String(), "you sent") {
				t.Error("stderr lacks the token endpoint's refusal: the echo was not shown at all")
			}
		})
	}
}

func TestEchoedSecretsAPIKeyAndHeader(t *testing.T) {
	const key, header = "api-key-echo-0123456789abcdef", "tenant-secret-0123456789"
	for _, debug := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "debug"}[debug], func(t *testing.T) {
			t.Parallel()
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{APIKey: key, Step: 5 * time.Millisecond, Faults: []devserver.Fault{devserver.FaultEchoSecrets}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			env := append(signInEnv(dir), "MESHAI_API_KEY="+key)
			args := []string{"--header", "X-Tenant-Secret: " + header, srv.URL + "/v1/mcp"}
			if debug {
				args = append([]string{"--debug"}, args...)
			}
			rb := startRawIn(t, t.TempDir(), env, args...)
			rb.send(t, initLine)
			first := toJSON(rb.until(t, float64(1)))
			rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
			second := toJSON(rb.until(t, float64(2)))
			rb.stdin.Close()
			_ = rb.cmd.Wait()
			stdout := first + "\n" + second
			if !strings.Contains(stdout, "you sent") || !strings.Contains(stdout, "[redacted]") {
				t.Errorf("the server's echo should reach the client, scrubbed: %s", stdout)
			}
			logFile, _ := os.ReadFile(filepath.Join(dir, "meshai-mcp-server.log"))
			vals := map[string][]string{"API key": {key}, "--header value": {header}}
			if debug {
				assertNotLeaked(t, vals, stdout, rb.stderr.String(), string(logFile))
				// The debug log shows the echoing WWW-Authenticate and Location, each with the values taken out.
				for _, want := range []string{"X-Tenant-Secret: [redacted]", "X-Tenant-Secret%3A+[redacted]"} {
					if !strings.Contains(string(logFile), want) {
						t.Errorf("the debug log lacks %q: the echoed headers were not logged, scrubbed", want)
					}
				}
			} else { // without --debug the log has no headers: the echo reaches stdout only
				for kind, vs := range vals {
					for _, v := range vs {
						if strings.Contains(stdout+rb.stderr.String()+string(logFile), v) {
							t.Errorf("the %s appears in the bridge's output", kind)
						}
					}
				}
			}
		})
	}
}

// toJSON is a message read from stdout, encoded again (its strings as they were: the values looked for are plain).
func toJSON(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
