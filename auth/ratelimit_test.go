package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// inProcess is a RoundTripper that serves requests with a handler in this process, so a test can run inside a
// synctest bubble, where real sockets would keep the fake clock from moving.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	return rec.Result(), nil
}

// limiter answers the first `times` requests with 429 and Retry-After (none when retryAfter is ""), then hands
// requests to next. It records when (on the bubble's clock) and with what form each request came.
type limiter struct {
	next       http.Handler
	retryAfter string
	times      int

	mu    sync.Mutex
	start time.Time
	seen  []string // "2s refresh_token=rt-0"
}

func newLimiter(next http.Handler, retryAfter string, times int) *limiter {
	return &limiter{next: next, retryAfter: retryAfter, times: times, start: time.Now()}
}

func (l *limiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	l.mu.Lock()
	l.seen = append(l.seen, fmt.Sprintf("%v %s", time.Since(l.start), r.PostForm.Get("refresh_token")+r.PostForm.Get("grant_type")))
	limited := len(l.seen) <= l.times
	l.mu.Unlock()
	if limited {
		if l.retryAfter != "" {
			w.Header().Set("Retry-After", l.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":"too_many_requests"}`)
		return
	}
	l.next.ServeHTTP(w, r)
}

func (l *limiter) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// limitedClient is the bridge's kind of client (429s waited out, 30 s at most) on an in-process server.
func limitedClient(h http.Handler) *http.Client {
	return &http.Client{Transport: &ratelimit.Transport{Base: inProcess{h}}}
}

// A refresh the token endpoint rate limits is one refresh, sent again once the wait is over; a wait longer than
// a request may take is an error naming the token endpoint and the time, the refresh token is kept, and nothing
// reaches the endpoint again before that time.
func TestRateLimitedRefresh(t *testing.T) {
	t.Run("a short wait is waited out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
			lim := newLimiter(as, "2", 1)
			store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
			s := &Source{Store: store, Lock: mutexLocker(), Client: &TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: limitedClient(lim)}}
			tok, err := s.Token()
			if err != nil || tok.AccessToken != "at-1" {
				t.Fatalf("Token() = %v, %v; want at-1 after the wait", tok, err)
			}
			if got, want := lim.requests(), []string{"0s rt-0refresh_token", "2s rt-0refresh_token"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the token endpoint saw %q; want %q", got, want)
			}
			if stored, _ := store.LoadToken(context.Background()); stored.RefreshToken != "rt-1" {
				t.Errorf("stored refresh token %q; want the rotated rt-1", stored.RefreshToken)
			}
		})
	})
	t.Run("a long wait is an error, and the grant is kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
			lim := newLimiter(as, "60", 1)
			store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
			s := &Source{Store: store, Lock: mutexLocker(), Client: &TokenClient{TokenURL: "https://as.example/token?tenant=x", ClientID: "c", HTTP: limitedClient(lim)}}
			_, err := s.Token()
			var rl *ratelimit.Error
			if !errors.As(err, &rl) || !IsRateLimited(err) || errors.Is(err, ErrSignInRequired) || !rl.Until.Equal(time.Now().Add(time.Minute)) {
				t.Fatalf("err = %v; want a rate limit until a minute from now, not a sign-in", err)
			}
			want := "refresh the access token: the token endpoint https://as.example/token is rate limiting (429): it asks to wait 1m0s (until 00:01:00 UTC)"
			if err.Error() != want {
				t.Errorf("err = %q; want %q", err, want)
			}
			time.Sleep(5 * time.Millisecond) // the next Token call, as the bridge makes it for the next request
			if _, err := s.Token(); !IsRateLimited(err) {
				t.Errorf("second Token() = %v; want the same rate limit", err)
			}
			if n := len(lim.requests()); n != 1 {
				t.Errorf("the token endpoint saw %d refreshes during its wait; want 1", n)
			}
			if stored, _ := store.LoadToken(context.Background()); stored.RefreshToken != "rt-0" || s.dead != "" {
				t.Errorf("the refresh token was dropped: stored %q, dead %q", stored.RefreshToken, s.dead)
			}
			time.Sleep(time.Until(rl.Until))
			if tok, err := s.Token(); err != nil || tok.AccessToken != "at-1" {
				t.Errorf("after the wait: %v, %v; want at-1 from the kept refresh token", tok, err)
			}
			if got := lim.requests(); len(got) != 2 || !strings.HasPrefix(got[1], "1m0s rt-0") {
				t.Errorf("the token endpoint saw %q; want the second refresh at 1m0s", got)
			}
		})
	})
}

// A 429 that names no wait, handed back by the transport, is a rate limit too: the grant is kept.
func TestRefreshRefusedWith429NamingNoWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
		lim := newLimiter(as, "", 1)
		store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
		hc := &http.Client{Transport: &ratelimit.Transport{Base: inProcess{lim}, Retries: -1}}
		s := &Source{Store: store, Lock: mutexLocker(), Client: &TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: hc}}
		_, err := s.Token()
		want := "refresh the access token: the token endpoint is rate limiting (429) (too_many_requests): try again later"
		if err == nil || err.Error() != want || !IsRateLimited(err) || errors.Is(err, ErrSignInRequired) || s.dead != "" {
			t.Fatalf("err = %v (dead %q); want %q", err, s.dead, want)
		}
		if tok, err := s.Token(); err != nil || tok.AccessToken != "at-1" {
			t.Errorf("the next Token() = %v, %v; want at-1 from the kept refresh token", tok, err)
		}
	})
}

