package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// recorder sits in front of a server: it notes the method of every POST, and refuse may answer one itself.
type recorder struct {
	next    http.Handler
	refuse  func(w http.ResponseWriter, r *http.Request, method string, seen int) bool // seen: earlier POSTs of method
	mu      sync.Mutex
	methods []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		m, _ := jsonrpc.Parse(body)
		rec.mu.Lock()
		seen := 0
		for _, x := range rec.methods {
			if x == m.Method {
				seen++
			}
		}
		rec.methods = append(rec.methods, m.Method)
		rec.mu.Unlock()
		if rec.refuse != nil && rec.refuse(w, r, m.Method, seen) {
			return
		}
	}
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) seen() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.methods)
}

// recordedDev serves the reference server (API key "k") behind a recorder.
func recordedDev(t *testing.T, refuse func(w http.ResponseWriter, r *http.Request, method string, seen int) bool) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{next: devserver.New(devserver.Config{APIKey: "k"}).Handler(), refuse: refuse}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

// failingSignIn refuses the key it holds, and fails the sign-in the first fails times it is asked; then it
// hands out the right key. With gate set, the second sign-in waits for the gate to close.
type failingSignIn struct {
	mu    sync.Mutex
	fails int
	key   string
	asked int
	gate  chan struct{}
}

func (s *failingSignIn) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &oauth2.Token{AccessToken: s.key, TokenType: "Bearer"}, nil
}

func (s *failingSignIn) Reauthorize(context.Context, int, []string, string) error {
	s.mu.Lock()
	s.asked++
	if s.asked == 2 && s.gate != nil {
		s.mu.Unlock()
		<-s.gate
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("sign-in failed: the user denied access (access_denied)")
	}
	s.key = "k"
	return nil
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// A client whose initialize failed (a sign-in that did not finish, a server failure) is not left without a session
// for ever: its next request replays the initialize and notifications/initialized first, hidden from it, and
// when that replay fails too, the request says why.
func TestFailedInitializeIsReplayed(t *testing.T) {
	// A server failure rather than a 429: a 429 is waited out and retried by the HTTP client (not here).
	unavailable := func(w http.ResponseWriter, r *http.Request, method string, seen int) bool {
		if method == "initialize" && seen == 0 {
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	tests := []struct {
		name      string
		fails     int // sign-ins that fail
		refuse    func(w http.ResponseWriter, r *http.Request, method string, seen int) bool
		initWant  string
		listWant  string
		listShuns string
		inits     int // initialize POSTs the server sees: the client's, and those of one replay
	}{
		{"the sign-in failed once", 1, nil, "access_denied", `"tools"`, "", 3},
		{"the server failed the initialize", 0, unavailable, "HTTP 503", `"tools"`, "", 2},
		{"the sign-in keeps failing", 100, nil, "access_denied", "access_denied", "check the path", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := recordedDev(t, tt.refuse)
			u, _ := url.Parse(srv.URL + "/v1/mcp")
			b := &inbox{}
			src := &failingSignIn{fails: tt.fails, key: "k"}
			if tt.fails > 0 {
				src.key = "expired"
			}
			c := New(Options{URL: u, Token: src, Deliver: b.deliver})
			t.Cleanup(func() { c.Close(context.Background()) })
			c.Send(mustParse(t, initialize))
			if got := b.wait(t, `"id":1`); !strings.Contains(got, tt.initWant) {
				t.Fatalf("initialize: %s, want %q", got, tt.initWant)
			}
			c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
			// Several requests at once: one replay serves them all.
			for id := 2; id <= 5; id++ {
				c.Send(mustParse(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, id)))
			}
			for id := 2; id <= 5; id++ {
				got := b.wait(t, fmt.Sprintf(`"id":%d`, id))
				if !strings.Contains(got, tt.listWant) || (tt.listShuns != "" && strings.Contains(got, tt.listShuns)) {
					t.Fatalf("tools/list: %s, want %q", got, tt.listWant)
				}
			}
			if strings.Count(strings.Join(b.msgs, "\n"), `"id":1`) != 1 {
				t.Errorf("the replayed initialize's answer reached the client: %q", b.msgs)
			}
			if tt.listShuns != "" {
				return
			}
			seen := rec.seen()
			want := []string{"initialize", "notifications/initialized", "tools/list", "tools/list", "tools/list", "tools/list"}
			if tail := seen[len(seen)-len(want):]; !slices.Equal(tail, want) {
				t.Errorf("the server saw %q; want it to end with %q", seen, want)
			}
			count := func(m string) int {
				return len(slices.DeleteFunc(slices.Clone(seen), func(x string) bool { return x != m }))
			}
			if n := count("notifications/initialized"); n != 1 {
				t.Errorf("notifications/initialized sent %d times: %q", n, seen)
			}
			if n := count("initialize"); n != tt.inits {
				t.Errorf("initialize sent %d times, want %d: %q", n, tt.inits, seen)
			}
		})
	}
}

// A 404 that is about the session says so; a 404 about the path still says to check the path.
func TestSession404IsNotAPath404(t *testing.T) {
	srv := startDev(t)
	tests := []struct {
		name, path, msg, want, shun string
	}{
		{"a request without a session", "/v1/mcp", `{"jsonrpc":"2.0","id":5,"method":"ping"}`, "no session for this request (404: Invalid session ID)", "check the path"},
		{"a wrong path", "/nope", `{"jsonrpc":"2.0","id":5,"method":"ping"}`, "check the path", "session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &inbox{}
			c := newClient(t, srv.URL+tt.path, HTTPOnly, b)
			t.Cleanup(func() { c.Close(context.Background()) })
			c.Send(mustParse(t, tt.msg))
			got := b.wait(t, `"id":5`)
			if !strings.Contains(got, tt.want) || strings.Contains(got, tt.shun) {
				t.Errorf("got %s, want %q and not %q", got, tt.want, tt.shun)
			}
		})
	}
}

