package doctor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// The token endpoint probe against the reference server, healthy and broken one way at a time.
func TestTokenProbeReferenceServer(t *testing.T) {
	for _, c := range []struct {
		name        string
		faults      []devserver.Fault
		id          string
		st          Status
		detail, fix string
	}{
		{"healthy", nil, "oauth.token", OK, `answered 401 with the OAuth error "invalid_client", in JSON`, ""},
		{"codes refused, refresh answered", []devserver.Fault{devserver.FaultExchangeInvalidGrant}, "oauth.token", OK, `"invalid_client"`, ""},
		{"challenge", []devserver.Fault{devserver.FaultCloudflareToken}, "oauth.token", Fail,
			"/oauth/token answered 403 with Cloudflare's bot protection challenge (cf-mitigated: challenge, server: cloudflare, cf-ray: ",
			"ask the server's operator to let API clients reach the token endpoint"},
		{"rate limited", []devserver.Fault{devserver.FaultRateLimitToken}, "oauth.token", Fail,
			"/oauth/token is rate limiting (429): it asks to wait 7m0s", "run doctor again after"},
		{"discovery rate limited", []devserver.Fault{devserver.FaultRateLimitDiscovery}, "oauth.prm", Fail,
			"is rate limiting (429): it asks to wait 7m0s", "run doctor again after"},
		{"token endpoint not probed without metadata", []devserver.Fault{devserver.FaultRateLimitDiscovery}, "oauth.token", Skip,
			"no usable authorization server metadata", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// A wait longer than ratelimit.DefaultMaxWait is reported, not waited out.
			r := startDev(t, devserver.Config{OAuth: true, Faults: c.faults, RetryAfter: 7 * time.Minute})
			rep := run(t, Options{URL: r.URL + "/v1/mcp"})
			want(t, rep, c.id, c.st, c.detail, c.fix)
			if c.st == Fail && rep.OK || c.st == OK && !rep.OK {
				t.Errorf("report OK = %v:\n%s", rep.OK, dump(rep))
			}
			if c.st == Fail && c.id == "oauth.token" {
				want(t, rep, "oauth.as", OK, "found at", "") // only the token endpoint is broken
			}
		})
	}
}

// Each verdict of the probe, from answers the reference server has no fault for.
func TestTokenProbeAnswers(t *testing.T) {
	html := map[string]string{"Content-Type": "text/html"}
	date := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		name        string
		answer      route
		st          Status
		detail, fix string
	}{
		{"invalid_request", route{400, nil, `{"error":"invalid_request","error_description":"client_id is required"}`}, OK,
			`answered 400 with the OAuth error "invalid_request"`, ""},
		{"invalid_grant", route{400, nil, `{"error":"invalid_grant"}`}, OK, `"invalid_grant"`, ""},
		{"login page", route{200, html, "<!doctype html><title>Sign in</title>"}, Fail,
			`answered 200 with an HTML page titled "Sign in", not JSON`, "serve OAuth JSON at the token endpoint"},
		{"challenge page without headers", route{403, html, "<!DOCTYPE html><title>Just a moment...</title>"}, Fail,
			`Cloudflare's bot protection challenge (title "Just a moment...")`, "Cloudflare WAF skip rule"},
		{"429 with a date", route{429, map[string]string{"Retry-After": date.Format(http.TimeFormat)}, ""}, Fail,
			"rate limiting (429): it asks to wait", "run doctor again after"},
		{"429 without Retry-After", route{429, nil, `{"error":"rate_limited"}`}, Fail, "rate limiting (429); sign-in and refresh fail", "wait a minute and run doctor again"},
		{"429 with nonsense", route{429, map[string]string{"Retry-After": "soon"}, ""}, Fail, "rate limiting (429); sign-in and refresh fail", "wait a minute and run doctor again"},
		{"server error", route{502, map[string]string{"Content-Type": "text/plain"}, "bad gateway"}, Fail, "failed with HTTP 502: bad gateway", "try again later"},
		{"not found", route{404, map[string]string{"Content-Type": "text/plain"}, "404 page not found"}, Fail,
			"answered HTTP 404 without an OAuth error (text/plain): 404 page not found", "RFC 6749 §5.2"},
		{"JSON without an error", route{200, nil, `{"ok":true}`}, Fail, "without an OAuth error (application/json)", "RFC 6749 §5.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, oauthRoutes(map[string]route{"POST /token": c.answer}))
			rep := run(t, Options{URL: srv.URL + "/mcp"})
			want(t, rep, "oauth.token", c.st, c.detail, c.fix)
		})
	}
}

