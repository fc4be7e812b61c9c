package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// executeRequest is a mesh_execute call with a progress token.
func executeRequest(steps int, token string) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = "mesh_execute"
	req.Params.Arguments = map[string]any{"task": "draft the incident report", "steps": steps}
	req.Params.Meta = &mcp.Meta{ProgressToken: token}
	return req
}

func TestExecuteProgress(t *testing.T) {
	r := start(t, 5*time.Millisecond)
	var got notes
	c := connect(t, r)
	c.OnNotification(got.add)
	//lint:ignore SA1019 this session-based (2025-11-25) client asks for the log messages mesh_execute sends
	if err := c.SetLevel(testCtx(t), mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelInfo}}); err != nil {
		t.Fatalf("SetLevel: %v", err)
	}

	const steps = 7
	res, err := c.CallTool(testCtx(t), executeRequest(steps, "tok-1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("result %+v", res)
	}
	progress := got.of("notifications/progress")
	if len(progress) != steps {
		t.Fatalf("got %d progress notifications, want %d", len(progress), steps)
	}
	for i, n := range progress {
		p := n.Params.AdditionalFields
		want := fmt.Sprintf("step %d/%d: ", i+1, steps)
		msg, _ := p["message"].(string)
		if p["progressToken"] != "tok-1" || p["progress"] != float64(i+1) || p["total"] != float64(steps) ||
			!strings.HasPrefix(msg, want) || !strings.Contains(msg, " is ") {
			t.Errorf("progress %d: %v", i+1, p)
		}
	}
	logs := got.of("notifications/message")
	if len(logs) != 1 || logs[0].Params.AdditionalFields["level"] != "info" ||
		!strings.Contains(fmt.Sprint(logs[0].Params.AdditionalFields["data"]), "draft the incident report") {
		t.Errorf("log messages %+v", logs)
	}
}

func TestExecuteWithoutTokenSendsNoProgress(t *testing.T) {
	r := start(t, time.Millisecond)
	var got notes
	c := connect(t, r)
	c.OnNotification(got.add)
	callTool(t, c, "mesh_execute", map[string]any{"task": "x", "steps": 3})
	if n := len(got.of("notifications/progress")); n != 0 {
		t.Errorf("got %d progress notifications without a token", n)
	}
}

// TestExecuteCancelContext cancels the call's context in the mcp-go client. Over Streamable HTTP the client
// then just drops the POST; the server cancels the call once ResumeGrace passes without a resume, and says so.
func TestExecuteCancelContext(t *testing.T) {
	r, cancels := startLogged(t, 5*time.Millisecond)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var got notes
	c := connect(t, r)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		got.add(n)
		if len(got.of("notifications/progress")) == 3 {
			cancel()
		}
	})
	const steps = maxSteps
	dropped := time.Now()
	if _, err := c.CallTool(ctx, executeRequest(steps, "tok-cancel")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CallTool error %v, want context.Canceled", err)
	}
	if cause := cancels.oneCause(t); cause != errAbandoned.Error() {
		t.Errorf("cancelled because %q; want %q, after the resume grace period", cause, errAbandoned)
	}
	stopped := time.Since(dropped)
	if done := r.srv.stats.steps.Load(); done >= steps || r.srv.stats.completed.Load() != 0 {
		t.Fatalf("handler ran %d of %d steps and completed %d times", done, steps, r.srv.stats.completed.Load())
	}
	t.Logf("handler stopped %v after the client dropped the POST, after %d steps", stopped, r.srv.stats.steps.Load())
}

// TestExecuteCancelNotification sends notifications/cancelled, which stops the call at once: the POST stream stays
// open, so the resume grace period never starts, and the call would otherwise run all maxSteps.
func TestExecuteCancelNotification(t *testing.T) {
	r, cancels := startLogged(t, 5*time.Millisecond)
	s := rawSession(t, r)
	resp, br := s.callExecute(testCtx(t), 42, maxSteps, "tok-n")
	defer resp.Body.Close()
	for seen := 0; seen < 2; {
		ev, err := readEvent(br)
		if err != nil {
			t.Fatal(err)
		}
		if progressOf(ev.message(t)) > 0 {
			seen++
		}
	}
	ack := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled",
		"params": map[string]any{"requestId": 42, "reason": "user pressed stop"}})
	ack.Body.Close()
	if ack.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/cancelled: %d", ack.StatusCode)
	}
	for {
		ev, err := readEvent(br)
		if err != nil {
			t.Fatalf("stream ended without a response: %v", err)
		}
		m := ev.message(t)
		if m["id"] == float64(42) {
			if m["error"] == nil {
				t.Fatalf("cancelled call answered %s", describe(m))
			}
			break
		}
	}
	// mcp-go cancels the handler's context for notifications/cancelled; the server's own causes are typed.
	if cause := cancels.oneCause(t); cause != context.Canceled.Error() {
		t.Errorf("cancelled because %q; want mcp-go's %q for notifications/cancelled", cause, context.Canceled)
	}
	if r.srv.stats.cancelled.Load() != 1 || r.srv.stats.steps.Load() >= maxSteps {
		t.Errorf("stats %d cancelled, %d steps", r.srv.stats.cancelled.Load(), r.srv.stats.steps.Load())
	}
}

// TestDeleteSessionCancelsCalls ends the session while a call runs: the call is cancelled because the session
// ended, not later by the resume grace period.
func TestDeleteSessionCancelsCalls(t *testing.T) {
	r, cancels := startLogged(t, 5*time.Millisecond)
	s := rawSession(t, r)
	resp, br := s.callExecute(testCtx(t), 7, maxSteps, "tok-d")
	defer resp.Body.Close()
	if _, err := readEvent(br); err != nil {
		t.Fatal(err)
	}
	del := s.do(testCtx(t), http.MethodDelete, nil, nil)
	del.Body.Close()
	if del.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", del.StatusCode)
	}
	if cause := cancels.oneCause(t); cause != errSessionEnded.Error() {
		t.Errorf("cancelled because %q; want %q", cause, errSessionEnded)
	}
	after := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "id": 8, "method": "tools/list"})
	body, _ := io.ReadAll(after.Body)
	after.Body.Close()
	if after.StatusCode != http.StatusNotFound {
		t.Errorf("POST after DELETE: %d %s, want 404", after.StatusCode, body)
	}
}

// TestConcurrentCallsOneSession runs two calls with progress at once in one session. The mcp-go client merges
// all streams of a session, so each call gets all its progress, although mcp-go's server spreads the
// notifications of both calls over both POST streams (see TestProgressFollowsTheSession).
func TestConcurrentCallsOneSession(t *testing.T) {
	r := start(t, 5*time.Millisecond)
	var got notes
	c := connect(t, r)
	c.OnNotification(got.add)
	errs := make(chan error, 2)
	for _, tok := range []string{"a", "b"} {
		go func() {
			_, err := c.CallTool(testCtx(t), executeRequest(10, tok))
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	count := map[any]int{}
	for _, n := range got.of("notifications/progress") {
		count[n.Params.AdditionalFields["progressToken"]]++
	}
	if count["a"] != 10 || count["b"] != 10 {
		t.Errorf("progress per token %v, want 10 each", count)
	}
}
