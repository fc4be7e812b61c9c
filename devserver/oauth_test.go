package devserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/oauth2"
)

// testRedirect is the loopback redirect URI test clients register; requests use another port (RFC 8252 §7.3).
const (
	testRedirect    = "http://127.0.0.1:1/callback"
	requestRedirect = "http://127.0.0.1:49152/callback"
)

// startOAuth listens with OAuth on, auto-approving unless cfg says otherwise.
func startOAuth(t *testing.T, cfg Config) *Running {
	t.Helper()
	cfg.OAuth = true
	cfg.Logger = testLogger()
	r, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// noRedirects is an HTTP client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// testClient is a registered client.
type testClient struct {
	ID, Secret, Method string
}

// register registers a client with the given auth method and grant types through DCR.
func register(t *testing.T, r *Running, method string, grants ...string) testClient {
	t.Helper()
	if len(grants) == 0 {
		grants = []string{"authorization_code", "refresh_token"}
	}
	status, out := postJSON(t, r.URL+registerPath, map[string]any{
		"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": method, "grant_types": grants,
		"application_type": "native", "client_name": "Test Bridge",
	})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, out)
	}
	c := testClient{ID: str(out["client_id"]), Secret: str(out["client_secret"]), Method: method}
	if (method == "none") != (c.Secret == "") {
		t.Fatalf("method %s got secret %q", method, c.Secret)
	}
	return c
}

func str(v any) string { s, _ := v.(string); return s }

func postJSON(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// oauthConfig is an x/oauth2 config for c against r.
func oauthConfig(r *Running, c testClient, redirect string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if c.Method == "client_secret_basic" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: redirect,
		Scopes:   []string{scopeRead, scopeExecute},
		Endpoint: oauth2.Endpoint{AuthURL: r.URL + authorizePath, TokenURL: r.URL + tokenPath, AuthStyle: style}}
}

