package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// baseFunc is a fake Base.
type baseFunc func(*http.Request) (*http.Response, error)

func (f baseFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answer is one canned answer of a fake server; retryAfter "" sends no Retry-After.
type answer struct {
	status     int
	retryAfter string
}

// send is what the fake server saw: when (from the start of the test), who, and with what body.
type send struct {
	at   time.Duration
	who  string
	body string
}

// server answers with its script in order, then 200, and records every request it saw.
type server struct {
	start  time.Time
	mu     sync.Mutex
	script map[string][]answer // by the X-Who header
	sends  []send
}

func newServer(script map[string][]answer) *server {
	return &server{start: time.Now(), script: script}
}

func (s *server) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who := r.Header.Get("X-Who")
	s.sends = append(s.sends, send{time.Since(s.start), who, string(body)})
	a := answer{status: http.StatusOK}
	if q := s.script[who]; len(q) > 0 {
		a, s.script[who] = q[0], q[1:]
	}
	h := http.Header{}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader("answer")), Request: r}, nil
}

func (s *server) times(who string) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at []time.Duration
	for _, x := range s.sends {
		if x.who == who {
			at = append(at, x.at)
		}
	}
	return at
}

func get(ctx context.Context, who string) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://user:pw@mcp.example/mcp?key=secret", nil)
	r.Header.Set("X-Who", who)
	return r
}

func secs(n ...float64) []time.Duration {
	d := make([]time.Duration, len(n))
	for i, x := range n {
		d[i] = time.Duration(x * float64(time.Second))
	}
	return d
}

// httpDate is the HTTP-date n seconds after the bubble's start (synctest starts its clock at 2000-01-01 UTC).
func httpDate(n int) string {
	return time.Date(2000, 1, 1, 0, 0, n, 0, time.UTC).Format(http.TimeFormat)
}

func TestTransportWaitsWhatTheServerAsks(t *testing.T) {
	tests := []struct {
		name       string
		maxWait    time.Duration // of the Transport
		retries    int
		timeout    time.Duration // of the request's context; 0: none
		answers    []answer
		wantSends  []time.Duration // when the server saw the request
		wantStatus int             // of the answer handed back; 0 with wantErr
		wantErr    string
	}{
		{"seconds", 0, 0, 0, []answer{{429, "3"}}, secs(0, 3), 200, ""},
		{"HTTP-date", 0, 0, 0, []answer{{429, httpDate(5)}}, secs(0, 5), 200, ""},
		{"past date: again at once", 0, 0, 0, []answer{{429, "Sat, 01 Jan 1999 00:00:00 GMT"}}, secs(0, 0), 200, ""},
		{"garbage: backoff as if absent", 0, 0, 0, []answer{{429, "soon"}}, secs(0, 1), 200, ""},
		{"absent: 1 s, then 2 s", 0, 0, 0, []answer{{429, ""}, {429, ""}}, secs(0, 1, 3), 200, ""},
		{"absent every time: handed back after 3 resends", 0, 0, 0,
			[]answer{{429, ""}, {429, ""}, {429, ""}, {429, ""}, {429, ""}}, secs(0, 1, 3, 7), 429, ""},
		{"absent, no resends wanted", 0, -1, 0, []answer{{429, ""}}, secs(0), 429, ""},
		{"several waits add up to the cap", 0, 0, 0, []answer{{429, "20"}, {429, "11"}}, secs(0, 20), 0,
			"https://mcp.example/mcp is rate limiting (429): it asks to wait 11s (until 00:00:31 UTC)"},
		{"over the cap: an error that quotes the time", 0, 0, 0, []answer{{429, "45"}}, secs(0), 0,
			"https://mcp.example/mcp is rate limiting (429): it asks to wait 45s (until 00:00:45 UTC)"},
		{"over a MaxWait of 5 s", 5 * time.Second, 0, 0, []answer{{429, "6"}}, secs(0), 0, "asks to wait 6s"},
		{"past the context's deadline", 0, 0, 10 * time.Second, []answer{{429, "11"}}, secs(0), 0, "asks to wait 11s"},
		{"within the context's deadline", 0, 0, 10 * time.Second, []answer{{429, "10"}}, secs(0, 10), 200, ""},
		{"503 with Retry-After", 0, 0, 0, []answer{{503, "2"}}, secs(0, 2), 200, ""},
		{"503 without Retry-After is handed back untouched", 0, 0, 0, []answer{{503, ""}}, secs(0), 503, ""},
		{"other statuses are handed back untouched", 0, 0, 0, []answer{{500, "1"}}, secs(0), 500, ""},
		{"Retry-After: 0 forever: bounded sends", 0, 0, 0,
			[]answer{{429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}, {429, "0"}},
			secs(0, 0, 0, 0, 0, 0, 0, 0), 429, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(map[string][]answer{"a": tt.answers})
				tr := &Transport{Base: srv, MaxWait: tt.maxWait, Retries: tt.retries}
				ctx := context.Background()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				resp, err := tr.RoundTrip(get(ctx, "a"))
				if got := srv.times("a"); !slices.Equal(got, tt.wantSends) {
					t.Errorf("the server saw the request at %v; want %v", got, tt.wantSends)
				}
				if tt.wantErr != "" {
					var rl *Error
					if !errors.As(err, &rl) || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secret") {
						t.Fatalf("err = %v; want an *Error saying %q", err, tt.wantErr)
					}
					return
				}
				if err != nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("got %v, %v; want status %d", resp, err, tt.wantStatus)
				}
				if b, _ := io.ReadAll(resp.Body); string(b) != "answer" {
					t.Errorf("the answer handed back lost its body: %q", b)
				}
			})
		})
	}
}

