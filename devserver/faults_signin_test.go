package devserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// The refused-authorization faults send the browser straight back with an error, even though the metadata
// still promises iss; error-redirect leaves iss out.
func TestFaultsRefusedAuthorization(t *testing.T) {
	for _, c := range []struct {
		fault    Fault
		desc     string
		wantIss  bool
		descPref bool // desc is a prefix of the description
	}{
		{FaultDeny, "The user denied the request", true, false},
		{FaultErrorRedirect, "OAUTH_STATE_EXPIRED", false, true},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			r := startOAuth(t, Config{Faults: []Fault{c.fault}})
			if md := asMetadataOf(t, r.URL); md["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("the metadata must still promise iss: %v", md)
			}
			cl := register(t, r, "none")
			q := follow(t, authorizeQuery(r, cl, oauth2.GenerateVerifier(), nil))
			d := q.Get("error_description")
			descOK := d == c.desc || c.descPref && strings.HasPrefix(d, c.desc)
			if q.Get("error") != "access_denied" || !descOK || q.Get("state") != "st-1" || q.Has("code") {
				t.Errorf("redirect query %v", q)
			}
			if got := q.Get("iss"); c.wantIss && got != r.URL || !c.wantIss && q.Has("iss") {
				t.Errorf("iss %q (present %v), want present %v", got, q.Has("iss"), c.wantIss)
			}
			if got := r.Stats().Authorizations; got != 1 {
				t.Errorf("%d authorizations counted, want 1", got)
			}
			// A request for an unknown client still gets the error page: nothing is sent to an unchecked URI.
			a := faultRequest(t, http.MethodGet, authorizeQuery(r, testClient{ID: "nobody"}, oauth2.GenerateVerifier(), nil), "")
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "unknown client_id") {
				t.Errorf("unknown client: %d %q", a.status, a.body)
			}
		})
	}
}

// exchange-invalid-grant refuses codes and leaves refresh alone.
func TestFaultExchangeInvalidGrant(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, first := tokens(t, r, "mcp:read mcp:execute")
	r.SetFaults(FaultExchangeInvalidGrant)
	v := oauth2.GenerateVerifier()
	code := getCode(t, r, c, v, nil)
	status, out := tokenRequest(t, r, c, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {v}, "redirect_uri": {requestRedirect}, "resource": {r.URL + mcpPath}})
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" || str(out["error_description"]) == "" {
		t.Errorf("code exchange: %d %v, want 400 invalid_grant", status, out)
	}
	status, out = tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(first["refresh_token"])}})
	if status != http.StatusOK || str(out["access_token"]) == "" {
		t.Errorf("refresh: %d %v, want new tokens", status, out)
	}
}

// cloudflare-token puts only the token endpoint behind a challenge.
func TestFaultCloudflareToken(t *testing.T) {
	r := startOAuth(t, Config{Faults: []Fault{FaultCloudflareToken}})
	a := faultRequest(t, http.MethodPost, r.URL+tokenPath, "grant_type=refresh_token&refresh_token=x")
	if a.status != http.StatusForbidden || a.header.Get("Cf-Mitigated") != "challenge" || a.header.Get("Server") != "cloudflare" ||
		a.header.Get("Cf-Ray") == "" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(a.body, "<title>Just a moment...</title>") {
		t.Errorf("token: %d %v %q", a.status, a.header, a.body)
	}
	if md := asMetadataOf(t, r.URL); md["token_endpoint"] != r.URL+tokenPath {
		t.Errorf("metadata %v", md)
	}
	if a := faultRequest(t, http.MethodPost, r.URL+mcpPath, initializeBody); a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "resource_metadata=") {
		t.Errorf("MCP: %d %v", a.status, a.header)
	}
}

// api-key-only hides OAuth although it is configured: the API key works, nothing else does.
func TestFaultAPIKeyOnly(t *testing.T) {
	r := startOAuth(t, Config{APIKey: "the-key", AutoApprove: true})
	_, tok := tokens(t, r, "mcp:read mcp:execute")
	r.SetFaults(FaultAPIKeyOnly)
	for _, c := range []struct {
		name, auth string
		want       int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"access token", "Bearer " + str(tok["access_token"]), http.StatusUnauthorized},
		{"API key", "Bearer the-key", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodPost, r.URL+mcpPath, strings.NewReader(initializeBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != c.want || strings.Contains(ch, "resource_metadata") || c.want == 401 && !strings.HasPrefix(ch, "Bearer") {
			t.Errorf("%s: %d %q, want %d and no resource_metadata", c.name, resp.StatusCode, ch, c.want)
		}
	}
	for _, p := range []string{prmPath + mcpPath, prmPath, asMetadataPath, "/.well-known/openid-configuration", registerPath, authorizePath, tokenPath} {
		if a := faultRequest(t, http.MethodGet, r.URL+p, ""); a.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, a.status)
		}
	}
}