// follow GETs an authorization URL without following the redirect and returns the redirect's query.
func follow(t *testing.T, u string) url.Values {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d, want 302 (%s)", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// authorizeQuery builds a valid authorization request for c, with overrides (an empty value deletes).
func authorizeQuery(r *Running, c testClient, verifier string, over map[string]string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {requestRedirect},
		"state": {"st-1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}, "resource": {r.URL + mcpPath}, "scope": {"mcp:read mcp:execute"}}
	for k, v := range over {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return r.URL + authorizePath + "?" + q.Encode()
}

// getCode runs an auto-approved authorization request and returns its code.
func getCode(t *testing.T, r *Running, c testClient, verifier string, over map[string]string) string {
	t.Helper()
	q := follow(t, authorizeQuery(r, c, verifier, over))
	if q.Get("code") == "" {
		t.Fatalf("no code in redirect: %v", q)
	}
	return q.Get("code")
}

// tokenRequest posts a token request authenticated as c (basic, post or none) and decodes the answer.
func tokenRequest(t *testing.T, r *Running, c testClient, form url.Values) (int, map[string]any) {
	t.Helper()
	form = cloneValues(form)
	req, _ := http.NewRequest(http.MethodPost, r.URL+tokenPath, nil)
	switch c.Method {
	case "client_secret_basic":
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	default:
		form.Set("client_id", c.ID)
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// tokens runs the whole auto-approved flow for a fresh public client and returns the token response.
func tokens(t *testing.T, r *Running, scope string) (testClient, map[string]any) {
	t.Helper()
	c := register(t, r, "none")
	v := oauth2.GenerateVerifier()
	code := getCode(t, r, c, v, map[string]string{"scope": scope})
	status, out := tokenRequest(t, r, c, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {v}, "redirect_uri": {requestRedirect}, "resource": {r.URL + mcpPath}})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, out)
	}
	return c, out
}

func TestOAuthMetadata(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	for _, p := range []string{prmPath + mcpPath, prmPath} {
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			Scopes               []string `json:"scopes_supported"`
			Bearer               []string `json:"bearer_methods_supported"`
		}
		getJSON(t, r.URL+p, &prm)
		if prm.Resource != r.URL+"/v1/mcp" || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != r.URL ||
			strings.Join(prm.Scopes, " ") != "mcp:read mcp:execute mcp:manage" || strings.Join(prm.Bearer, ",") != "header" {
			t.Errorf("%s: %+v", p, prm)
		}
	}
	var md map[string]any
	getJSON(t, r.URL+asMetadataPath, &md)
	want := map[string]string{
		"issuer": r.URL, "authorization_endpoint": r.URL + "/oauth/authorize", "token_endpoint": r.URL + "/oauth/token",
		"registration_endpoint": r.URL + "/oauth/register", "revocation_endpoint": r.URL + "/oauth/revoke",
		"introspection_endpoint": r.URL + "/oauth/introspect", "userinfo_endpoint": r.URL + "/oauth/userinfo",
		"scopes_supported": "mcp:read mcp:execute mcp:manage offline_access", "response_types_supported": "code",
		"grant_types_supported":                 "authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code",
		"code_challenge_methods_supported":      "S256",
		"token_endpoint_auth_methods_supported": "none client_secret_basic client_secret_post",
	}
	for k, v := range want {
		got := md[k]
		if list, ok := got.([]any); ok {
			var parts []string
			for _, x := range list {
				parts = append(parts, str(x))
			}
			got = strings.Join(parts, " ")
		}
		if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if md["authorization_response_iss_parameter_supported"] != true {
		t.Error("authorization_response_iss_parameter_supported is not true")
	}
	// Without OAuth none of it is served.
	plain := start(t, 0)
	resp, err := http.Get(plain.URL + asMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("metadata without OAuth: %d, want 404", resp.StatusCode)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestOAuthRegister(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantError  string
		wantSecret bool
	}{
		{"native public loopback", map[string]any{"redirect_uris": []string{"http://127.0.0.1:8000/cb"},
			"token_endpoint_auth_method": "none", "application_type": "native",
			"grant_types": []string{"authorization_code", "refresh_token"}}, 201, "", false},
		{"ipv6 loopback and localhost", map[string]any{"redirect_uris": []string{"http://[::1]/cb", "http://localhost:9/cb"},
			"token_endpoint_auth_method": "none"}, 201, "", false},
		{"https, default method basic", map[string]any{"redirect_uris": []string{"https://app.example/cb"}}, 201, "", true},
		{"post", map[string]any{"redirect_uris": []string{"https://app.example/cb"},
			"token_endpoint_auth_method": "client_secret_post"}, 201, "", true},
		{"no redirect uris", map[string]any{"token_endpoint_auth_method": "none"}, 400, "invalid_redirect_uri", false},
		{"http non-loopback", map[string]any{"redirect_uris": []string{"http://app.example/cb"}}, 400, "invalid_redirect_uri", false},
		{"fragment", map[string]any{"redirect_uris": []string{"https://app.example/cb#x"}}, 400, "invalid_redirect_uri", false},
		{"private-use scheme (RFC 8252 §7.1)", map[string]any{"redirect_uris": []string{"com.example.app:/cb"}, "token_endpoint_auth_method": "none"}, 201, "", false},
		{"cursor's scheme", map[string]any{"redirect_uris": []string{"cursor://anysphere.cursor-mcp/oauth/callback"}, "token_endpoint_auth_method": "none"}, 201, "", false},
		{"javascript scheme", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, 400, "invalid_redirect_uri", false},
		{"file scheme", map[string]any{"redirect_uris": []string{"file:///etc/passwd"}}, 400, "invalid_redirect_uri", false},
		{"bad auth method", map[string]any{"redirect_uris": []string{testRedirect},
			"token_endpoint_auth_method": "private_key_jwt"}, 400, "invalid_client_metadata", false},
		{"bad grant type", map[string]any{"redirect_uris": []string{testRedirect},
			"grant_types": []string{"client_credentials"}}, 400, "invalid_client_metadata", false},
		{"bad application type", map[string]any{"redirect_uris": []string{testRedirect},
			"application_type": "tv"}, 400, "invalid_client_metadata", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := postJSON(t, r.URL+registerPath, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tc.wantStatus, out)
			}
			if tc.wantError != "" {
				if out["error"] != tc.wantError {
					t.Errorf("error %v, want %s", out["error"], tc.wantError)
				}
				return
			}
			if str(out["client_id"]) == "" || (str(out["client_secret"]) != "") != tc.wantSecret {
				t.Errorf("response %v", out)
			}
			if m, ok := tc.body["token_endpoint_auth_method"]; ok && out["token_endpoint_auth_method"] != m {
				t.Errorf("auth method %v, want %v", out["token_endpoint_auth_method"], m)
			}
			if at, ok := tc.body["application_type"]; ok && out["application_type"] != at {
				t.Errorf("application_type %v, want %v", out["application_type"], at)
			}
			if _, ok := out["redirect_uris"]; !ok {
				t.Errorf("no redirect_uris in %v", out)
			}
		})
	}
}

// TestOAuthCodeFlow runs the whole flow with x/oauth2 for each client authentication method, then uses the
// token with an mcp-go client and at userinfo and introspection.
func TestOAuthCodeFlow(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	for _, method := range []string{"none", "client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			c := register(t, r, method)
			cfg := oauthConfig(r, c, requestRedirect)
			verifier := oauth2.GenerateVerifier()
			resource := oauth2.SetAuthURLParam("resource", r.URL+mcpPath)
			q := follow(t, cfg.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier), resource))
			if q.Get("state") != "xyz" || q.Get("iss") != r.URL || q.Get("code") == "" {
				t.Fatalf("redirect query %v", q)
			}
			tok, err := cfg.Exchange(testCtx(t), q.Get("code"), oauth2.VerifierOption(verifier), resource)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if len(tok.AccessToken) < 43 || tok.RefreshToken == "" || tok.TokenType != "Bearer" ||
				tok.ExpiresIn != 3600 || tok.Extra("scope") != "mcp:read mcp:execute" {
				t.Fatalf("token %+v scope %v", tok, tok.Extra("scope"))
			}
			// The token works on the MCP endpoint with an mcp-go client.
			tr, err := transport.NewStreamableHTTP(r.URL+mcpPath,
				transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok.AccessToken}))
			if err != nil {
				t.Fatal(err)
			}
			mc := initialize(t, client.NewClient(tr))
			if res := callTool(t, mc, "list_agents", nil); res.IsError {
				t.Fatalf("list_agents: %+v", res)
			}
			// userinfo names the user who approved.
			var info map[string]any
			doJSON(t, http.MethodGet, r.URL+userinfoPath, tok.AccessToken, nil, http.StatusOK, &info)
			if info["sub"] != "demo" || info["name"] != "Demo" || info["email"] != "demo@example.com" {
				t.Errorf("userinfo %v", info)
			}
			// Refresh through x/oauth2's token source once the access token is stale.
			tok.Expiry = time.Now().Add(-time.Minute)
			fresh, err := cfg.TokenSource(testCtx(t), tok).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
				t.Errorf("refresh did not rotate: %+v", fresh)
			}
		})
	}
	if st := r.Stats(); st.Authorizations != 3 || st.Refreshes != 3 || st.RefreshReuses != 0 {
		t.Errorf("stats %+v", st)
	}
}

