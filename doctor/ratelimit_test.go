package doctor

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// A rate limit is reported as one, quoting the wait the server asked for, with a fix that says when to run
// doctor again: never as a missing document, a refused registration or a broken server.
func TestRateLimitReported(t *testing.T) {
	limited := func(retryAfter string) route {
		if retryAfter == "" {
			return route{429, nil, "slow down"}
		}
		return route{429, map[string]string{"Retry-After": retryAfter}, "slow down"}
	}
	far := time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name        string
		routes      map[string]route
		register    bool
		id          string
		detail, fix string
	}{
		{"MCP endpoint, a long wait", map[string]route{"/mcp": limited("120")}, false, "mcp.endpoint",
			"/mcp is rate limiting (429): it asks to wait 2m0s (until ", "run doctor again after "},
		{"MCP endpoint, an HTTP-date", map[string]route{"/mcp": limited(far)}, false, "mcp.endpoint",
			"is rate limiting (429): it asks to wait 3h0m0s", "run doctor again after "},
		{"MCP endpoint, no wait named", map[string]route{"/mcp": limited("")}, false, "mcp.endpoint",
			"/mcp is rate limiting (429)", "wait a minute"},
		{"resource metadata", oauthRoutes(map[string]route{"/.well-known/oauth-protected-resource/mcp": limited("120")}), false, "oauth.prm",
			"the metadata URL http://127.0.0.1:", "run doctor again after "},
		{"resource metadata, no wait named", oauthRoutes(map[string]route{"/.well-known/oauth-protected-resource/mcp": limited("")}), false, "oauth.prm",
			"/.well-known/oauth-protected-resource/mcp is rate limiting (429); try again later", "wait a minute"},
		{"authorization server metadata", oauthRoutes(map[string]route{"/.well-known/oauth-authorization-server": limited("")}), false, "oauth.as",
			"is rate limiting (429)", "wait a minute"},
		{"registration", oauthRoutes(map[string]route{"POST /register": limited("120")}), true, "oauth.register",
			"/register is rate limiting (429): it asks to wait 2m0s", "run doctor again after "},
		{"registration, no wait named", oauthRoutes(map[string]route{"POST /register": limited("")}), true, "oauth.register",
			"/register is rate limiting (429); try again later", "wait a minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, tt.routes)
			rep := run(t, Options{URL: srv.URL + "/mcp", RegisterProbe: tt.register})
			want(t, rep, tt.id, Fail, tt.detail, tt.fix)
		})
	}
}

// A refresh the token endpoint rate limits is reported as such, with when to run doctor again, and the stored
// refresh token is kept.
func TestRateLimitedRefreshReported(t *testing.T) {
	dev := startDev(t, devserver.Config{OAuth: true, AutoApprove: true})
	tests := []struct {
		name, retryAfter string
		detail, fix      string
	}{
		{"a long wait", "120", "/token is rate limiting (429): it asks to wait 2m0s", "run doctor again after "},
		{"no wait named", "", "the token endpoint is rate limiting (429)", "wait a minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si := signIn(t, dev)
			h := map[string]string{}
			if tt.retryAfter != "" {
				h["Retry-After"] = tt.retryAfter
			}
			token := fake(t, map[string]route{"POST /token": {429, h, `{"error":"rate_limited"}`}})
			si.rec.TokenEndpoint = token.URL + "/token"
			si.save(t)
			rep := run(t, Options{URL: si.resource, Getenv: si.getenv, Refresh: true})
			want(t, rep, "creds.refresh", Fail, tt.detail, tt.fix)
			want(t, rep, "creds.refresh", Fail, "the sign-in is kept", "")
			if _, kept, err := credstore.ReadSignIn(context.Background(), si.store, si.resource); err != nil || kept == nil || kept.RefreshToken != si.tokens.RefreshToken {
				t.Errorf("stored tokens after the refused refresh: %v; want the refresh token kept", err)
			}
		})
	}
}

// Doctor's own client waits out what the server asks, shared by endpoint, but reports a 429 that names no wait
// at once rather than guessing; the proxy settings still apply under it.
func TestDoctorClientHonoursRateLimits(t *testing.T) {
	r := &runner{opts: Options{Getenv: testEnv(t, "HTTPS_PROXY", "http://proxy.corp:3128")}}
	rl, ok := r.client().Transport.(*ratelimit.Transport)
	if !ok || rl.Retries >= 0 {
		t.Fatalf("doctor's transport is %T %+v; want a ratelimit.Transport that does not guess waits", r.client().Transport, rl)
	}
	tr, ok := rl.Base.(*http.Transport)
	if !ok {
		t.Fatalf("base transport %T", rl.Base)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://mcp.example.com/mcp", nil)
	if p, err := tr.Proxy(req); err != nil || p == nil || p.Host != "proxy.corp:3128" {
		t.Errorf("proxy for %s = %v, %v; want proxy.corp:3128 from the doctor's environment", req.URL, p, err)
	}
}
