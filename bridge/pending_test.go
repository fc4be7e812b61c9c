package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// fakeSignIn is a sign-in whose state the test sets.
type fakeSignIn struct {
	mu      sync.Mutex
	st      SignInState
	changed chan struct{}
	retries int
	onRetry func() // runs after a Retry, as a new sign-in starting
}

func (f *fakeSignIn) Watch() (SignInState, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.st, f.changed
}

func (f *fakeSignIn) Retry() {
	f.mu.Lock()
	f.retries++
	f.mu.Unlock()
	if st, _ := f.Watch(); st.Phase == SignInFailed {
		f.setState(SignInState{Phase: SignedOut})
	}
	if f.onRetry != nil {
		f.onRetry()
	}
}

func (f *fakeSignIn) setState(st SignInState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
	if f.changed != nil {
		close(f.changed)
	}
	f.changed = make(chan struct{})
}

// set is the old shape of setState: active means signing in.
func (f *fakeSignIn) set(active bool, url string) {
	if active {
		f.setState(SignInState{Phase: SigningIn, URL: url})
	} else {
		f.setState(SignInState{Phase: SignedIn})
	}
}

// slowServer holds initialize until admit is called (or answers it with an error through refuse), and answers
// tools/list with three tools; it answers through the relay's Deliver, as remote.Client does.
type slowServer struct {
	relay *Relay
	caps  string
	gate  chan string // "" admits, anything else refuses with that message
	mu    sync.Mutex
	sent  []jsonrpc.Message
}

func (s *slowServer) Send(m jsonrpc.Message) {
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	if m.Kind != jsonrpc.KindRequest {
		return
	}
	switch m.Method {
	case "initialize":
		if msg := <-s.gate; msg != "" {
			s.relay.Deliver(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeUpstream, msg, nil))
			return
		}
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]any{
			"protocolVersion": "2025-06-18", "capabilities": json.RawMessage(s.caps), "serverInfo": map[string]string{"name": "real"}}})
		s.relay.Deliver(b)
	case "tools/list":
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]any{
			"tools": []map[string]string{{"name": "mesh_execute"}, {"name": "list_agents"}, {"name": "Admin_Delete"}}}})
		s.relay.Deliver(b)
	default:
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]string{"from": "server"}})
		s.relay.Deliver(b)
	}
}

func (s *slowServer) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sent {
		out = append(out, m.Method)
	}
	return out
}

func (s *slowServer) Close(context.Context) error { return nil }

// session drives a Relay over pipes, as a desktop client does.
type session struct {
	t    *testing.T
	in   *io.PipeWriter
	out  chan map[string]any
	done chan error
}

func startSession(t *testing.T, r *Relay) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r.In, r.Out = inR, NewWriter(outW)
	s := &session{t: t, in: inW, out: make(chan map[string]any, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
			}
			s.out <- m
		}
	}()
	go func() { s.done <- r.Run(context.Background()); outW.Close() }()
	t.Cleanup(func() { inW.Close(); <-s.done })
	return s
}

func (s *session) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

// next returns the next message for the client.
func (s *session) next() map[string]any {
	s.t.Helper()
	select {
	case m := <-s.out:
		return m
	case <-time.After(hangGuard):
		s.t.Fatal("no message for the client")
		return nil
	}
}

// until returns the next message matching pred, failing on none; others are skipped.
func (s *session) until(what string, pred func(map[string]any) bool) map[string]any {
	s.t.Helper()
	for {
		if m := s.next(); pred(m) {
			return m
		} else if m == nil {
			s.t.Fatalf("no %s", what)
		}
	}
}

func hasID(id float64) func(map[string]any) bool {
	return func(m map[string]any) bool { v, ok := m["id"].(float64); return ok && v == id }
}

func isMethod(method string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["method"] == method }
}

func toolNames(m map[string]any) []string {
	var names []string
	for _, t := range m["result"].(map[string]any)["tools"].([]any) {
		names = append(names, t.(map[string]any)["name"].(string))
	}
	return names
}