// doJSON sends a request with an optional bearer token and form, checks the status and decodes the answer.
func doJSON(t *testing.T, method, u, bearer string, form url.Values, want int, v any) http.Header {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d (%s)", method, u, resp.StatusCode, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.Header
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c := register(t, r, "none")
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name      string
		over      map[string]string
		wantPage  bool   // an HTML error page, no redirect
		wantError string // else the error in the redirect
	}{
		{"unknown client", map[string]string{"client_id": "nobody"}, true, ""},
		{"missing client", map[string]string{"client_id": ""}, true, ""},
		{"unregistered redirect", map[string]string{"redirect_uri": "http://127.0.0.1:5/other"}, true, ""},
		{"redirect other host", map[string]string{"redirect_uri": "https://evil.example/callback"}, true, ""},
		{"missing redirect", map[string]string{"redirect_uri": ""}, true, ""},
		{"response type token", map[string]string{"response_type": "token"}, false, "unsupported_response_type"},
		{"no PKCE", map[string]string{"code_challenge": "", "code_challenge_method": ""}, false, "invalid_request"},
		{"plain PKCE", map[string]string{"code_challenge_method": "plain"}, false, "invalid_request"},
		{"missing resource", map[string]string{"resource": ""}, false, "invalid_target"},
		{"wrong resource", map[string]string{"resource": "https://evil.example/mcp"}, false, "invalid_target"},
		{"resource trailing slash", map[string]string{"resource": r.URL + "/v1/mcp/"}, false, "invalid_target"},
		{"unknown scope", map[string]string{"scope": "mcp:read admin"}, false, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirects.Get(authorizeQuery(r, c, v, tc.over))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.wantPage {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("Sign-in error")) {
					t.Fatalf("want an HTML error page, got %d %v %s", resp.StatusCode, resp.Header, body)
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302 (%s)", resp.StatusCode, body)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			q := loc.Query()
			if loc.Host != "127.0.0.1:49152" || q.Get("error") != tc.wantError || q.Get("state") != "st-1" ||
				q.Get("iss") != r.URL || q.Get("code") != "" {
				t.Errorf("redirect %s, want error %s", loc, tc.wantError)
			}
		})
	}
	// Empty scope gets the default; the registered loopback URI matches on any port.
	q := follow(t, authorizeQuery(r, c, v, map[string]string{"scope": "", "redirect_uri": "http://127.0.0.1:61234/callback"}))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	status, out := tokenRequest(t, r, c, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"code_verifier": {v}, "redirect_uri": {"http://127.0.0.1:61234/callback"}, "resource": {r.URL + mcpPath}})
	if status != http.StatusOK || out["scope"] != defaultScope {
		t.Errorf("token with default scope: %d %v", status, out)
	}
}