// A request sent while the client's initialize is still under way waits for it, and then uses its session.
func TestRequestWaitsForTheInitializeUnderWay(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv, rec := recordedDev(t, func(w http.ResponseWriter, r *http.Request, method string, seen int) bool {
		if method == "initialize" {
			close(arrived)
			<-release
		}
		return false
	})
	u, _ := url.Parse(srv.URL + "/v1/mcp")
	b := &inbox{}
	c := newClient(t, u.String(), HTTPOnly, b)
	t.Cleanup(func() { c.Close(context.Background()) })
	go c.Send(mustParse(t, initialize))
	<-arrived
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`))
	close(release)
	b.wait(t, `"id":1,"result"`)
	if got := b.wait(t, `"id":2`); !strings.Contains(got, `"result"`) {
		t.Errorf("ping: %s", got)
	}
	if seen := rec.seen(); !slices.Equal(seen, []string{"initialize", "ping"}) {
		t.Errorf("the server saw %q", seen)
	}
}

// Requests that queue behind a replay that fails get its failure: a refused sign-in is not tried again once per
// waiting request.
func TestQueuedRequestsShareAFailedReplay(t *testing.T) {
	srv, _ := recordedDev(t, nil)
	u, _ := url.Parse(srv.URL + "/v1/mcp")
	src := &failingSignIn{fails: 100, key: "expired", gate: make(chan struct{})}
	logs := &syncBuffer{}
	b := &inbox{}
	c := New(Options{URL: u, Token: src, Deliver: b.deliver,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() { c.Close(context.Background()) })
	c.Send(mustParse(t, initialize))
	b.wait(t, `"id":1`)
	for id := 2; id <= 5; id++ {
		c.Send(mustParse(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, id)))
	}
	// One request replays the initialize, and its sign-in waits at the gate; the three others wait for it.
	waitFor(t, func() bool {
		return strings.Count(logs.String(), "waiting for the session another request is opening") == 3
	})
	close(src.gate)
	for id := 2; id <= 5; id++ {
		if got := b.wait(t, fmt.Sprintf(`"id":%d`, id)); !strings.Contains(got, "access_denied") {
			t.Errorf("tools/list: %s", got)
		}
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.asked != 2 {
		t.Errorf("%d sign-ins, want 2: the client's initialize and one replay", src.asked)
	}
}

// waitFor waits until cond holds, failing the test only when it hangs (hangGuard).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the condition never held")
		}
	}
}