func resultText(m map[string]any) string {
	return m["result"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// A sign-in that outlasts SignInWait does not fail the handshake: the relay answers initialize with capabilities
// it can always honour, offers the sign-in tool with the link, connects when the sign-in completes, replays
// notifications/initialized, and tells the client the tool list changed — the real tools then appear.
func TestPendingSignInCompletesTheHandshake(t *testing.T) {
	si := &fakeSignIn{}
	r := &Relay{SignIn: si, SignInWait: 50 * time.Millisecond, ServerName: "MeshAI", Version: "9.9.9", IgnoreTools: []string{"admin_*"}}
	srv := &slowServer{relay: r, caps: `{"tools":{"listChanged":true}}`, gate: make(chan string)}
	r.Up = srv
	s := startSession(t, r)
	si.set(true, "")
	s.send(initLine)
	init := s.until("initialize answer", hasID(1))["result"].(map[string]any)
	if init["protocolVersion"] != "2025-11-25" || init["serverInfo"].(map[string]any)["version"] != "9.9.9" {
		t.Fatalf("own initialize answer: %v", init)
	}
	caps := init["capabilities"].(map[string]any)
	for _, c := range []string{"tools", "prompts", "resources", "logging", "completions"} {
		if caps[c] == nil {
			t.Errorf("capability %s not promised: %v", c, caps)
		}
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	si.set(true, "https://as.example/authorize?x=1")
	if msg := s.until("log message with the link", isMethod("notifications/message")); !strings.Contains(msg["params"].(map[string]any)["data"].(string), "https://as.example/authorize?x=1") {
		t.Errorf("log message: %v", msg)
	}
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(2))); len(names) != 1 || names[0] != SignInTool {
		t.Errorf("tools while pending: %v", names)
	}
	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"meshai_sign_in","arguments":{}}}`)
	if text := resultText(s.until("sign-in tool answer", hasID(3))); !strings.Contains(text, "https://as.example/authorize?x=1") {
		t.Errorf("sign-in tool text: %q", text)
	}
	s.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"mesh_execute","arguments":{}}}`)
	if res := s.until("early call", hasID(4))["result"].(map[string]any); res["isError"] != true {
		t.Errorf("a real tool called before sign-in: %v", res)
	}
	s.send(`{"jsonrpc":"2.0","id":5,"method":"prompts/list"}`)
	if res := s.until("prompts/list", hasID(5))["result"].(map[string]any); res["prompts"] == nil {
		t.Errorf("prompts/list while pending: %v", res)
	}
	s.send(`{"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"debug"}}`)
	s.until("setLevel", hasID(6))

	si.set(false, "")
	srv.gate <- "" // the sign-in completed: the server answers initialize
	s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
	s.send(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(7))); strings.Join(names, ",") != "mesh_execute,list_agents" {
		t.Errorf("tools after sign-in (admin_* ignored): %v", names)
	}
	// The server has no prompts: the promised capability stays, answered by the relay.
	s.send(`{"jsonrpc":"2.0","id":8,"method":"prompts/list"}`)
	if res := s.until("prompts/list", hasID(8))["result"].(map[string]any); res["prompts"] == nil || res["from"] != nil {
		t.Errorf("prompts/list after sign-in: %v", res)
	}
	s.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"mesh_execute","arguments":{}}}`)
	if res := s.until("call", hasID(9))["result"].(map[string]any); res["from"] != "server" {
		t.Errorf("call after sign-in: %v", res)
	}
	s.send(`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"admin_delete","arguments":{}}}`)
	if e := s.until("ignored call", hasID(10))["error"].(map[string]any); e["code"].(float64) != jsonrpc.CodeInvalidParams {
		t.Errorf("ignored tool call: %v", e)
	}
	got := strings.Join(srv.methods(), ",")
	// logging/setLevel is not replayed: this server has no logging capability.
	if got != "initialize,notifications/initialized,tools/list,tools/call" {
		t.Errorf("the server got %s", got)
	}
}

// A sign-in that ends in an error leaves the session up: the sign-in tool reports it and starts a new attempt.
func TestPendingSignInRetries(t *testing.T) {
	synctest.Test(t, testPendingSignInRetries)
}

func testPendingSignInRetries(t *testing.T) {
	si := &fakeSignIn{}
	r := &Relay{SignIn: si, SignInWait: 50 * time.Millisecond, ServerName: "MeshAI"}
	srv := &slowServer{relay: r, caps: `{"tools":{},"logging":{}}`, gate: make(chan string)}
	r.Up = srv
	s := startSession(t, r)
	si.set(true, "https://as.example/a")
	s.send(initLine)
	s.until("initialize answer", hasID(1))
	s.send(`{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}`)
	s.until("setLevel", hasID(2))
	si.setState(SignInState{Phase: SignInFailed, Problem: "sign-in did not complete: timed out"})
	srv.gate <- "sign-in did not complete: timed out"
	s.until("error log", func(m map[string]any) bool {
		return m["method"] == "notifications/message" && strings.Contains(m["params"].(map[string]any)["data"].(string), "timed out")
	})
	si.onRetry = func() { si.set(true, "https://as.example/b") }
	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"meshai_sign_in"}}`)
	text := resultText(s.until("sign-in tool", hasID(3)))
	if !strings.Contains(text, "timed out") || !strings.Contains(text, "https://as.example/b") {
		t.Errorf("sign-in tool after a failure: %q", text)
	}
	srv.gate <- ""
	s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
	// The log level the client chose while pending reaches a server that has logging: once the relay has nothing
	// left to do, it has been sent.
	synctest.Wait()
	if got := strings.Join(srv.methods(), ","); got != "initialize,initialize,logging/setLevel" {
		t.Errorf("the server got %s", got)
	}
}

// When the server answers within SignInWait, or no sign-in is under way, the handshake is the server's own. On
// synctest's fake clock the server's answer comes exactly after delay, so "within SignInWait" is not a race.
func TestHandshakeIsTheServersWhenQuick(t *testing.T) {
	for _, tc := range []struct {
		name   string
		active bool
		delay  time.Duration
	}{
		{"no sign-in, slow server", false, 300 * time.Millisecond},
		{"sign-in done in time", true, 149 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				si := &fakeSignIn{}
				si.set(tc.active, "")
				r := &Relay{SignIn: si, SignInWait: 150 * time.Millisecond}
				srv := &slowServer{relay: r, caps: `{"tools":{}}`, gate: make(chan string, 1)}
				r.Up = srv
				s := startSession(t, r)
				go func() { time.Sleep(tc.delay); srv.gate <- "" }()
				s.send(initLine)
				res := s.until("initialize answer", hasID(1))["result"].(map[string]any)
				if res["serverInfo"].(map[string]any)["name"] != "real" {
					t.Errorf("initialize answered by the relay: %v", res)
				}
				s.send(`{"jsonrpc":"2.0","id":2,"method":"prompts/list"}`)
				if res := s.until("prompts/list", hasID(2))["result"].(map[string]any); res["from"] != "server" {
					t.Errorf("prompts/list not relayed: %v", res)
				}
			})
		})
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"delete_*", "delete_user", true},
		{"delete_*", "undelete_user", false},
		{"*_admin", "user_admin", true},
		{"*admin*", "superadmin_tool", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*", "anything", true},
	} {
		if got := wildcard(tc.pat, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}