func TestOAuthTokenRefusals(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	public := register(t, r, "none")
	basic := register(t, r, "client_secret_basic")
	post := register(t, r, "client_secret_post")
	other := register(t, r, "none")
	resource := r.URL + mcpPath
	type setup struct {
		client   testClient // who redeems
		owner    testClient // who the code is issued to; zero = client
		form     map[string]string
		before   func(code, verifier string) // runs before the request
		afterNow func()
		after    func() // runs after the request
	}
	var firstToken string // what the first redemption of a reused code issued; revoked by the reuse
	setClock := func(d time.Duration) { r.srv.oauth.skew.Store(int64(d)) }
	tests := []struct {
		name       string
		s          setup
		wantStatus int
		wantError  string
	}{
		{"ok public", setup{client: public}, 200, ""},
		{"ok basic", setup{client: basic}, 200, ""},
		{"ok post", setup{client: post}, 200, ""},
		{"bad verifier", setup{client: public, form: map[string]string{"code_verifier": oauth2.GenerateVerifier()}}, 400, "invalid_grant"},
		{"short verifier", setup{client: public, form: map[string]string{"code_verifier": "abc"}}, 400, "invalid_grant"},
		{"missing verifier", setup{client: public, form: map[string]string{"code_verifier": ""}}, 400, "invalid_request"},
		{"wrong redirect_uri", setup{client: public, form: map[string]string{"redirect_uri": "http://127.0.0.1:49153/callback"}}, 400, "invalid_grant"},
		{"wrong resource", setup{client: public, form: map[string]string{"resource": "https://evil.example/mcp"}}, 400, "invalid_target"},
		{"missing resource", setup{client: public, form: map[string]string{"resource": ""}}, 400, "invalid_target"},
		{"reused code", setup{client: public, before: func(code, verifier string) {
			status, out := tokenRequest(t, r, public, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {verifier}, "redirect_uri": {requestRedirect}, "resource": {resource}})
			if status != 200 {
				t.Fatalf("first redemption: %d %v", status, out)
			}
			firstToken = str(out["access_token"])
		}, after: func() { mcpStatus(t, r, firstToken, 401) }}, 400, "invalid_grant"},
		{"expired code", setup{client: public, before: func(string, string) { setClock(61 * time.Second) },
			afterNow: func() { setClock(0) }}, 400, "invalid_grant"},
		{"code of another client", setup{client: public, owner: other}, 400, "invalid_grant"},
		{"unknown client", setup{client: testClient{ID: "nobody", Method: "none"}, owner: public}, 401, "invalid_client"},
		{"wrong secret basic", setup{client: testClient{ID: basic.ID, Secret: "wrong", Method: "client_secret_basic"}, owner: basic}, 401, "invalid_client"},
		{"wrong secret post", setup{client: testClient{ID: post.ID, Secret: "wrong", Method: "client_secret_post"}, owner: post}, 401, "invalid_client"},
		{"basic client using post", setup{client: testClient{ID: basic.ID, Secret: basic.Secret, Method: "client_secret_post"}, owner: basic}, 401, "invalid_client"},
		{"post client using basic", setup{client: testClient{ID: post.ID, Secret: post.Secret, Method: "client_secret_basic"}, owner: post}, 401, "invalid_client"},
		{"confidential client without secret", setup{client: testClient{ID: basic.ID, Method: "none"}, owner: basic}, 401, "invalid_client"},
		{"public client, Basic with an empty password", setup{client: testClient{ID: public.ID, Method: "client_secret_basic"}}, 200, ""},
		{"public client with secret", setup{client: testClient{ID: public.ID, Secret: "x", Method: "client_secret_post"}, owner: public}, 401, "invalid_client"},
		{"unsupported grant", setup{client: public, form: map[string]string{"grant_type": "password"}}, 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			owner := tc.s.owner
			if owner.ID == "" {
				owner = tc.s.client
			}
			v := oauth2.GenerateVerifier()
			code := getCode(t, r, owner, v, nil)
			if tc.s.before != nil {
				tc.s.before(code, v)
			}
			if tc.s.afterNow != nil {
				defer tc.s.afterNow()
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v},
				"redirect_uri": {requestRedirect}, "resource": {resource}}
			for k, val := range tc.s.form {
				if val == "" {
					form.Del(k)
				} else {
					form.Set(k, val)
				}
			}
			status, out := tokenRequest(t, r, tc.s.client, form)
			if status != tc.wantStatus || (tc.wantError != "" && out["error"] != tc.wantError) {
				t.Fatalf("got %d %v, want %d %s", status, out, tc.wantStatus, tc.wantError)
			}
			if tc.wantError == "" && (str(out["access_token"]) == "" || str(out["refresh_token"]) == "") {
				t.Errorf("token response %v", out)
			}
			if tc.s.after != nil {
				tc.s.after()
			}
		})
	}
}

