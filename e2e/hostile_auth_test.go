package e2e

// A hostile server (issue "Hardening"): the reference server publishes metadata crafted to make the bridge open
// something other than a sign-in page (file:, javascript:, shell text, plain http to a remote host) or sign in
// for another server (a PRM naming another resource, AS metadata for another issuer). Through the real binary,
// in `login` and in serve mode, the bridge must refuse, say why, never run the browser command, and not loop.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// hostileServer is the reference server with one fault, behind a handler that counts the requests that matter.
type hostileServer struct {
	URL                    string
	prm, asMeta, authorize atomic.Int64 // PRM fetches, AS metadata fetches (either well-known), /oauth/authorize hits
	register, mcp          atomic.Int64 // /oauth/register and /v1/mcp requests, for the failure log
}

// startHostileServer serves devserver with OAuth, auto-approve and the faults. It uses New rather than Listen so
// the issuer comes from each request's Host, as a real deployment's does.
func startHostileServer(t *testing.T, faults ...devserver.Fault) *hostileServer {
	t.Helper()
	hs := &hostileServer{}
	inner := devserver.New(devserver.Config{OAuth: true, AutoApprove: true, Step: 5 * time.Millisecond, Faults: faults}).Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/.well-known/oauth-protected-resource"):
			hs.prm.Add(1)
		case strings.HasPrefix(p, "/.well-known/oauth-authorization-server"), strings.HasPrefix(p, "/.well-known/openid-configuration"):
			hs.asMeta.Add(1)
		case strings.HasPrefix(p, "/oauth/authorize"):
			hs.authorize.Add(1)
		case p == "/oauth/register":
			hs.register.Add(1)
		case p == "/v1/mcp":
			hs.mcp.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	hs.URL = ts.URL
	return hs
}

// counts is a snapshot of the server's counters for messages.
func (hs *hostileServer) counts() string {
	b, _ := json.Marshal(map[string]int64{"prm": hs.prm.Load(), "as": hs.asMeta.Load(), "authorize": hs.authorize.Load(),
		"register": hs.register.Load(), "mcp": hs.mcp.Load()})
	return string(b)
}

// recorder is a --browser-command that appends its arguments to a file, then hands them to fetchurl, so a real
// sign-in completes (TestHostileAuthServerControl); the file exists only if it ever ran.
func recorder(t *testing.T) (command, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "opened")
	command = filepath.Join(dir, "record-browser")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '" + record + "'\nexec '" + fetchBin + "' \"$@\"\n"
	if err := os.WriteFile(command, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return command, record
}

// hostileCase is one crafted server and what the bridge must say about it.
type hostileCase struct {
	name  string
	fault devserver.Fault
	why   []string // each must appear in stderr and in the error the client or terminal sees
	asHit bool     // the refusal comes after the AS metadata was fetched (false: the PRM itself is refused)
}

var hostileCases = []hostileCase{
	{"file scheme", devserver.FaultAuthorizeFile,
		[]string{"unusable authorization_endpoint", `"file:///etc/passwd" is not an absolute http(s) URL`}, true},
	{"javascript scheme", devserver.FaultAuthorizeJavaScript,
		[]string{"unusable authorization_endpoint", `"javascript:alert(document.cookie)" is not an absolute http(s) URL`}, true},
	{"shell command substitution", devserver.FaultAuthorizeShell,
		[]string{"unusable authorization_endpoint", `URL contains "{", which no URL may contain`}, true},
	{"shell backtick", devserver.FaultAuthorizeBacktick,
		[]string{"unusable authorization_endpoint", "URL contains \"`\", which no URL may contain"}, true},
	{"shell dollar with URI characters only", devserver.FaultAuthorizeDollar,
		[]string{"authorization_endpoint: refusing to open it in a browser", `URL contains "$", which has meaning to a shell`}, true},
	{"plain http to a remote host", devserver.FaultAuthorizeHTTPRemote,
		[]string{"unusable authorization_endpoint", `"http://auth.example.com/oauth/authorize" uses plain http: only https is allowed, except on a loopback host`}, true},
	{"PRM for another resource", devserver.FaultPRMOtherResource,
		[]string{`is for resource "https://other.example.com/v1/mcp"`, "refusing to sign in"}, false},
	{"AS metadata for another issuer", devserver.FaultBadIssuer,
		[]string{"/.well-known/oauth-authorization-server is for issuer", "refusing to use it"}, true},
}

// checkRefused holds what every case must show whatever the mode: the browser command never ran, no shell ran
// the endpoint's text, the authorization endpoint was never reached, discovery ran at most once per request, and
// it stopped at the document that was wrong.
func checkRefused(t *testing.T, hs *hostileServer, c hostileCase, record, workDir string, requests int64) {
	t.Helper()
	if b, err := os.ReadFile(record); err == nil {
		t.Errorf("the browser command ran, with:\n%s", b)
	}
	for _, dir := range []string{workDir, "."} {
		if _, err := os.Stat(filepath.Join(dir, devserver.ShellFaultMarker)); err == nil {
			t.Errorf("%s appeared in %s: a shell ran the authorization endpoint's text", devserver.ShellFaultMarker, dir)
		}
	}
	if n := hs.authorize.Load(); n != 0 {
		t.Errorf("the authorization endpoint was requested %d times", n)
	}
	if n := hs.register.Load(); n != 0 {
		t.Errorf("a client was registered %d times at a server whose metadata was refused", n)
	}
	if n := hs.prm.Load(); n < 1 || n > requests {
		t.Errorf("%d PRM fetches for %d requests that needed a sign-in; want 1 to %d (%s)", n, requests, requests, hs.counts())
	}
	if n := hs.asMeta.Load(); n > requests {
		t.Errorf("%d AS metadata fetches for %d requests that needed a sign-in; want at most %d (%s)", n, requests, requests, hs.counts())
	}
	if n := hs.asMeta.Load(); c.asHit != (n > 0) {
		t.Errorf("%d AS metadata fetches; the refusal should come %s it (%s)", n, map[bool]string{true: "after", false: "before"}[c.asHit], hs.counts())
	}
}

