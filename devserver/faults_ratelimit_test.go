package devserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// probe is one request a rate-limit test sends.
type probe struct{ method, path, body string }

func TestFaultsRateLimit(t *testing.T) {
	var (
		mcpPost   = probe{http.MethodPost, mcpPath, initializeBody}
		sse       = probe{http.MethodGet, "/v1/sse", ""}
		message   = probe{http.MethodPost, "/v1/message", initializeBody}
		token     = probe{http.MethodPost, tokenPath, ""}
		reg       = probe{http.MethodPost, registerPath, `{}`}
		prm       = probe{http.MethodGet, prmPath + mcpPath, ""}
		prmRoot   = probe{http.MethodGet, prmPath, ""}
		asMD      = probe{http.MethodGet, asMetadataPath, ""}
		oidc      = probe{http.MethodGet, "/.well-known/openid-configuration", ""}
		device    = probe{http.MethodPost, devicePath, ""}
		healthz   = probe{http.MethodGet, "/healthz", ""}
		authorize = probe{http.MethodGet, authorizePath, ""}
	)
	all := []probe{mcpPost, sse, message, token, reg, prm, prmRoot, asMD, oidc, device, healthz, authorize}
	for _, c := range []struct {
		fault   Fault
		limited []probe
	}{
		{FaultRateLimitMCP, []probe{mcpPost, sse, message}},
		{FaultRateLimitToken, []probe{token}},
		{FaultRateLimitRegister, []probe{reg}},
		{FaultRateLimitDiscovery, []probe{prm, prmRoot, asMD, oidc}},
		{FaultRateLimitDevice, []probe{device}},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			r := startOAuth(t, Config{Faults: []Fault{c.fault}})
			limited := map[probe]bool{}
			for _, p := range c.limited {
				limited[p] = true
			}
			for _, p := range all {
				a := faultRequest(t, p.method, r.URL+p.path, p.body)
				if limited[p] {
					checkTooMany(t, p.path, a, "1")
				} else if a.status == http.StatusTooManyRequests {
					t.Errorf("%s %s: 429, but %s does not cover it", p.method, p.path, c.fault)
				}
			}
			r.SetFaults() // the cause removed: the same requests go through
			for _, p := range c.limited {
				if a := faultRequest(t, p.method, r.URL+p.path, p.body); a.status == http.StatusTooManyRequests {
					t.Errorf("%s %s after SetFaults(): still 429", p.method, p.path)
				}
			}
		})
	}
}

// Config.RetryAfter sets the wait, rounded up to whole seconds.
func TestFaultsRateLimitRetryAfter(t *testing.T) {
	for _, c := range []struct {
		after time.Duration
		want  string
	}{
		{0, "1"},
		{time.Second, "1"},
		{2500 * time.Millisecond, "3"},
		{30 * time.Second, "30"},
	} {
		r := startOAuth(t, Config{Faults: []Fault{FaultRateLimitToken}, RetryAfter: c.after})
		checkTooMany(t, tokenPath, faultRequest(t, http.MethodPost, r.URL+tokenPath, ""), c.want)
	}
}

// checkTooMany checks a 429 answer: Retry-After and a JSON error body naming the same wait.
func checkTooMany(t *testing.T, what string, a faultAnswer, retryAfter string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	err := json.Unmarshal([]byte(a.body), &body)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != retryAfter ||
		a.header.Get("Content-Type") != "application/json" || err != nil || body.Error != "rate_limited" ||
		body.Description != "Too many requests: retry after "+retryAfter+" seconds." {
		t.Errorf("%s: %d Retry-After %q %q, want 429 with Retry-After %s", what, a.status, a.header.Get("Retry-After"), a.body, retryAfter)
	}
}