func TestOAuthRefreshRotationAndReuse(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, first := tokens(t, r, "mcp:read mcp:execute offline_access")
	refresh := func(rt string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {r.URL + mcpPath}}
		for k, v := range extra {
			form[k] = v
		}
		return tokenRequest(t, r, c, form)
	}
	status, second := refresh(str(first["refresh_token"]), nil)
	if status != 200 || str(second["refresh_token"]) == str(first["refresh_token"]) ||
		str(second["access_token"]) == str(first["access_token"]) || second["expires_in"] != 3600.0 ||
		second["scope"] != "mcp:read mcp:execute offline_access" {
		t.Fatalf("refresh: %d %v", status, second)
	}
	// Narrowing the scope is allowed; widening is not.
	if status, out := refresh(str(second["refresh_token"]), url.Values{"scope": {"mcp:manage"}}); status != 400 || out["error"] != "invalid_scope" {
		t.Errorf("widening refresh: %d %v", status, out)
	}
	if status, out := refresh(str(second["refresh_token"]), url.Values{"resource": {"https://evil.example/mcp"}}); status != 400 || out["error"] != "invalid_target" {
		t.Errorf("refresh for another resource: %d %v", status, out)
	}
	status, third := refresh(str(second["refresh_token"]), url.Values{"scope": {"mcp:read"}})
	if status != 200 || third["scope"] != "mcp:read" {
		t.Fatalf("narrowing refresh: %d %v", status, third)
	}
	mcpStatus(t, r, str(third["access_token"]), 200)

	// Presenting a used refresh token revokes the whole grant.
	if status, out := refresh(str(first["refresh_token"]), nil); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, out)
	}
	if status, out := refresh(str(third["refresh_token"]), nil); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("current refresh token after reuse: %d %v", status, out)
	}
	mcpStatus(t, r, str(third["access_token"]), 401)
	mcpStatus(t, r, str(second["access_token"]), 401)
	if st := r.Stats(); st.Refreshes != 6 || st.RefreshReuses != 1 || st.Authorizations != 1 {
		t.Errorf("stats %+v", st)
	}

	// A client that did not register refresh_token gets no refresh token.
	nc := register(t, r, "none", "authorization_code")
	v := oauth2.GenerateVerifier()
	status, out := tokenRequest(t, r, nc, url.Values{"grant_type": {"authorization_code"}, "code": {getCode(t, r, nc, v, nil)},
		"code_verifier": {v}, "redirect_uri": {requestRedirect}, "resource": {r.URL + mcpPath}})
	if _, has := out["refresh_token"]; status != 200 || has {
		t.Errorf("client without refresh_token grant: %d %v", status, out)
	}
}

