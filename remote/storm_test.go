package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// stormServer answers initialize, then answers every tools/call POST, every resume of it and every GET stream
// of its own with one event carrying a new id and no message, and ends the stream: the hostile server of the
// resume storm. It notes when each GET came, on the bubble's clock.
type stormServer struct {
	mu      sync.Mutex
	n       int
	resumes []time.Time // GETs resuming the call's stream
	listens []time.Time // GETs of the server's own stream
}

func (s *stormServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	n := s.n
	switch last := r.Header.Get(hdrLastEventID); {
	case r.Method == http.MethodGet && strings.HasPrefix(last, "call-"):
		s.resumes = append(s.resumes, time.Now())
	case r.Method == http.MethodGet:
		s.listens = append(s.listens, time.Now())
	}
	s.mu.Unlock()
	idle := func(prefix string) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: %s-%d\ndata:\n\n", prefix, n)
	}
	if r.Method == http.MethodGet {
		if strings.HasPrefix(r.Header.Get(hdrLastEventID), "call-") {
			idle("call")
		} else {
			idle("listen")
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	m, _ := jsonrpc.Parse(body)
	switch m.Method {
	case "initialize":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(hdrSession, "s1")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"storm","version":"1"}}}`, m.ID)
	case "tools/call":
		idle("call")
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// A server that keeps ending an answer's stream with nothing but a new event id is resumed resumeLimit times,
// with growing waits, and the request then gets an error saying so; its GET stream, answered the same way, is
// asked less and less often, down to once per listenMaxWait. The log stays quiet.
func TestResumeStormIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &stormServer{}
		c, b, logs := stormClient(t, srv, "http://127.0.0.1/mcp", HTTPOnly)

		c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		b.wait(t, `"id":1`)
		c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
		start := time.Now()
		c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`))
		got := b.wait(t, `"id":2`)
		failedAfter := time.Since(start)
		const window = 10 * time.Minute
		time.Sleep(window - failedAfter) // the GET stream goes on meanwhile
		synctest.Wait()

		if !strings.Contains(got, `"error"`) || !strings.Contains(got, "keeps dropping the answer's stream without answering") {
			t.Errorf("answer to the call: %s", got)
		}
		srv.mu.Lock()
		resumes, listens := srv.resumes, srv.listens
		srv.mu.Unlock()
		t.Logf("in %s: %d resumes of the call's stream (failed after %s), %d GET streams opened", window, len(resumes), failedAfter, len(listens))
		if len(resumes) != resumeLimit {
			t.Errorf("the call's stream was resumed %d times, want %d", len(resumes), resumeLimit)
		}
		for i := 2; i < len(resumes); i++ {
			if prev, gap := resumes[i-1].Sub(resumes[i-2]), resumes[i].Sub(resumes[i-1]); gap < prev {
				t.Errorf("resume %d came %s after the one before, sooner than the %s before that", i, gap, prev)
			}
		}
		// Waits double from listenBackoff to listenMaxWait: a handful to get there, then one per listenMaxWait.
		bound := 8 + int(window/listenMaxWait) + 1
		if len(listens) > bound {
			t.Errorf("the GET stream reconnected %d times in %s, want at most %d", len(listens), window, bound)
		}
		if len(listens) < 2 {
			t.Fatalf("the GET stream was opened %d times", len(listens))
		}
		if gap := listens[len(listens)-1].Sub(listens[len(listens)-2]); gap < listenMaxWait {
			t.Errorf("the GET stream's last reconnect came %s after the one before, want %s", gap, listenMaxWait)
		}
		if text := logs(); strings.Count(text, "\n") > 10 {
			t.Errorf("%d log lines at info level over %s of a resume storm:\n%s", strings.Count(text, "\n"), window, text)
		}
	})
}