// Requests to one endpoint share its wait: one that comes during it does not reach the server before it ends,
// and a shorter wait asked later does not shorten it. Other endpoints do not wait.
func TestTransportSharesTheWaitOfAnEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"first": {{429, "10"}}, "second": {{429, "1"}}})
		var inFlight sync.WaitGroup // first and second are answered once both reached the server
		inFlight.Add(2)
		var once sync.Map
		tr := &Transport{Base: baseFunc(func(r *http.Request) (*http.Response, error) {
			if who := r.Header.Get("X-Who"); who == "first" || who == "second" {
				if _, again := once.LoadOrStore(who, true); !again {
					inFlight.Done()
					inFlight.Wait()
				}
			}
			return srv.RoundTrip(r)
		})}
		var wg sync.WaitGroup
		for _, who := range []string{"first", "second"} {
			wg.Go(func() {
				if resp, err := tr.RoundTrip(get(context.Background(), who)); err != nil || resp.StatusCode != 200 {
					t.Errorf("%s: %v %v", who, resp, err)
				}
			})
		}
		wg.Go(func() { // arrives during the wait
			time.Sleep(3 * time.Second)
			if resp, err := tr.RoundTrip(get(context.Background(), "late")); err != nil || resp.StatusCode != 200 {
				t.Errorf("late: %v %v", resp, err)
			}
		})
		wg.Go(func() { // another path: its own endpoint
			time.Sleep(3 * time.Second)
			r, _ := http.NewRequest(http.MethodGet, "https://mcp.example/other", nil)
			r.Header.Set("X-Who", "other")
			if _, err := tr.RoundTrip(r); err != nil {
				t.Errorf("other: %v", err)
			}
		})
		wg.Wait()
		for who, want := range map[string][]time.Duration{"first": secs(0, 10), "second": secs(0, 10), "late": secs(10), "other": secs(3)} {
			if got := srv.times(who); !slices.Equal(got, want) {
				t.Errorf("%s reached the server at %v; want %v", who, got, want)
			}
		}
	})
}

// A request that may not wait that long fails during a recorded wait without reaching the server.
func TestTransportRefusesDuringAWaitTooLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"first": {{429, "20"}}})
		tr := &Transport{Base: srv}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = tr.RoundTrip(get(context.Background(), "first"))
		}()
		time.Sleep(5 * time.Second)
		_, err := tr.RoundTrip(get(WithMaxWait(context.Background(), 0), "impatient"))
		var rl *Error
		if !errors.As(err, &rl) || rl.Status != 429 || rl.Wait != 15*time.Second || !rl.Until.Equal(srv.start.Add(20*time.Second)) {
			t.Errorf("err = %#v; want an *Error until 20 s from the start", err)
		}
		if got := srv.times("impatient"); len(got) != 0 {
			t.Errorf("the impatient request reached the server at %v", got)
		}
		<-done
	})
}

