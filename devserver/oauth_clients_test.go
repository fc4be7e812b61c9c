package devserver

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// A client registered by the operator (Config.Clients) authenticates only with its registered method, and only
// its registered redirect URIs, exactly, are accepted: no loopback port leeway.
func TestPreregisteredClient(t *testing.T) {
	const redirect = "http://localhost:8080/oauth/callback"
	r := startOAuth(t, Config{AutoApprove: true, Clients: []Client{
		{ID: "sigil", Secret: "s3cret", AuthMethod: "client_secret_post", RedirectURIs: []string{redirect}},
	}})
	post := testClient{ID: "sigil", Secret: "s3cret", Method: "client_secret_post"}
	tests := []struct {
		name     string
		client   testClient
		redirect string
		page     bool // the authorization request gets an error page, not a redirect
		status   int  // the code exchange's status, when there is a code
	}{
		{"registered method and redirect", post, redirect, false, http.StatusOK},
		{"basic when post is registered", testClient{ID: "sigil", Secret: "s3cret", Method: "client_secret_basic"}, redirect, false, http.StatusUnauthorized},
		{"no secret", testClient{ID: "sigil", Method: "none"}, redirect, false, http.StatusUnauthorized},
		{"wrong secret", testClient{ID: "sigil", Secret: "nope", Method: "client_secret_post"}, redirect, false, http.StatusUnauthorized},
		{"another port", post, "http://localhost:8081/oauth/callback", true, 0},
		{"another loopback host", post, "http://127.0.0.1:8080/oauth/callback", true, 0},
		{"another path", post, "http://localhost:8080/callback", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := authorizeQuery(r, tt.client, v, map[string]string{"redirect_uri": tt.redirect})
			resp, err := noRedirects.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tt.page {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("authorize with %s: %d %q, want the 400 page", tt.redirect, resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			code := loc.Query().Get("code")
			if resp.StatusCode != http.StatusFound || code == "" || !strings.HasPrefix(loc.String(), tt.redirect) {
				t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
			}
			status, out := tokenRequest(t, r, tt.client, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {v}, "redirect_uri": {tt.redirect}, "resource": {r.URL + mcpPath}})
			if status != tt.status {
				t.Fatalf("exchange: %d %v, want %d", status, out, tt.status)
			}
			if status != http.StatusOK && out["error"] != "invalid_client" {
				t.Errorf("refusal %v, want invalid_client", out)
			}
		})
	}
}

func TestPreregisteredClientChecked(t *testing.T) {
	for _, c := range []Client{
		{Secret: "x", AuthMethod: "client_secret_post"},
		{ID: "a", AuthMethod: "client_secret_jwt", Secret: "x"},
		{ID: "a", AuthMethod: "client_secret_post"},
		{ID: "a", AuthMethod: "none", Secret: "x"},
		{ID: "a", RedirectURIs: []string{"http://evil.example/cb"}},
	} {
		if _, err := Listen("127.0.0.1:0", Config{OAuth: true, Clients: []Client{c}}); err == nil {
			t.Errorf("client %+v accepted", c)
		}
	}
}

// ScopesSupported and NoChallengeScope shape what the server lists and names; AskedScopes records what clients
// asked for.
func TestScopesConfig(t *testing.T) {
	listed := []string{"openid", "profile", "email", "mcp:read", "mcp:execute", "mcp:manage"}
	tests := []struct {
		name          string
		cfg           Config
		wantPRM       []string
		wantChallenge string
	}{
		{"default", Config{AutoApprove: true}, resourceScopes, `Bearer resource_metadata="{{URL}}/.well-known/oauth-protected-resource/v1/mcp", scope="mcp:read mcp:execute"`},
		{"OIDC and admin scopes listed, challenge without scope", Config{AutoApprove: true, ScopesSupported: listed, NoChallengeScope: true}, listed,
			`Bearer resource_metadata="{{URL}}/.well-known/oauth-protected-resource/v1/mcp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startOAuth(t, tt.cfg)
			var prm struct {
				Scopes []string `json:"scopes_supported"`
			}
			getJSON(t, r.URL+prmPath+mcpPath, &prm)
			if !slices.Equal(prm.Scopes, tt.wantPRM) {
				t.Errorf("PRM scopes_supported %q, want %q", prm.Scopes, tt.wantPRM)
			}
			var as struct {
				Scopes []string `json:"scopes_supported"`
			}
			getJSON(t, r.URL+asMetadataPath, &as)
			for _, sc := range tt.wantPRM {
				if !slices.Contains(as.Scopes, sc) {
					t.Errorf("AS scopes_supported %q lacks %s", as.Scopes, sc)
				}
			}
			resp := mcpPost(t, r.URL+mcpPath, "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
			resp.Body.Close()
			if got, want := resp.Header.Get("WWW-Authenticate"), strings.ReplaceAll(tt.wantChallenge, "{{URL}}", r.URL); got != want {
				t.Errorf("challenge %q, want %q", got, want)
			}
			// Every listed scope can be granted; the request's scope parameter is recorded as sent.
			c := register(t, r, "none")
			v := oauth2.GenerateVerifier()
			getCode(t, r, c, v, map[string]string{"scope": strings.Join(tt.wantPRM, " ")})
			getCode(t, r, c, v, map[string]string{"scope": ""})
			if got := r.AskedScopes(); !slices.Equal(got, []string{strings.Join(tt.wantPRM, " "), ""}) {
				t.Errorf("AskedScopes %q", got)
			}
		})
	}
}
