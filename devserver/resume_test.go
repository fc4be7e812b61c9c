package devserver

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestResumeBrokenPostStream breaks the SSE stream of a tools/call after two events and resumes it with a
// GET carrying Last-Event-ID: the remaining progress and the result arrive, none twice.
func TestResumeBrokenPostStream(t *testing.T) {
	const steps = 12
	r := start(t, 20*time.Millisecond)
	s := rawSession(t, r)

	resp, br := s.callExecute(testCtx(t), 9, steps, "tok-r")
	var lastID string
	seen := map[int]bool{}
	for len(seen) < 2 {
		ev, err := readEvent(br)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID == "" {
			t.Fatalf("event without id on a resumable stream: %s", ev.Data)
		}
		lastID = ev.ID
		if p := progressOf(ev.message(t)); p > 0 {
			seen[p] = true
		}
	}
	resp.Body.Close() // the connection breaks mid-call

	get := s.do(testCtx(t), http.MethodGet, nil, map[string]string{"Accept": "text/event-stream", "Last-Event-ID": lastID})
	defer get.Body.Close()
	if get.StatusCode != http.StatusOK || !strings.HasPrefix(get.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("resume GET: %d %s", get.StatusCode, get.Header.Get("Content-Type"))
	}
	gbr := bufio.NewReader(get.Body)
	ids := map[string]bool{lastID: true}
	for {
		ev, err := readEvent(gbr)
		if err != nil {
			t.Fatalf("resumed stream ended before the result (progress seen %v): %v", seen, err)
		}
		if ids[ev.ID] {
			t.Fatalf("event id %s delivered twice", ev.ID)
		}
		ids[ev.ID] = true
		m := ev.message(t)
		if p := progressOf(m); p > 0 {
			if seen[p] {
				t.Fatalf("progress %d delivered twice", p)
			}
			seen[p] = true
			continue
		}
		if m["id"] != float64(9) {
			t.Fatalf("unexpected message %s", describe(m))
		}
		res, _ := m["result"].(map[string]any)
		sc, _ := res["structuredContent"].(map[string]any)
		if sc["status"] != "completed" || sc["steps"] != float64(steps) {
			t.Fatalf("result %s", describe(m))
		}
		break
	}
	if len(seen) != steps {
		t.Fatalf("saw progress %v, want all %d steps", seen, steps)
	}
	if r.srv.stats.completed.Load() != 1 || r.srv.stats.cancelled.Load() != 0 {
		t.Errorf("call completed %d, cancelled %d", r.srv.stats.completed.Load(), r.srv.stats.cancelled.Load())
	}
}

// TestResumeUnknownEventID asks to resume from an event id the session never issued.
func TestResumeUnknownEventID(t *testing.T) {
	r := start(t, 0)
	s := rawSession(t, r)
	get := s.do(testCtx(t), http.MethodGet, nil, map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "999999"})
	get.Body.Close()
	if get.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", get.StatusCode)
	}
}

// TestProgressFollowsTheSession documents mcp-go's routing: notifications go to the session, not to the
// request. With a standalone GET stream open, a call's progress is split between its POST stream and the
// GET stream; once the GET has been opened, progress sent while it is disconnected is recorded on it and
// only reaches a client that resumes it with Last-Event-ID. Nothing is lost across the streams.
func TestProgressFollowsTheSession(t *testing.T) {
	const steps = 10
	r := start(t, 5*time.Millisecond)
	s := rawSession(t, r)

	get := s.do(testCtx(t), http.MethodGet, nil, map[string]string{"Accept": "text/event-stream"})
	if get.StatusCode != http.StatusOK {
		t.Fatalf("standalone GET: %d", get.StatusCode)
	}
	var mu sync.Mutex
	onGet, lastGetID := 0, ""
	marked := make(chan struct{})
	go func() {
		gbr := bufio.NewReader(get.Body)
		for {
			ev, err := readEvent(gbr)
			if err != nil {
				return
			}
			m := ev.message(t)
			mu.Lock()
			if progressOf(m) > 0 {
				onGet++
			}
			lastGetID = ev.ID
			mu.Unlock()
			if m["method"] == "notifications/message" {
				close(marked)
			}
		}
	}()

	onPost := countProgress(t, s, 1, steps, "first")
	waitFor(t, "all progress on one of the streams", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return onPost+onGet == steps
	})
	// Which stream carried the progress is a race; a notification sent with no request in flight can only go to
	// the GET stream, so it always has an event id to resume from.
	r.srv.mcp.SendNotificationToAllClients("notifications/message", map[string]any{"level": "info", "data": "mark"})
	select {
	case <-marked:
	case <-time.After(hangGuard):
		t.Fatal("the GET stream never got the notification sent with no request in flight")
	}
	mu.Lock()
	t.Logf("GET open: %d progress on the POST stream, %d on the GET stream", onPost, onGet)
	resumeFrom := lastGetID
	mu.Unlock()
	if resumeFrom == "" {
		t.Fatal("the GET stream's events carry no id, so it cannot be resumed")
	}
	get.Body.Close()

	onPost = countProgress(t, s, 2, steps, "second")
	replay := s.do(testCtx(t), http.MethodGet, nil, map[string]string{"Accept": "text/event-stream", "Last-Event-ID": resumeFrom})
	defer replay.Body.Close()
	rbr := bufio.NewReader(replay.Body)
	onReplay := 0
	for onPost+onReplay < steps {
		ev, err := readEvent(rbr)
		if err != nil {
			t.Fatalf("replay ended with %d+%d of %d: %v", onPost, onReplay, steps, err)
		}
		if progressOf(ev.message(t)) > 0 {
			onReplay++
		}
	}
	t.Logf("GET closed: %d progress on the POST stream, %d recorded on the GET stream and replayed", onPost, onReplay)
}

// countProgress runs mesh_execute on a raw POST and counts the progress events its own stream carries.
func countProgress(t *testing.T, s *raw, id, steps int, token string) int {
	t.Helper()
	resp, br := s.callExecute(testCtx(t), id, steps, token)
	defer resp.Body.Close()
	n := 0
	for {
		ev, err := readEvent(br)
		if err != nil {
			t.Fatalf("POST stream ended before the result: %v", err)
		}
		m := ev.message(t)
		if m["id"] == float64(id) {
			return n
		}
		if progressOf(m) > 0 {
			n++
		}
	}
}

// TestResponsesStaySSEAfterANotification documents that mcp-go upgrades a session, not a request, to SSE:
// once any notification has been sent in the session, every later response, even tools/list, is an
// SSE stream whose events carry ids and are kept in the event store until the session ends.
func TestResponsesStaySSEAfterANotification(t *testing.T) {
	r := start(t, time.Millisecond)
	s := rawSession(t, r)
	list := func(id int) string {
		resp := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/list"})
		defer resp.Body.Close()
		return resp.Header.Get("Content-Type")
	}
	if ct := list(2); ct != "application/json" {
		t.Fatalf("tools/list before any notification: %q", ct)
	}
	countProgress(t, s, 3, 1, "p")
	resp := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "id": 4, "method": "tools/list"})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("tools/list after a notification: %q", ct)
	}
	ev, err := readEvent(bufio.NewReader(resp.Body))
	if err != nil || ev.ID == "" || ev.message(t)["id"] != float64(4) {
		t.Fatalf("event %+v, %v: want the response with an event id", ev, err)
	}
}
