package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// Audit finding 1: a first sign-in is denied, so the bridge keeps a registration no sign-in has used; the server
// restarts on the same port and forgets every registration. The retry reuses the old client_id, the server stops
// the browser on its "unknown client_id" page, and the sign-in runs out of --auth-timeout: the bridge must say the
// registration may be the cause and forget it, so the retry after that registers anew and signs in — no logout.
func TestStaleRegistrationAfterDeniedSignIn(t *testing.T) {
	step := 5 * time.Millisecond
	first, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Step: step, Faults: []devserver.Fault{devserver.FaultDeny}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	browser := newRecBrowser(t, browserAuto)
	env := signInEnv(t.TempDir())
	serverURL := first.URL + "/v1/mcp"
	// --auth-timeout is what ends the attempt with the forgotten client (the browser never comes back); the
	// sign-in that succeeds needs only the scripted browser's round trip.
	s := newRecSession(t, env, "--browser-command", browser.command, "--sign-in-wait", "1m", "--auth-timeout", "8s", serverURL)
	s.initialize()
	s.notify("notifications/initialized")
	denied := s.await(0, "the denied sign-in's error", func(m map[string]any) bool { return isLog(m, "error") })
	if !strings.Contains(logText(denied), "access_denied") {
		t.Fatalf("the first sign-in's error: %s", logText(denied))
	}

	// The server restarts on the same port and knows no registration any more.
	first.Close()
	second, err := devserver.Listen(first.Addr, devserver.Config{OAuth: true, AutoApprove: true, Step: step})
	if err != nil {
		t.Fatalf("restart the server on %s: %v", first.Addr, err)
	}
	t.Cleanup(func() { second.Close() })

	from := s.mark()
	s.tool("meshai_sign_in")
	stale := s.await(from, "the retry's timeout", func(m map[string]any) bool {
		return isLog(m, "error") && strings.Contains(logText(m), "not completed in the browser")
	})
	if miss := lacking(logText(stale), []string{"may no longer know this app's registration", "registers anew"}); len(miss) > 0 {
		t.Fatalf("the retry with the forgotten registration ended with %q, lacking %q", logText(stale), miss)
	}
	t.Logf("the retry ended with: %s", logText(stale))
	if st := second.Stats(); st.Registrations != 0 || st.Authorizations != 1 {
		t.Fatalf("the retry made %d registrations and %d authorization requests, want 0 and 1 (the old client reused)", st.Registrations, st.Authorizations)
	}

	from = s.mark()
	text, _ := s.tool("meshai_sign_in")
	if strings.Contains(text, "You are signed in") {
		t.Errorf("the sign-in tool claims a sign-in while retrying: %q", text)
	}
	s.await(from, "notifications/tools/list_changed once signed in", isToolsChanged)
	if text, isErr := s.tool("list_agents"); isErr {
		t.Errorf("list_agents after the second retry: %q", text)
	}
	if st := second.Stats(); st.Registrations != 1 {
		t.Errorf("%d registrations at the restarted server, want 1", st.Registrations)
	}
	if in, out := signedIn(t, env, serverURL); !in {
		t.Errorf("status after the second retry:\n%s", out)
	}
}
