package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// defaultHTTP makes this package's requests when the caller gives no client: like the bridge's own, it waits out
// 429s as the server asks, one shared wait per endpoint. A 429 that names no wait is handed back at once: auth.Source
// and PollDevice try again on their own schedule, and an interactive sign-in should not stall on guesses.
var defaultHTTP = &http.Client{Transport: &ratelimit.Transport{Retries: -1}}

// orDefault is hc, or defaultHTTP when hc is nil.
func orDefault(hc *http.Client) *http.Client {
	if hc == nil {
		return defaultHTTP
	}
	return hc
}

// IsRateLimited reports whether err is an endpoint rate limiting the bridge (429, or 503 with a Retry-After
// longer than the request could wait): no refusal of the grant or the registration, so the same request may
// succeed later. errors.As finds a *ratelimit.Error in err when the server said until when.
func IsRateLimited(err error) bool {
	var rle *rateLimitError
	var te *TokenError
	return errors.As(err, &rle) || errors.As(err, &te) && te.Status == http.StatusTooManyRequests
}

// rateLimited is the error of a request to an endpoint (named what: "token endpoint") that asked for a longer
// wait than the request could take, or nil when err is not that.
func rateLimited(what string, err error) error {
	var rl *ratelimit.Error
	if !errors.As(err, &rl) {
		return nil
	}
	return &rateLimitError{msg: "the " + what + " " + rl.Endpoint + " " + rl.Reason(), rl: rl}
}

// tooManyRequests is the error of a 429 answer that reached the caller (the server named no wait, or kept
// refusing after it): the endpoint named what at endpoint is rate limiting.
func tooManyRequests(what, endpoint string, h http.Header) error {
	if u, err := url.Parse(endpoint); err == nil {
		endpoint = ratelimit.Endpoint(u) // no query, no user info
	}
	msg := "the " + what + " " + endpoint + " is rate limiting (429)"
	now := time.Now()
	if d, ok := ratelimit.ParseRetryAfter(h.Get("Retry-After"), now); ok && d > 0 {
		msg += ": it asks to wait " + ratelimit.WaitText(d, now.Add(d))
	}
	return &rateLimitError{msg: msg + "; try again later"}
}

// rateLimitError names the endpoint that is rate limiting, and until when if it said so.
type rateLimitError struct {
	msg string
	rl  *ratelimit.Error // nil when the server named no wait
}

func (e *rateLimitError) Error() string { return e.msg }

func (e *rateLimitError) Unwrap() error {
	if e.rl == nil {
		return nil
	}
	return e.rl
}
