// Package authtest holds the test doubles the tests of auth and auth/oauth share: a transport that serves requests
// in this process, so a test can run inside a synctest bubble, and a token endpoint that rate limits.
package authtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// InProcess is a RoundTripper that serves requests with a handler in this process, so a test can run inside a
// synctest bubble, where real sockets would keep the fake clock from moving.
type InProcess struct{ H http.Handler }

// RoundTrip serves r with H.
func (p InProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.H.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	return rec.Result(), nil
}

// Limiter answers the first `times` requests with 429 and Retry-After (none when retryAfter is ""), then hands
// requests to next. It records when (on the bubble's clock) and with what form each request came.
type Limiter struct {
	next       http.Handler
	retryAfter string
	times      int

	mu    sync.Mutex
	start time.Time
	seen  []string // "2s refresh_token=rt-0"
}

// NewLimiter returns a Limiter in front of next; its clock starts now.
func NewLimiter(next http.Handler, retryAfter string, times int) *Limiter {
	return &Limiter{next: next, retryAfter: retryAfter, times: times, start: time.Now()}
}

// ServeHTTP records the request, and refuses it or hands it on.
func (l *Limiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

// Requests lists the requests seen so far, as "<time since the start> <refresh token><grant type>".
func (l *Limiter) Requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// LimitedClient is the bridge's kind of client (429s waited out, 30 s at most) on an in-process server.
func LimitedClient(h http.Handler) *http.Client {
	return &http.Client{Transport: &ratelimit.Transport{Base: InProcess{h}}}
}