// The control: against the same server without a fault, the same recorder is run with the sign-in URL and the
// login completes, so the hostile cases' empty record means the bridge refused, not that the recorder is broken.
func TestHostileAuthServerControl(t *testing.T) {
	hs := startHostileServer(t)
	browser, record := recorder(t)
	cmd := exec.Command(bridgeBin, "login", "--browser-command", browser, "--auth-timeout", hangGuard.String(), hs.URL+"/v1/mcp")
	cmd.Env, cmd.Dir = signInEnv(t.TempDir()), t.TempDir()
	out, err := cmd.CombinedOutput()
	assertNoSecrets(t, cmd.Env, string(out))
	if err != nil || !strings.Contains(string(out), "Signed in to") {
		t.Fatalf("login against a well-behaved server: %v\n%s", err, out)
	}
	b, err := os.ReadFile(record)
	if err != nil || !strings.HasPrefix(string(b), hs.URL+"/oauth/authorize?") || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("the recorder must have got the one sign-in URL: %v %q", err, b)
	}
	if hs.prm.Load() != 1 || hs.asMeta.Load() != 1 || hs.authorize.Load() != 1 {
		t.Errorf("one discovery and one authorization request expected: %s", hs.counts())
	}
}

// `meshai-mcp-server login` against each hostile server exits non-zero, says why on stderr, and opens nothing.
func TestHostileAuthServerLogin(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hs := startHostileServer(t, c.fault)
			browser, record := recorder(t)
			dir, work := t.TempDir(), t.TempDir()
			cmd := exec.Command(bridgeBin, "login", "--browser-command", browser, "--auth-timeout", hangGuard.String(), hs.URL+"/v1/mcp")
			cmd.Env, cmd.Dir = signInEnv(dir), work
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			defer func() {
				assertNoSecrets(t, cmd.Env, stderr.String())
				if t.Failed() {
					t.Logf("stdout:\n%s\nstderr:\n%s\nserver: %s", stdout.String(), stderr.String(), hs.counts())
				}
			}()
			var ee *exec.ExitError
			if err == nil || !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("login must fail with a non-zero exit status, got %v", err)
			}
			for _, w := range c.why {
				if !containsReason(stderr.String(), w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "Signed in") || strings.Contains(stderr.String(), "open this URL in a browser") {
				t.Error("login must not claim success or offer a URL")
			}
			checkRefused(t, hs, c, record, work, 1)
		})
	}
}

// The bridge serving a client against each hostile server answers every request with the refusal and its reason,
// logs it, opens nothing, and stays up without retrying discovery in a loop.
func TestHostileAuthServerServe(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hs := startHostileServer(t, c.fault)
			browser, record := recorder(t)
			dir, work := t.TempDir(), t.TempDir()
			rb := startRawIn(t, work, signInEnv(dir), "--browser-command", browser, "--auth-timeout", hangGuard.String(), hs.URL+"/v1/mcp")
			rb.send(t, initLine)
			init := rb.until(t, float64(1))
			requests := int64(1) // initialize may need a sign-in itself
			if init["result"] == nil {
				assertReason(t, "initialize", init, c.why)
			} else {
				rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			}
			for id := 2; id <= 3; id++ { // a second call still gets the refusal, not a sign-in loop or a dead bridge
				rb.send(t, `{"jsonrpc":"2.0","id":`+strconv.Itoa(id)+`,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
				assertReason(t, "tools/call", rb.until(t, float64(id)), c.why)
				requests++
			}
			// The bridge is still up and answering: ping goes upstream too, and gets the same refusal.
			rb.send(t, `{"jsonrpc":"2.0","id":9,"method":"ping"}`)
			if m := rb.until(t, float64(9)); m["result"] == nil {
				assertReason(t, "ping", m, c.why)
			}
			requests++
			for _, w := range c.why {
				if !containsReason(rb.stderr.String(), w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if strings.Contains(rb.stderr.String(), "open this URL in a browser") {
				t.Error("the bridge offered a sign-in URL")
			}
			checkRefused(t, hs, c, record, work, requests)
			if t.Failed() {
				t.Logf("server: %s", hs.counts())
			}
		})
	}
}

// assertReason checks that a JSON-RPC answer is a refusal (an error, or a tool result with isError) whose text
// carries every string in why.
func assertReason(t *testing.T, what string, m map[string]any, why []string) {
	t.Helper()
	b, _ := json.Marshal(m)
	res, _ := m["result"].(map[string]any)
	if m["error"] == nil && (res == nil || res["isError"] != true) {
		t.Errorf("%s must be refused, got %s", what, b)
		return
	}
	for _, w := range why {
		if !containsReason(string(b), w) {
			t.Errorf("%s's answer lacks %q: %s", what, w, b)
		}
	}
}

// containsReason reports whether s holds reason as is, JSON-encoded (a JSON-RPC error) or Go-quoted (a log
// line's err="…" attribute).
func containsReason(s, reason string) bool {
	enc, _ := json.Marshal(reason)
	return strings.Contains(s, reason) || strings.Contains(s, strings.Trim(string(enc), `"`)) ||
		strings.Contains(s, strings.Trim(strconv.Quote(reason), `"`))
}
