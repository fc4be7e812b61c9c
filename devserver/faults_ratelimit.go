package devserver

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultRetryAfter is the Retry-After of the rate-limit faults when Config.RetryAfter is 0.
const defaultRetryAfter = time.Second

// rateLimitedPaths tells, for each rate-limit fault, which paths it answers 429 on.
var rateLimitedPaths = map[Fault]func(path string) bool{
	FaultRateLimitMCP:       func(p string) bool { return slices.Contains(mcpPaths, p) },
	FaultRateLimitToken:     func(p string) bool { return p == tokenPath },
	FaultRateLimitRegister:  func(p string) bool { return p == registerPath },
	FaultRateLimitDiscovery: func(p string) bool { return strings.Contains(p, "/.well-known/") },
	FaultRateLimitDevice:    func(p string) bool { return p == devicePath },
}

// rateLimited reports whether a rate-limit fault in fs covers path.
func rateLimited(fs faultSet, path string) bool {
	for _, f := range fs {
		if covers := rateLimitedPaths[f]; covers != nil && covers(path) {
			return true
		}
	}
	return false
}

// retryAfterSeconds is the Retry-After the rate-limit faults send: Config.RetryAfter rounded up to whole
// seconds, 1 when it is 0.
func (s *Server) retryAfterSeconds() int {
	d := s.cfg.RetryAfter
	if d <= 0 {
		d = defaultRetryAfter
	}
	return int((d + time.Second - 1) / time.Second)
}

// tooManyRequests answers 429 with Retry-After and a small JSON body.
func (s *Server) tooManyRequests(w http.ResponseWriter) {
	secs := s.retryAfterSeconds()
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"error":             "rate_limited",
		"error_description": fmt.Sprintf("Too many requests: retry after %d seconds.", secs),
	})
}
