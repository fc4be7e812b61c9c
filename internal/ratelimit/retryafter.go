// Package ratelimit honours what a server says when it is rate limiting: an http.RoundTripper that, on 429 Too
// Many Requests (and 503 Service Unavailable with a Retry-After), waits as long as the server asks, shares that
// wait among every request to the same endpoint, and sends the request again when its body can be replayed. A
// wait longer than a request may take becomes an *Error that quotes the time. It imports only the standard
// library and the leaf internal/timeutil, so every package of the bridge (auth among them) may use it.
package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDelay bounds a Retry-After, so that adding it to a time cannot overflow.
const maxDelay = 366 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3), delay-seconds or an HTTP-date, as a wait from
// now. A date in the past is a zero wait. ok is false when h is empty or in neither form.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if strings.Trim(h, "0123456789") == "" {
		n, err := strconv.ParseUint(h, 10, 64)
		if err != nil || n > uint64(maxDelay/time.Second) { // all digits: only too large a number fails
			return maxDelay, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxDelay), true
}

// Error is a request that was not sent, or not sent again, because the server asked for a longer wait than the
// request may take (Transport.MaxWait, or its context's deadline).
type Error struct {
	Endpoint string        // scheme://host/path: no user info, no query
	Until    time.Time     // when the server said it would take requests again
	Status   int           // the answer that asked for the wait: 429, or 503
	Wait     time.Duration // how long that was when the request gave up
}

// Error says which endpoint asked for how long a wait.
func (e *Error) Error() string { return e.Endpoint + " " + e.Reason() }

// Reason is the error without the endpoint, for callers that name the endpoint their own way: "is rate
// limiting (429): it asks to wait 45s (until 12:03:04 UTC)".
func (e *Error) Reason() string {
	what := "is rate limiting"
	if e.Status == http.StatusServiceUnavailable {
		what = "is unavailable"
	}
	return fmt.Sprintf("%s (%d): it asks to wait %s", what, e.Status, WaitText(e.Wait, e.Until))
}

// WaitText quotes a wait and its end: "45s (until 12:03:04 UTC)", with the date too when the end is a day or
// more away. Both are rounded up to whole seconds: never sooner than the server asked.
func WaitText(d time.Duration, until time.Time) string {
	layout := "15:04:05 UTC"
	if d >= 24*time.Hour {
		layout = "2006-01-02 15:04:05 UTC"
	}
	return fmt.Sprintf("%s (until %s)", roundUp(max(d, 0)), until.UTC().Add(roundUp(time.Duration(until.Nanosecond()))).Format(layout))
}

// roundUp rounds d up to whole seconds.
func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
