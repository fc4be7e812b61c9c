package bridge

import (
	"strings"
	"testing"
	"time"
)

// Whatever the timing of a failure — a sign-in refused in its first millisecond, or the server refusing the
// handshake for its own reasons — the client's handshake holds, the sign-in tool says what failed, calling it
// tries again, and once that succeeds the real tools appear with list_changed.
func TestEarlyFailureKeepsTheHandshake(t *testing.T) {
	for _, tc := range []struct {
		name, refusal string
		failSignIn    bool   // the sign-in itself fails (else only the server refuses)
		title         string // the relay's initialize answer names the cause, not a sign-in that is not the cause
	}{
		{"sign-in denied at once", "access_denied: The user denied the request", true, "MeshAI (sign-in failed)"},
		{"server refuses initialize", "the server is rate limiting: retry after 45s", false, "MeshAI (not connected)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			si := &fakeSignIn{}
			r := &Relay{SignIn: si, SignInWait: time.Hour, ServerName: "MeshAI"} // only a failure may stand in
			srv := &slowServer{relay: r, caps: `{"tools":{"listChanged":true}}`, gate: make(chan string, 1)}
			r.Up = srv
			s := startSession(t, r)
			if tc.failSignIn {
				si.setState(SignInState{Phase: SignInFailed, Problem: tc.refusal})
			}
			srv.gate <- tc.refusal
			s.send(initLine)
			init := s.until("initialize answer", hasID(1))
			if init["error"] != nil || init["result"].(map[string]any)["serverInfo"].(map[string]any)["title"] != tc.title ||
				!strings.Contains(init["result"].(map[string]any)["instructions"].(string), tc.refusal) {
				t.Fatalf("initialize answer: %v", init)
			}
			s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
			if names := toolNames(s.until("tools/list", hasID(2))); len(names) != 1 || names[0] != SignInTool {
				t.Fatalf("tools after the failure: %v", names)
			}
			s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"mesh_execute"}}`)
			if text := resultText(s.until("early call", hasID(3))); !strings.Contains(text, tc.refusal) {
				t.Errorf("a real tool's call says %q, want the cause", text)
			}
			si.onRetry = func() { si.set(true, "https://as.example/again") }
			s.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"meshai_sign_in"}}`)
			text := resultText(s.until("sign-in tool", hasID(4)))
			if !strings.Contains(text, tc.refusal) || !strings.Contains(text, "https://as.example/again") {
				t.Errorf("sign-in tool does not say what failed and where to sign in: %q", text)
			}
			if strings.Contains(text, "You are signed in") {
				t.Errorf("sign-in tool claims a sign-in: %q", text)
			}
			si.set(false, "") // the user signs in: the cause is gone
			srv.gate <- ""
			s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
			s.send(`{"jsonrpc":"2.0","id":5,"method":"tools/list"}`)
			if names := toolNames(s.until("tools/list", hasID(5))); strings.Join(names, ",") != "mesh_execute,list_agents,Admin_Delete" {
				t.Errorf("tools once connected: %v", names)
			}
			s.send(`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"meshai_sign_in"}}`)
			if text := resultText(s.until("sign-in tool", hasID(6))); !strings.Contains(text, "signed in") {
				t.Errorf("sign-in tool once connected: %q", text)
			}
			if si.retries != 1 {
				t.Errorf("Retry called %d times, want 1 (by the tool only)", si.retries)
			}
		})
	}
}

// A session that loses its sign-in (a revoked grant, a deleted store) offers the sign-in tool again, with
// list_changed, and withdraws it once signed in; the server's tools come back.
func TestLostSignInOffersTheTool(t *testing.T) {
	si := &fakeSignIn{}
	si.set(false, "")
	r := &Relay{SignIn: si, SignInWait: time.Hour, ServerName: "MeshAI"}
	srv := &slowServer{relay: r, caps: `{"tools":{}}`, gate: make(chan string, 1)}
	r.Up = srv
	s := startSession(t, r)
	srv.gate <- ""
	s.send(initLine)
	if res := s.until("initialize", hasID(1))["result"].(map[string]any); res["serverInfo"].(map[string]any)["name"] != "real" {
		t.Fatalf("initialize: %v", res)
	}
	si.setState(SignInState{Phase: SignInFailed, Problem: "the grant was revoked"})
	s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(2))); len(names) != 1 || names[0] != SignInTool {
		t.Fatalf("tools after losing the sign-in: %v", names)
	}
	si.onRetry = func() { si.set(true, "https://as.example/x") }
	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"meshai_sign_in"}}`)
	if text := resultText(s.until("sign-in tool", hasID(3))); !strings.Contains(text, "the grant was revoked") || !strings.Contains(text, "https://as.example/x") {
		t.Errorf("sign-in tool: %q", text)
	}
	si.set(false, "")
	s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
	s.send(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(4))); len(names) != 3 {
		t.Fatalf("tools once signed in again: %v", names)
	}
}

// When the server refused the handshake for a cause of its own (no sign-in involved), the client's next request
// connects again: once the cause is gone the tools come back without anyone calling the sign-in tool.
func TestNextRequestConnectsAgain(t *testing.T) {
	si := &fakeSignIn{}
	r := &Relay{SignIn: si, SignInWait: time.Hour, ServerName: "MeshAI"}
	srv := &slowServer{relay: r, caps: `{"tools":{"listChanged":true}}`, gate: make(chan string, 1)}
	r.Up = srv
	s := startSession(t, r)
	srv.gate <- "the server is down"
	s.send(initLine)
	s.until("initialize answer", hasID(1))
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	srv.gate <- "" // the server is back
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(2))); len(names) != 1 || names[0] != SignInTool {
		t.Fatalf("tools/list while the connection is retried: %v", names)
	}
	s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
	if names := toolNames(s.until("tools/list", hasID(3))); len(names) != 3 {
		t.Fatalf("tools once the server is back: %v", names)
	}
	if si.retries != 0 {
		t.Errorf("Retry called %d times: a request is no user's retry", si.retries)
	}
}