// TestOAuthConcurrentRefresh checks that racing refreshes with one refresh token give one winner.
func TestOAuthConcurrentRefresh(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, tok := tokens(t, r, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			status, _ := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
			if status == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The first loser detects the reuse and revokes the grant; later ones find it revoked.
	if st := r.Stats(); ok != 1 || st.Refreshes != 8 || st.RefreshReuses != 1 {
		t.Errorf("%d successes, stats %+v", ok, st)
	}
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",` +
	`"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// mcpPost POSTs body to an MCP endpoint with the token (none when empty).
func mcpPost(t *testing.T, u, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func mcpStatus(t *testing.T, r *Running, token string, want int) {
	t.Helper()
	if resp := mcpPost(t, r.URL+mcpPath, token, initBody); resp.StatusCode != want {
		t.Fatalf("initialize with token: %d, want %d", resp.StatusCode, want)
	}
}

func TestOAuthMCPChallenges(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true, APIKey: testKey, AccessTokenTTL: 10 * time.Minute})
	prm := r.URL + "/.well-known/oauth-protected-resource/v1/mcp"
	_, basic := tokens(t, r, "")
	_, manage := tokens(t, r, "mcp:read mcp:execute mcp:manage")
	_, expiring := tokens(t, r, "")
	if basic["expires_in"] != 600.0 {
		t.Errorf("expires_in %v, want 600", basic["expires_in"])
	}
	const submit = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"submit_workflow",` +
		`"arguments":{"workflow_type":"sequential","payload":{"goal":"x"}}}}`
	const passes = -1 // the guard lets the request through
	const submitBatch = `[{"jsonrpc":"2.0","method":"notifications/initialized"},` + submit + `]`
	noToken := `Bearer resource_metadata="` + prm + `", scope="mcp:read mcp:execute"`
	badToken := `Bearer error="invalid_token", error_description="the access token is invalid or expired", resource_metadata="` +
		prm + `", scope="mcp:read mcp:execute"`
	insufficient := `Bearer error="insufficient_scope", scope="mcp:read mcp:execute mcp:manage", resource_metadata="` +
		prm + `", error_description="submit_workflow needs the mcp:manage scope"`
	tests := []struct {
		name, path, token, body string
		want                    int
		wantChallenge           string
	}{
		{"no token", "/v1/mcp", "", initBody, 401, noToken},
		{"unknown token", "/v1/mcp", "nope", initBody, 401, badToken},
		{"valid token", "/v1/mcp", str(basic["access_token"]), initBody, 200, ""},
		{"api key still works", "/v1/mcp", testKey, submit, passes, ""},
		{"submit without manage", "/v1/mcp", str(basic["access_token"]), submit, 403, insufficient},
		{"submit in a batch without manage", "/v1/mcp", str(basic["access_token"]), submitBatch, 403, insufficient},
		{"submit with manage", "/v1/mcp", str(manage["access_token"]), submit, passes, ""},
		{"legacy message without manage", "/v1/message?sessionId=x", str(basic["access_token"]), submit, 403, insufficient},
		{"legacy message no token", "/v1/message?sessionId=x", "", submit, 401, noToken},
		{"refresh token is not an access token", "/v1/mcp", str(basic["refresh_token"]), initBody, 401, badToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := mcpPost(t, r.URL+tc.path, tc.token, tc.body)
			if tc.want == passes {
				// Past the guard: mcp-go answers for itself (this sessionless POST gets its 4xx).
				if resp.StatusCode == 401 || resp.StatusCode == 403 {
					t.Fatalf("status %d: refused by the guard", resp.StatusCode)
				}
			} else if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate\n got %s\nwant %s", got, tc.wantChallenge)
			}
		})
	}
	// The SSE endpoint challenges the same way.
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, r.URL+"/v1/sse", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != noToken {
		t.Errorf("/v1/sse: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// An expired token gets invalid_token.
	r.srv.oauth.skew.Store(int64(11 * time.Minute))
	if resp := mcpPost(t, r.URL+mcpPath, str(expiring["access_token"]), initBody); resp.StatusCode != 401 ||
		resp.Header.Get("WWW-Authenticate") != badToken {
		t.Errorf("expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	r.srv.oauth.skew.Store(0)

	// With mcp-go: a token with mcp:manage submits a workflow; one without is refused before the call runs.
	for _, tc := range []struct {
		name    string
		token   string
		wantErr bool
	}{{"manage", str(manage["access_token"]), false}, {"no manage", str(basic["access_token"]), true}} {
		t.Run("mcp-go "+tc.name, func(t *testing.T) {
			tr, err := transport.NewStreamableHTTP(r.URL+mcpPath,
				transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tc.token}))
			if err != nil {
				t.Fatal(err)
			}
			c := initialize(t, client.NewClient(tr))
			req := mcp.CallToolRequest{}
			req.Params.Name = "submit_workflow"
			req.Params.Arguments = map[string]any{"workflow_type": "parallel", "payload": map[string]any{"goal": "g"}}
			res, err := c.CallTool(testCtx(t), req)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("submit_workflow without mcp:manage succeeded: %+v", res)
				}
				return
			}
			if err != nil || res.IsError {
				t.Fatalf("submit_workflow: %v %+v", err, res)
			}
		})
	}
	// mcp-go without a token sees an authorization error.
	tr, err := transport.NewStreamableHTTP(r.URL + mcpPath)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	defer c.Close()
	if err := c.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	ireq := mcp.InitializeRequest{}
	ireq.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	_, err = c.Initialize(testCtx(t), ireq)
	var authErr *transport.AuthorizationRequiredError
	if !errors.As(err, &authErr) {
		t.Errorf("Initialize without token: %v, want AuthorizationRequiredError", err)
	}
}

