package e2e

// Helpers of recovery_test.go: the reference server behind a recorder of every request the bridge made (and the
// means to hold one, to lift the faults as an answer goes out, or to refuse the tokens issued so far), a scripted
// browser whose behaviour the test switches, and a raw session on the bridge that keeps every message it read.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// recHit is one request the server answered.
type recHit struct {
	Path   string
	RPC    string // the JSON-RPC method of a POST to an MCP endpoint
	Grant  string // the grant_type of a token request
	Status int
}

// recServer is an OAuth reference server that records what it was asked. It is served with devserver.New, so the
// issuer comes from each request's Host, as in hostile_auth_test.go.
type recServer struct {
	*devserver.Server
	URL string

	inner   http.Handler
	mu      sync.Mutex
	hits    []recHit
	gates   map[string]chan struct{}           // path prefix → closed once released
	lift    func(path string, status int) bool // clears the faults before the first answer it matches goes out
	seen    map[string]bool                    // bearer tokens sent to the MCP endpoint so far
	refused map[string]bool                    // bearer tokens the server now treats as revoked
}

// startRecServer serves cfg, with OAuth, auto-approval and short steps, for the test.
func startRecServer(t *testing.T, cfg devserver.Config) *recServer {
	t.Helper()
	cfg.OAuth, cfg.AutoApprove, cfg.Step = true, true, 5*time.Millisecond
	s := &recServer{Server: devserver.New(cfg), gates: map[string]chan struct{}{}, seen: map[string]bool{}, refused: map[string]bool{}}
	s.inner = s.Handler()
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	t.Cleanup(s.releaseAll) // first: a held request must not keep Close waiting
	s.URL = ts.URL
	return s
}

func (s *recServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := recHit{Path: r.URL.Path}
	mcpPath := h.Path == "/v1/mcp" || h.Path == "/mcp"
	if r.Method == http.MethodPost && (mcpPath || h.Path == "/oauth/token") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if mcpPath {
			var m struct {
				Method string `json:"method"`
			}
			_ = json.Unmarshal(body, &m)
			h.RPC = m.Method
		} else {
			form, _ := url.ParseQuery(string(body))
			h.Grant = form.Get("grant_type")
		}
	}
	if !s.await(r) {
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && mcpPath {
		s.mu.Lock()
		s.seen[tok] = true
		if s.refused[tok] {
			r.Header.Del("Authorization") // the server answers as to a request without a valid token: 401 and its challenge
		}
		s.mu.Unlock()
	}
	rw := &recWriter{ResponseWriter: w, s: s, path: h.Path}
	s.inner.ServeHTTP(rw, r)
	h.Status = rw.status
	s.mu.Lock()
	s.hits = append(s.hits, h)
	s.mu.Unlock()
}

// await holds r while a gate covers its path; false when the client gave up first.
func (s *recServer) await(r *http.Request) bool {
	s.mu.Lock()
	var gate chan struct{}
	for prefix, g := range s.gates {
		if strings.HasPrefix(r.URL.Path, prefix) {
			gate = g
		}
	}
	s.mu.Unlock()
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		return false
	}
}

// hold makes the server hold every request whose path starts with prefix until release is called.
func (s *recServer) hold(prefix string) (release func()) {
	g := make(chan struct{})
	s.mu.Lock()
	s.gates[prefix] = g
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(g) }) }
}

func (s *recServer) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, g := range s.gates {
		select {
		case <-g:
		default:
			close(g)
		}
		delete(s.gates, prefix)
	}
}

// liftOn clears the faults just before the first answer that match reports true for goes out, so whatever the
// bridge sends after reading it meets no fault.
func (s *recServer) liftOn(match func(path string, status int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lift = match
}

// refuseIssued makes the server refuse every token the bridge has sent so far, as if they had been revoked.
func (s *recServer) refuseIssued() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.seen {
		s.refused[tok] = true
	}
}

// count is how many answered requests match.
func (s *recServer) count(match func(recHit) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.hits {
		if match(h) {
			n++
		}
	}
	return n
}

// authorizations counts requests at the authorization endpoint: the browser's visits.
func (s *recServer) authorizations() int {
	return s.count(func(h recHit) bool { return h.Path == "/oauth/authorize" })
}

// registrations counts clients the server registered.
func (s *recServer) registrations() int {
	return s.count(func(h recHit) bool { return h.Path == "/oauth/register" && h.Status/100 == 2 })
}

// tokenRequests counts token requests of grant type grant that the server did not refuse with 429.
func (s *recServer) tokenRequests(grant string) int {
	return s.count(func(h recHit) bool {
		return h.Path == "/oauth/token" && h.Grant == grant && h.Status != http.StatusTooManyRequests
	})
}