// stormClient starts, in the test's bubble, srv on an in-memory network and a Client of rawURL in mode, whose
// deliveries go to the inbox returned; logs returns what it logged at info level and above.
func stormClient(t *testing.T, srv http.Handler, rawURL string, mode Mode) (c *Client, b *inbox, logs func() string) {
	ln := newPipeNet()
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	tr := &http.Transport{DialContext: ln.dial}
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	u, _ := url.Parse(rawURL)
	b = &inbox{}
	c = New(Options{URL: u, Mode: mode, HTTPClient: &http.Client{Transport: tr}, Deliver: b.deliver, Logger: log})
	t.Cleanup(func() { // in the bubble: everything it started must end in it
		c.Close(context.Background())
		hs.Close()
		ln.Close()
		tr.CloseIdleConnections()
	})
	return c, b, func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// lockedWriter serializes writes to a buffer that the test reads.
type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// legacyStormServer is a legacy HTTP+SSE server whose every stream names its endpoint, carries the answer to
// initialize and ends a millisecond later: a healthy server's first moment, for ever. It notes when each GET came, on the bubble's
// clock, and refuses GETs after maxGets so that a client that never waits cannot spin the test for ever.
type legacyStormServer struct {
	mu      sync.Mutex
	gets    []time.Time
	calls   []time.Time            // when each tools/call came
	streams map[string]chan []byte // the answer each open stream is to carry, by session
}

const maxGets = 1000

func (s *legacyStormServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		s.gets = append(s.gets, time.Now())
		n := len(s.gets)
		answer := make(chan []byte, 1)
		session := fmt.Sprint(n)
		s.streams[session] = answer
		s.mu.Unlock()
		if n > maxGets {
			http.Error(w, "enough", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: endpoint\ndata: /messages?session=%s\n\n", session)
		w.(http.Flusher).Flush()
		select {
		case a := <-answer:
			fmt.Fprintf(w, "event: message\ndata: %s\n\n", a)
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		case <-r.Context().Done():
		}
		return // the stream ends a moment after the handshake, and the session with it
	}
	body, _ := io.ReadAll(r.Body)
	m, _ := jsonrpc.Parse(body)
	s.mu.Lock()
	answer := s.streams[r.URL.Query().Get("session")]
	if m.Method == "tools/call" {
		s.calls = append(s.calls, time.Now())
	}
	s.mu.Unlock()
	if answer == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	if m.Method == "initialize" {
		answer <- fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2024-11-05","capabilities":{},"serverInfo":{"name":"storm","version":"1"}}}`, m.ID)
	}
	w.WriteHeader(http.StatusAccepted)
}

// A legacy stream that ends as soon as the handshake is done is replaced at once the first time, then less and
// less often, down to once per legacyMaxWait; the log does not grow a line per stream.
func TestLegacyStreamStormIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &legacyStormServer{streams: map[string]chan []byte{}}
		c, b, logs := stormClient(t, srv, "http://127.0.0.1/sse", SSEOnly)

		c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		b.wait(t, `"id":1`)
		c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
		const window = 10 * time.Minute
		time.Sleep(window / 2) // the waits between streams are at their longest by now
		synctest.Wait()
		asked := time.Now()
		c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`))
		time.Sleep(window / 2)
		synctest.Wait()

		srv.mu.Lock()
		gets, calls := srv.gets, srv.calls
		srv.mu.Unlock()
		// A request of the client's does not wait out the backoff: it reconnects at once. Its stream lost, it is
		// sent again once, on the next stream; lost again, it gets an error, not a third run.
		if len(calls) == 0 || calls[0] != asked {
			t.Errorf("the client's call reached the server at %v, want at once (%v)", calls, asked)
		}
		if len(calls) != 2 {
			t.Errorf("the call was posted %d times, want 2 (once, and once again after its stream was lost)", len(calls))
		}
		if got := b.wait(t, `"id":2`); !strings.Contains(got, "ended twice before it answered") {
			t.Errorf("answer to the call: %s", got)
		}
		t.Logf("in %s: %d streams opened, the call posted %d times", window, len(gets), len(calls))
		// Waits double from legacyBackoff to legacyMaxWait: a handful to get there, then one per legacyMaxWait.
		if bound := 10 + int(window/legacyMaxWait) + 1; len(gets) > bound {
			t.Fatalf("the legacy stream was opened %d times in %s, want at most %d", len(gets), window, bound)
		}
		if len(gets) < 3 {
			t.Fatalf("the legacy stream was opened %d times: the lost stream should be replaced", len(gets))
		}
		if gap := gets[1].Sub(gets[0]); gap > time.Millisecond { // the first stream's life, and no wait
			t.Errorf("the first lost stream was replaced %s after it opened, want at once when it ended (1ms)", gap)
		}
		if gap := gets[len(gets)-1].Sub(gets[len(gets)-2]); gap < legacyMaxWait {
			t.Errorf("the last stream was opened %s after the one before, want %s", gap, legacyMaxWait)
		}
		if text := logs(); strings.Count(text, "\n") > 10 {
			t.Errorf("%d log lines at info level over %s of a legacy stream storm:\n%s", strings.Count(text, "\n"), window, text)
		}
	})
}