// Registration and discovery: a short wait is waited out; a long one, or a 429 that names no wait, is an error
// that says the endpoint is rate limiting, never that it does not support registration or has no metadata.
func TestRateLimitedRegistrationAndDiscovery(t *testing.T) {
	registered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"client_id":"cid-9"}`)
	})
	prm := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-protected-resource/mcp" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"resource":"https://mcp.example/mcp","authorization_servers":["https://as.example"]}`)
	})
	register := func(hc *http.Client) error {
		_, err := RegisterClient(context.Background(), hc, "https://as.example/register", NativeClient("http://127.0.0.1:1/callback", "", "test"))
		return err
	}
	discover := func(hc *http.Client) error {
		u, _ := url.Parse("https://mcp.example/mcp")
		_, err := DiscoverResource(context.Background(), hc, u, nil)
		return err
	}
	tests := []struct {
		name       string
		call       func(*http.Client) error
		next       http.Handler
		retryAfter string
		noRetries  bool
		wantSeen   []time.Duration
		wantErr    string
	}{
		{"registration: a short wait", register, registered, "1", false, []time.Duration{0, time.Second}, ""},
		{"registration: a long wait", register, registered, "45", false, []time.Duration{0},
			"the registration endpoint https://as.example/register is rate limiting (429): it asks to wait 45s (until 00:00:45 UTC)"},
		{"registration: no wait named", register, registered, "", true, []time.Duration{0},
			"the registration endpoint https://as.example/register is rate limiting (429); try again later"},
		{"discovery: a short wait", discover, prm, "1", false, []time.Duration{0, time.Second}, ""},
		{"discovery: a long wait", discover, prm, "45", false, []time.Duration{0},
			"the metadata URL https://mcp.example/.well-known/oauth-protected-resource/mcp is rate limiting (429): it asks to wait 45s"},
		{"discovery: no wait named is no absence", discover, prm, "", true, []time.Duration{0},
			"the metadata URL https://mcp.example/.well-known/oauth-protected-resource/mcp is rate limiting (429); try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := newLimiter(tt.next, tt.retryAfter, 1)
				tr := &ratelimit.Transport{Base: inProcess{lim}}
				if tt.noRetries {
					tr.Retries = -1
				}
				err := tt.call(&http.Client{Transport: tr})
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsRateLimited(err)) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				var seen []time.Duration
				for _, s := range lim.requests() {
					d, _ := time.ParseDuration(strings.Fields(s)[0])
					seen = append(seen, d)
				}
				if fmt.Sprint(seen) != fmt.Sprint(tt.wantSeen) {
					t.Errorf("the endpoint saw requests at %v; want %v", seen, tt.wantSeen)
				}
			})
		})
	}
}

// Device flow: the authorization endpoint's rate limit is named as such; a poll answered with a long wait is
// not sent again before it ends, and a 429 that names no wait slows polling down like slow_down.
func TestRateLimitedDeviceFlow(t *testing.T) {
	t.Run("device authorization endpoint", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := newLimiter(http.NotFoundHandler(), "90", 1)
			c := &TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: limitedClient(lim)}
			_, err := c.DeviceAuthorize(context.Background(), "https://as.example/device", nil, "")
			if err == nil || !IsRateLimited(err) || !strings.HasPrefix(err.Error(), "the device authorization endpoint https://as.example/device is rate limiting (429): it asks to wait 1m30s") {
				t.Fatalf("err = %v", err)
			}
		})
	})
	polls := func(script ...string) http.Handler { // "pending", "429 <retry-after>", "token"
		var mu sync.Mutex
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			next := script[0]
			script = script[1:]
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			switch {
			case next == "pending":
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"authorization_pending"}`)
			case strings.HasPrefix(next, "429") && !strings.Contains(next, "OAuth"):
				if ra := strings.TrimSpace(strings.TrimPrefix(next, "429")); ra != "" {
					w.Header().Set("Retry-After", ra)
				}
				w.WriteHeader(http.StatusTooManyRequests)
			case next == "429 with an OAuth error":
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":"too_many_requests"}`)
			default:
				fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer"}`)
			}
		})
	}
	tests := []struct {
		name   string
		script []string
		want   []time.Duration // when the polls came
	}{
		{"a long wait delays the next poll", []string{"pending", "429 60", "token"}, []time.Duration{5e9, 10e9, 70e9}},
		{"a short wait is taken inside the poll", []string{"pending", "429 3", "token"}, []time.Duration{5e9, 10e9, 13e9}},
		{"no wait named: slow down", []string{"pending", "429", "pending", "token"}, []time.Duration{5e9, 10e9, 20e9, 30e9}},
		{"no wait named, an OAuth error: slow down", []string{"pending", "429 with an OAuth error", "pending", "token"}, []time.Duration{5e9, 10e9, 20e9, 30e9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := newLimiter(polls(tt.script...), "", 0)
				c := &TokenClient{TokenURL: "https://as.example/token", ClientID: "c",
					HTTP: &http.Client{Transport: &ratelimit.Transport{Base: inProcess{lim}, Retries: -1}}}
				dc := &DeviceCode{UserCode: "U", VerificationURI: "https://as.example/verify", Expiry: time.Now().Add(10 * time.Minute),
					Interval: 5 * time.Second, code: "dc"}
				tok, err := c.PollDevice(context.Background(), dc)
				if err != nil || tok.AccessToken != "at-1" {
					t.Fatalf("PollDevice = %v, %v", tok, err)
				}
				var seen []time.Duration
				for _, s := range lim.requests() {
					d, _ := time.ParseDuration(strings.Fields(s)[0])
					seen = append(seen, d)
				}
				if fmt.Sprint(seen) != fmt.Sprint(tt.want) {
					t.Errorf("polls at %v; want %v", seen, tt.want)
				}
			})
		})
	}
}