// tooMany counts the 429 answers on path.
func (s *recServer) tooMany(path string) int {
	return s.count(func(h recHit) bool { return h.Path == path && h.Status == http.StatusTooManyRequests })
}

// received counts the JSON-RPC messages of method that reached the MCP endpoint and were accepted.
func (s *recServer) received(method string) int {
	return s.count(func(h recHit) bool { return h.RPC == method && h.Status/100 == 2 })
}

// recWriter notes the status of an answer and lifts the faults when the server's liftOn asks for it.
type recWriter struct {
	http.ResponseWriter
	s      *recServer
	path   string
	status int
}

func (w *recWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.s.mu.Lock()
		lift := w.s.lift != nil && w.s.lift(w.path, code)
		if lift {
			w.s.lift = nil
		}
		w.s.mu.Unlock()
		if lift {
			w.s.SetFaults()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Browser modes of a recBrowser.
const (
	browserAuto  = "auto"  // fetch the URL at once: the auto-approving server completes the sign-in
	browserHold  = "hold"  // fetch it once the test releases the browser
	browserNever = "never" // record the URL and do nothing, as a user who never looks
)

// recBrowser is a --browser-command that records each URL it is given, then behaves as its mode says.
type recBrowser struct {
	command, dir string
}

func newRecBrowser(t *testing.T, mode string) *recBrowser {
	t.Helper()
	b := &recBrowser{dir: t.TempDir()}
	b.command = filepath.Join(b.dir, "browser")
	script := fmt.Sprintf(`#!/bin/sh
d='%s'
printf '%%s\n' "$@" >> "$d/opened"
case "$(cat "$d/mode")" in
%s) exit 0 ;;
%s) while [ ! -e "$d/release" ]; do [ -d "$d" ] || exit 0; sleep 0.02; done ;;
esac
exec '%s' "$@"
`, b.dir, browserNever, browserHold, fetchBin)
	if err := os.WriteFile(b.command, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b.setMode(t, mode)
	t.Cleanup(func() { b.release(t) }) // a held browser ends with the test
	return b
}

// setMode switches what the browser does the next time it is opened.
func (b *recBrowser) setMode(t *testing.T, mode string) {
	t.Helper()
	tmp := filepath.Join(b.dir, "mode.tmp")
	if err := os.WriteFile(tmp, []byte(mode), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(b.dir, "mode")); err != nil {
		t.Fatal(err)
	}
}

// release lets a held browser go on to the sign-in page.
func (b *recBrowser) release(t *testing.T) {
	if err := os.WriteFile(filepath.Join(b.dir, "release"), nil, 0o644); err != nil && !os.IsNotExist(err) {
		t.Error(err)
	}
}

// opens is how many times the bridge opened the browser.
func (b *recBrowser) opens() int {
	data, _ := os.ReadFile(filepath.Join(b.dir, "opened"))
	return strings.Count(string(data), "\n")
}

// recSession drives a bridge with raw JSON-RPC lines and keeps every message it read, so a wait for one
// message never loses another.
type recSession struct {
	t    *testing.T
	rb   *rawBridge
	msgs []map[string]any
	seq  int
}

func newRecSession(t *testing.T, env []string, args ...string) *recSession {
	t.Helper()
	s := &recSession{t: t, rb: startRawIn(t, t.TempDir(), env, args...), seq: 100}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client's stdout:\n%s", s.stdout())
		}
	})
	return s
}

func (s *recSession) read() map[string]any {
	s.t.Helper()
	m := s.rb.next(s.t)
	s.msgs = append(s.msgs, m)
	return m
}

// send sends a request and returns its id.
func (s *recSession) send(method, params string) float64 {
	s.t.Helper()
	s.seq++
	if params == "" {
		params = "{}"
	}
	s.rb.send(s.t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, s.seq, method, params))
	return float64(s.seq)
}

// sendCalls sends n calls of list_agents at once and returns their ids.
func (s *recSession) sendCalls(n int) []float64 {
	s.t.Helper()
	var ids []float64
	for range n {
		ids = append(ids, s.send("tools/call", `{"name":"list_agents","arguments":{}}`))
	}
	return ids
}

// notify sends a notification.
func (s *recSession) notify(method string) {
	s.t.Helper()
	s.rb.send(s.t, fmt.Sprintf(`{"jsonrpc":"2.0","method":%q}`, method))
}

// answer returns the answer to request id, read already or the next to come.
func (s *recSession) answer(id float64) map[string]any {
	s.t.Helper()
	return s.await(0, fmt.Sprintf("the answer to request %v", id), func(m map[string]any) bool { return m["id"] == id && m["method"] == nil })
}

// call sends a request and returns its answer.
func (s *recSession) call(method, params string) map[string]any {
	s.t.Helper()
	return s.answer(s.send(method, params))
}