func TestOAuthRevokeAndIntrospect(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, tok := tokens(t, r, "")
	at, rt := str(tok["access_token"]), str(tok["refresh_token"])
	introspect := func(token string) map[string]any {
		form := url.Values{"token": {token}, "client_id": {c.ID}}
		var out map[string]any
		doJSON(t, http.MethodPost, r.URL+introspectPath, "", form, 200, &out)
		return out
	}
	if got := introspect(at); got["active"] != true || got["client_id"] != c.ID || got["sub"] != "demo" ||
		got["aud"] != r.URL+mcpPath || got["scope"] != defaultScope || got["iss"] != r.URL {
		t.Errorf("introspect access token: %v", got)
	}
	if got := introspect(rt); got["active"] != true {
		t.Errorf("introspect refresh token: %v", got)
	}
	if got := introspect("nope"); got["active"] != false || len(got) != 1 {
		t.Errorf("introspect unknown: %v", got)
	}
	doJSON(t, http.MethodPost, r.URL+introspectPath, "", url.Values{"token": {at}}, 401, nil)

	// Revoking the access token ends it alone; revoking the refresh token ends the grant.
	doJSON(t, http.MethodPost, r.URL+revokePath, "", url.Values{"token": {at}, "client_id": {c.ID}}, 200, nil)
	mcpStatus(t, r, at, 401)
	status, next := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if status != 200 {
		t.Fatalf("refresh after access revocation: %d %v", status, next)
	}
	doJSON(t, http.MethodPost, r.URL+revokePath, "", url.Values{"token": {str(next["refresh_token"])}, "client_id": {c.ID}}, 200, nil)
	mcpStatus(t, r, str(next["access_token"]), 401)
	if got := introspect(str(next["refresh_token"])); got["active"] != false {
		t.Errorf("revoked refresh token: %v", got)
	}
	doJSON(t, http.MethodPost, r.URL+revokePath, "", url.Values{"token": {"unknown"}, "client_id": {c.ID}}, 200, nil)
	doJSON(t, http.MethodGet, r.URL+userinfoPath, "nope", nil, 401, nil)
}

var (
	hiddenRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)
	hiddenCSRF    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// TestOAuthLoginPage drives the login and consent page with plain form posts.
