package doctor

import (
	"errors"
	"net/http"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// askedWait reads the Retry-After of a 429 answer: the wait quoted (": it asks to wait 45s (until 12:03:04
// UTC)", or "" when it names none) and when it ends (zero then).
func askedWait(h http.Header) (string, time.Time) {
	now := time.Now()
	d, ok := ratelimit.ParseRetryAfter(h.Get("Retry-After"), now)
	if !ok || d <= 0 {
		return "", time.Time{}
	}
	return waitUntil(now.Add(d)), now.Add(d)
}

// waitUntil quotes a wait that ends at until (": it asks to wait 45s (until 12:03:04 UTC)"), or "" for a zero
// or past until.
func waitUntil(until time.Time) string {
	d := time.Until(until)
	if until.IsZero() || d <= 0 {
		return ""
	}
	return ": it asks to wait " + ratelimit.WaitText(d, until)
}

// limitedUntil is when the rate limit in err ends, or zero when err holds none or the server named no time.
func limitedUntil(err error) time.Time {
	var rl *ratelimit.Error
	if errors.As(err, &rl) {
		return rl.Until
	}
	return time.Time{}
}

// rateLimitFix is the fix for a check the server rate limited: run doctor again once its wait is over.
func rateLimitFix(until time.Time) string {
	if until.IsZero() {
		return "the server is rate limiting this machine: wait a minute and run doctor again"
	}
	layout := "15:04:05 UTC"
	if time.Until(until) >= 24*time.Hour {
		layout = "2006-01-02 15:04:05 UTC"
	}
	return "the server is rate limiting this machine: run doctor again after " + until.Add(time.Second-1).UTC().Format(layout)
}
