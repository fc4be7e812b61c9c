package ratelimit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
)

// Defaults of a Transport.
const (
	DefaultMaxWait = 30 * time.Second // the longest one request waits
	DefaultRetries = 3                // resends of a 429 that names no wait, after 1 s, 2 s and 4 s
	maxSends       = 8                // sends of one request, whatever the server asks
)

// Transport is an http.RoundTripper that honours 429 Too Many Requests, and 503 Service Unavailable with a
// Retry-After. Such an answer means the server did not act on the request, so it is sent again, once the wait
// the server asked for is over, when its body can be replayed (no body, or http.Request.GetBody). The wait is
// shared by every request to the same endpoint (scheme, host and path): none of them reaches the server before
// it ends. A request that would have to wait longer than MaxWait, or past its context's deadline, fails with an
// *Error at once. A 429 without a usable Retry-After is sent again after 1 s, 2 s, 4 s… up to Retries times,
// then handed to the caller as it is, as are a 503 without Retry-After and answers to bodies that cannot be
// replayed. The zero value is ready to use; a Transport must not be copied after first use.
type Transport struct {
	Base http.RoundTripper // nil: http.DefaultTransport
	// MaxWait bounds the time one request spends waiting (0: DefaultMaxWait; negative: it never waits).
	MaxWait time.Duration
	// Retries bounds the resends of a 429 that names no wait (0: DefaultRetries; negative: none).
	Retries int

	mu    sync.Mutex
	waits map[string]wait // by endpoint
}

// wait is an endpoint's recorded "not before".
type wait struct {
	until  time.Time
	status int
}

type maxWaitKey struct{}

// WithMaxWait returns a context whose requests wait at most d in a Transport (0: not at all), whatever its
// MaxWait: background work that would rather wait on its own terms, not inside one request.
func WithMaxWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxWaitKey{}, max(d, 0))
}

// RoundTrip sends req, waiting out and resending 429 answers as the Transport's doc says.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	key := Endpoint(req.URL)
	budget := t.budget(ctx)
	var waited time.Duration
	blind := 0 // resends of 429s that named no wait
	send := req
	for sends := 1; ; sends++ {
		if err := t.awaitTurn(ctx, key, budget, &waited); err != nil {
			if send.Body != nil {
				send.Body.Close() // a RoundTripper closes the body, sent or not
			}
			return nil, err
		}
		resp, err := t.base().RoundTrip(send)
		if err != nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
			return resp, err
		}
		now := time.Now()
		d, stated := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		switch {
		case stated:
			until := now.Add(d)
			if d > 0 {
				t.record(key, until, resp.StatusCode)
			}
			if !fits(ctx, waited+d, budget, until) {
				discard(resp)
				return nil, &Error{Endpoint: key, Until: until, Status: resp.StatusCode, Wait: d}
			}
		case resp.StatusCode == http.StatusServiceUnavailable:
			return resp, nil // an outage that names no time is the caller's to judge
		default:
			d = time.Second << blind
			if blind >= t.retries() || !fits(ctx, waited+d, budget, now.Add(d)) {
				return resp, nil
			}
			blind++
		}
		if sends >= maxSends || !replayable(req) {
			return resp, nil
		}
		next, err := resend(req)
		if err != nil {
			return resp, nil
		}
		discard(resp)
		if !stated { // a stated wait was recorded: awaitTurn takes it, with every other request to key
			if err := sleep(ctx, d); err != nil {
				if next.Body != nil {
					next.Body.Close()
				}
				return nil, err
			}
			waited += d
		}
		send = next
	}
}

// awaitTurn waits while key has a recorded wait, adding the time to *waited; a wait beyond budget or the
// context's deadline is an *Error instead.
func (t *Transport) awaitTurn(ctx context.Context, key string, budget time.Duration, waited *time.Duration) error {
	for {
		w, ok := t.pending(key)
		if !ok {
			return nil
		}
		d := time.Until(w.until)
		if !fits(ctx, *waited+d, budget, w.until) {
			return &Error{Endpoint: key, Until: w.until, Status: w.status, Wait: d}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		*waited += d
	}
}

// record sets key's "not before" to until, unless a later one is recorded: never sooner than any answer asked.
func (t *Transport) record(key string, until time.Time, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waits == nil {
		t.waits = map[string]wait{}
	}
	now := time.Now()
	for k, w := range t.waits { // drop waits that are over, so the map holds only live ones
		if !now.Before(w.until) {
			delete(t.waits, k)
		}
	}
	if w, ok := t.waits[key]; !ok || until.After(w.until) {
		t.waits[key] = wait{until: until, status: status}
	}
}

// pending returns key's wait if it is not over yet.
func (t *Transport) pending(key string) (wait, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.waits[key]
	if !ok {
		return wait{}, false
	}
	if !time.Now().Before(w.until) {
		delete(t.waits, key)
		return wait{}, false
	}
	return w, true
}

// Waiting returns, by endpoint (as Endpoint names it), when each wait under way ends: for telling the user what
// the bridge waits for.
func (t *Transport) Waiting() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	out := map[string]time.Time{}
	for k, w := range t.waits {
		if now.Before(w.until) {
			out[k] = w.until
		}
	}
	return out
}

// Forget drops every recorded wait, so the next request to each endpoint goes to the server at once: for the
// user's explicit "try again", which the server should answer itself, not a wait it asked for before.
func (t *Transport) Forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.waits)
}

// CloseIdleConnections closes the idle connections of Base, as http.Client.CloseIdleConnections expects.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) budget(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(maxWaitKey{}).(time.Duration); ok {
		return d
	}
	switch {
	case t.MaxWait < 0:
		return 0
	case t.MaxWait == 0:
		return DefaultMaxWait
	}
	return t.MaxWait
}

func (t *Transport) retries() int {
	switch {
	case t.Retries < 0:
		return 0
	case t.Retries == 0:
		return DefaultRetries
	}
	return t.Retries
}

// Endpoint is the key requests share a wait by, and the name errors give: scheme://host/path, in which user
// info and query never appear.
func Endpoint(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + p
}

// fits reports whether a request that has waited total in all may wait until until.
func fits(ctx context.Context, total, budget time.Duration, until time.Time) bool {
	if total > budget {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || !until.After(dl)
}

// replayable reports whether req's body can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// resend is a copy of req with a fresh body.
func resend(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("replay the request body: %w", err)
	}
	r.Body = body
	return r, nil
}

// discard reads a little of an answer that is not passed on, so its connection can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if !timeutil.Sleep(ctx, d) {
		return fmt.Errorf("waiting out a rate limit: %w", ctx.Err())
	}
	return nil
}