// The probe sends no credential and no real token: only the made-up refresh token, and no client.
func TestTokenProbeSendsNothingReal(t *testing.T) {
	var form, authz string
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form, authz = r.PostForm.Encode(), r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	mux := http.NewServeMux()
	mux.Handle("POST /token", probe)
	mux.Handle("/", fake(t, oauthRoutes(nil)).Config.Handler) // the fake's routes name whichever server serves them
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rep := run(t, Options{URL: srv.URL + "/mcp"})
	want(t, rep, "oauth.token", OK, "invalid_grant", "")
	if form != "grant_type=refresh_token&refresh_token="+probeRefreshToken || authz != "" || strings.Contains(form, "client_id") {
		t.Errorf("probe sent %q with Authorization %q", form, authz)
	}
}

// A server that takes only its API key, and one that takes a key or a sign-in, with the key unset, right and
// wrong: each failure names the one thing that helps there, and no fix advises what cannot help (`login` where
// there is no OAuth, setting a key that is set, unsetting it where nothing else works).
func TestAPIKeyServers(t *testing.T) {
	keyOnly := startDev(t, devserver.Config{OAuth: true, APIKey: "the-key", Faults: []devserver.Fault{devserver.FaultAPIKeyOnly}})
	both := startDev(t, devserver.Config{OAuth: true, APIKey: "the-key"})
	for _, c := range []struct {
		name   string
		server *devserver.Running
		key    string
		checks []check
		never  []string // in no fix
	}{
		{"key only, unset", keyOnly, "", []check{
			{"oauth.prm", Fail, " offers no OAuth sign-in: no authorization server metadata and no default authorization endpoint", "if it takes an API key, set MESHAI_API_KEY"},
			{"oauth.token", Skip, "", ""},
			{"mcp.challenge", OK, "as a server that takes API keys and offers no OAuth sign-in sends it", ""},
			{"creds.stored", Fail, "no credential: MESHAI_API_KEY is not set, and the server offers no OAuth sign-in", "set MESHAI_API_KEY to the server's API key"},
			{"session.initialize", Skip, "no credential: MESHAI_API_KEY is not set", ""},
		}, []string{"login", "unset", "resource_metadata"}},
		{"key only, right key", keyOnly, "the-key", []check{
			{"oauth.prm", OK, "offers no OAuth sign-in", ""},
			{"creds.stored", OK, "MESHAI_API_KEY is set", ""},
			{"session.initialize", OK, "MESHAI_API_KEY", ""},
		}, []string{"login", "set MESHAI_API_KEY"}},
		{"key only, wrong key", keyOnly, "wrong-key", []check{
			{"oauth.prm", OK, "offers no OAuth sign-in", ""},
			{"session.initialize", Fail, "the server refused MESHAI_API_KEY (401): the key is wrong, expired or revoked", "check MESHAI_API_KEY: copy the key again"},
		}, []string{"login", "set MESHAI_API_KEY", "unset", "OAuth"}},
		{"key or sign-in, wrong key", both, "wrong-key", []check{
			{"session.initialize", Fail, "(the server also offers an OAuth sign-in, which the bridge uses when MESHAI_API_KEY is not set)", "check MESHAI_API_KEY: copy the key again"},
		}, []string{"set MESHAI_API_KEY", "unset"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := testEnv(t)
			if c.key != "" {
				getenv = testEnv(t, "MESHAI_API_KEY", c.key)
			}
			rep := run(t, Options{URL: c.server.URL + "/v1/mcp", Getenv: getenv})
			for _, ch := range c.checks {
				want(t, rep, ch.id, ch.st, ch.detail, ch.fix)
			}
			for _, res := range rep.Checks {
				for _, bad := range c.never {
					if strings.Contains(res.Fix, bad) {
						t.Errorf("%s's fix says %q: %s", res.ID, bad, res.Fix)
					}
				}
			}
		})
	}
}