// mark is where messages read from now on start.
func (s *recSession) mark() int { return len(s.msgs) }

// await returns the first message from index from on that match accepts, reading until one comes.
func (s *recSession) await(from int, what string, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	for i := from; ; i++ {
		for i >= len(s.msgs) {
			s.read()
		}
		if match(s.msgs[i]) {
			return s.msgs[i]
		}
		if len(s.msgs) > 10000 {
			s.t.Fatalf("no %s among 10000 messages", what)
		}
	}
}

// initialize runs the client's handshake and returns the result, failing the test on an error.
func (s *recSession) initialize() map[string]any {
	s.t.Helper()
	m := s.call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"recovery","version":"1"}}`)
	res, _ := m["result"].(map[string]any)
	if res == nil {
		s.t.Fatalf("the handshake must be answered with a result, whatever failed; got %v", m)
	}
	return res
}

// tool calls a tool and returns its text and isError; a JSON-RPC error fails the test.
func (s *recSession) tool(name string) (text string, isError bool) {
	s.t.Helper()
	m := s.call("tools/call", fmt.Sprintf(`{"name":%q,"arguments":{}}`, name))
	res, _ := m["result"].(map[string]any)
	if res == nil {
		s.t.Fatalf("tools/call %s: want a tool result, got %v", name, m)
	}
	return asText(res), res["isError"] == true
}

// tools lists the tool names.
func (s *recSession) tools() []string {
	s.t.Helper()
	m := s.call("tools/list", "")
	res, _ := m["result"].(map[string]any)
	list, _ := res["tools"].([]any)
	if res == nil {
		s.t.Fatalf("tools/list: %v", m)
	}
	var names []string
	for _, tl := range list {
		if tl, ok := tl.(map[string]any); ok {
			name, _ := tl["name"].(string)
			names = append(names, name)
		}
	}
	return names
}

// isLog reports whether m is a log message to the client at level.
func isLog(m map[string]any, level string) bool {
	p, _ := m["params"].(map[string]any)
	return m["method"] == "notifications/message" && p["level"] == level
}

func logText(m map[string]any) string {
	p, _ := m["params"].(map[string]any)
	s, _ := p["data"].(string)
	return s
}

func isToolsChanged(m map[string]any) bool { return m["method"] == "notifications/tools/list_changed" }

// stdout is every message the session read, as text.
func (s *recSession) stdout() string {
	var b strings.Builder
	for _, m := range s.msgs {
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// title is serverInfo.title of an initialize result.
func title(init map[string]any) string {
	info, _ := init["serverInfo"].(map[string]any)
	s, _ := info["title"].(string)
	return s
}

// standsIn reports whether an initialize result is the bridge's own, given while the server cannot be reached
// (its title then names the cause: "(signing in)", "(rate limited)", "(not connected)"…).
func standsIn(init map[string]any) bool {
	info, _ := init["serverInfo"].(map[string]any)
	return info["name"] == "meshai-mcp-server"
}

// runBridgeCommand runs `meshai-mcp-server args…` with env and returns its output, whatever its exit status.
func runBridgeCommand(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bridgeBin, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// signedIn asks `meshai-mcp-server status` whether the config dir of env holds a sign-in to serverURL.
func signedIn(t *testing.T, env []string, serverURL string) (bool, string) {
	t.Helper()
	out := runBridgeCommand(t, env, "status", serverURL)
	switch {
	case strings.Contains(out, "Signed in to"):
		return true, out
	case strings.Contains(out, "Not signed in"):
		return false, out
	}
	t.Errorf("status says neither signed in nor not: %s", out)
	return false, out
}

// checkClaim holds the meshai_sign_in tool's text to what `status` says: "You are signed in" only when it is.
func checkClaim(t *testing.T, env []string, serverURL, toolText string) {
	t.Helper()
	in, out := signedIn(t, env, serverURL)
	claims := strings.Contains(toolText, "You are signed in")
	if in != claims {
		t.Errorf("the sign-in tool says %q while status says:\n%s", toolText, out)
	}
}

// recLogin signs in with `meshai-mcp-server login` and the auto browser.
func recLogin(t *testing.T, env []string, b *recBrowser, serverURL string) {
	t.Helper()
	if out := runBridgeCommand(t, env, "login", "--browser-command", b.command, serverURL); !strings.Contains(out, "Signed in to") {
		t.Fatalf("login: %s", out)
	}
}

// lacking returns the words of want that s lacks.
func lacking(s string, want []string) []string {
	var out []string
	for _, w := range want {
		if !containsReason(s, w) {
			out = append(out, w)
		}
	}
	return out
}

// waitUntil waits for cond, failing the test after 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	waitFor(t, ctx, what, cond)
}

// hasTool reports whether names holds name.
func hasTool(names []string, name string) bool { return slices.Contains(names, name) }