func TestOAuthLoginPage(t *testing.T) {
	r := startOAuth(t, Config{Users: map[string]string{"alice": "wonderland"}})
	c := register(t, r, "none")
	open := func(t *testing.T, v string) (req, csrf string) {
		t.Helper()
		resp, err := noRedirects.Get(authorizeQuery(r, c, v, map[string]string{"scope": "mcp:read mcp:manage"}))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("login page: %d %v", resp.StatusCode, resp.Header)
		}
		for _, want := range []string{"Test Bridge", "mcp:read", "mcp:manage", "Approve", "Deny", `type="password"`} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("login page lacks %q", want)
			}
		}
		m1, m2 := hiddenRequest.FindSubmatch(body), hiddenCSRF.FindSubmatch(body)
		if m1 == nil || m2 == nil {
			t.Fatalf("no hidden fields in %s", body)
		}
		return string(m1[1]), string(m2[1])
	}
	submit := func(t *testing.T, form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := noRedirects.PostForm(r.URL+authorizePath, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}

	t.Run("wrong then right password", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		id, csrf := open(t, v)
		resp, body := submit(t, url.Values{"request": {id}, "csrf": {csrf}, "username": {"alice"}, "password": {"nope"}, "action": {"approve"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "Wrong username or password") {
			t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
		}
		resp, body = submit(t, url.Values{"request": {id}, "csrf": {"forged"}, "username": {"alice"}, "password": {"wonderland"}, "action": {"approve"}})
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Fatalf("forged CSRF: %d %s", resp.StatusCode, body)
		}
		resp, _ = submit(t, url.Values{"request": {id}, "csrf": {csrf}, "username": {"alice"}, "password": {"wonderland"}, "action": {"approve"}})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("right password: %d", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if q.Get("code") == "" || q.Get("state") != "st-1" || q.Get("iss") != r.URL {
			t.Fatalf("redirect %s", loc)
		}
		status, tok := tokenRequest(t, r, c, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"code_verifier": {v}, "redirect_uri": {requestRedirect}, "resource": {r.URL + mcpPath}})
		if status != 200 || tok["scope"] != "mcp:read mcp:manage" {
			t.Fatalf("token: %d %v", status, tok)
		}
		var info map[string]any
		doJSON(t, http.MethodGet, r.URL+userinfoPath, str(tok["access_token"]), nil, 200, &info)
		if info["sub"] != "alice" || info["email"] != "alice@example.com" {
			t.Errorf("userinfo %v", info)
		}
		// The pending request is answered: replaying the form is refused.
		resp, _ = submit(t, url.Values{"request": {id}, "csrf": {csrf}, "username": {"alice"}, "password": {"wonderland"}, "action": {"approve"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed form: %d", resp.StatusCode)
		}
	})
	t.Run("deny", func(t *testing.T) {
		id, csrf := open(t, oauth2.GenerateVerifier())
		resp, _ := submit(t, url.Values{"request": {id}, "csrf": {csrf}, "action": {"deny"}})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-1" {
			t.Errorf("deny: %d %s", resp.StatusCode, loc)
		}
	})
	t.Run("too many attempts", func(t *testing.T) {
		id, csrf := open(t, oauth2.GenerateVerifier())
		var resp *http.Response
		for range maxLoginAttempts {
			resp, _ = submit(t, url.Values{"request": {id}, "csrf": {csrf}, "username": {"alice"}, "password": {"x"}, "action": {"approve"}})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("after %d failures: %d", maxLoginAttempts, resp.StatusCode)
		}
	})
	if st := r.Stats(); st.Authorizations != 3 {
		t.Errorf("authorizations %d, want 3 (form posts are not counted)", st.Authorizations)
	}
}

// TestOAuthSecretsNotLogged checks the server log never holds a token or secret.
func TestOAuthSecretsNotLogged(t *testing.T) {
	var buf syncBuffer
	cfg := Config{OAuth: true, AutoApprove: true, Logger: newBufLogger(&buf)}
	r, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := register(t, r, "client_secret_post")
	v := oauth2.GenerateVerifier()
	code := getCode(t, r, c, v, nil)
	_, tok := tokenRequest(t, r, c, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {v}, "redirect_uri": {requestRedirect}, "resource": {r.URL + mcpPath}})
	_, tok2 := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
	tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
	mcpStatus(t, r, str(tok2["access_token"]), 401)
	logs := buf.String()
	if !strings.Contains(logs, "oauth: token refreshed") {
		t.Fatalf("nothing logged: %s", logs)
	}
	for name, secret := range map[string]string{"client secret": c.Secret, "code": code, "verifier": v,
		"access token": str(tok["access_token"]), "refresh token": str(tok["refresh_token"]),
		"new access token": str(tok2["access_token"]), "new refresh token": str(tok2["refresh_token"])} {
		if secret == "" || strings.Contains(logs, secret) {
			t.Errorf("%s %q is in the log", name, secret)
		}
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newBufLogger(b *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