// A POST body is sent again whole; a body that cannot be replayed gets the 429 back, and its wait is recorded.
func TestTransportReplaysBodies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"replayable": {{429, "2"}}, "once": {{429, "2"}}})
		tr := &Transport{Base: srv}
		r, _ := http.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader("grant_type=refresh_token"))
		r.Header.Set("X-Who", "replayable")
		if resp, err := tr.RoundTrip(r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		r, _ = http.NewRequest(http.MethodPost, "https://as.example/token", io.MultiReader(strings.NewReader("x=1"))) // no GetBody
		r.Header.Set("X-Who", "once")
		if resp, err := tr.RoundTrip(r); err != nil || resp.StatusCode != 429 {
			t.Fatalf("a body that cannot be replayed: %v %v; want the 429", resp, err)
		}
		r, _ = http.NewRequest(http.MethodPost, "https://as.example/token", bytes.NewReader([]byte("after")))
		r.Header.Set("X-Who", "after")
		if _, err := tr.RoundTrip(r); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range srv.sends {
			got = append(got, s.who+"@"+strconv.Itoa(int(s.at/time.Second))+":"+s.body)
		}
		want := []string{"replayable@0:grant_type=refresh_token", "replayable@2:grant_type=refresh_token", "once@2:x=1", "after@4:after"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("the server saw %q; want %q", got, want)
		}
	})
}

// Cancelling the request ends its wait at once, with the context's error.
func TestTransportWaitEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"a": {{429, "10"}}})
		tr := &Transport{Base: srv}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := tr.RoundTrip(get(ctx, "a"))
		if !errors.Is(err, context.Canceled) || time.Since(start) != time.Second {
			t.Errorf("err = %v after %v; want context.Canceled after 1s", err, time.Since(start))
		}
		if got := srv.times("a"); !slices.Equal(got, secs(0)) {
			t.Errorf("the server saw the request at %v; want once", got)
		}
	})
}

// A body is closed even when the request is refused before it is sent.
func TestTransportClosesUnsentBodies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"a": {{429, "60"}}})
		tr := &Transport{Base: srv}
		if _, err := tr.RoundTrip(get(context.Background(), "a")); err == nil {
			t.Fatal("want an *Error")
		}
		body := &closeRecorder{Reader: strings.NewReader("b")}
		r, _ := http.NewRequest(http.MethodPost, "https://mcp.example/mcp", body)
		if _, err := tr.RoundTrip(r); err == nil || !body.closed {
			t.Errorf("err %v, body closed %v; want an *Error and the body closed", err, body.closed)
		}
	})
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// Forget drops the recorded waits: during a wait longer than a request may take, the next request is refused
// without reaching the server; after Forget it reaches the server at once.
func TestTransportForget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"first": {{429, "45"}}})
		tr := &Transport{Base: srv}
		var rl *Error
		if _, err := tr.RoundTrip(get(context.Background(), "first")); !errors.As(err, &rl) || rl.Wait != 45*time.Second {
			t.Fatalf("a 429 asking for 45 s: err = %v, want an *Error quoting the wait", err)
		}
		if _, err := tr.RoundTrip(get(context.Background(), "during")); !errors.As(err, &rl) || len(srv.times("during")) != 0 {
			t.Fatalf("a request during the wait: err = %v, sent at %v; want an *Error and nothing sent", err, srv.times("during"))
		}
		tr.Forget()
		resp, err := tr.RoundTrip(get(context.Background(), "after"))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("a request after Forget: %v %v", resp, err)
		}
		resp.Body.Close()
		if got := srv.times("after"); len(got) != 1 || got[0] != 0 {
			t.Errorf("the request after Forget reached the server at %v, want once, at once", got)
		}
	})
}

// Waiting names each endpoint whose wait is under way and when it ends, and drops it once it is over.
func TestTransportWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(map[string][]answer{"first": {{429, "45"}}})
		tr := &Transport{Base: srv}
		if w := tr.Waiting(); len(w) != 0 {
			t.Fatalf("Waiting() before any 429 = %v, want none", w)
		}
		start := time.Now()
		if _, err := tr.RoundTrip(get(context.Background(), "first")); err == nil {
			t.Fatal("a 429 asking for 45 s went through")
		}
		if w := tr.Waiting(); len(w) != 1 || !w["https://mcp.example/mcp"].Equal(start.Add(45*time.Second)) {
			t.Errorf("Waiting() during the wait = %v, want https://mcp.example/mcp until 45 s from now", w)
		}
		time.Sleep(45 * time.Second)
		if w := tr.Waiting(); len(w) != 0 {
			t.Errorf("Waiting() after the wait = %v, want none", w)
		}
	})
}
