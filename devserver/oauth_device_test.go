package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// registerDevice registers a device-flow client (no redirect URIs) with the given auth method.
func registerDevice(t *testing.T, r *Running, method string) testClient {
	t.Helper()
	status, out := postJSON(t, r.URL+registerPath, map[string]any{"token_endpoint_auth_method": method,
		"grant_types": []string{deviceGrantType, "refresh_token"}, "response_types": []string{}, "application_type": "native",
		"client_name": "Headless Bridge"})
	if status != http.StatusCreated {
		t.Fatalf("register a device client: %d %v", status, out)
	}
	return testClient{ID: str(out["client_id"]), Secret: str(out["client_secret"]), Method: method}
}

// deviceRequest posts a device authorization request authenticated as c.
func deviceRequest(t *testing.T, r *Running, c testClient, form url.Values) (int, map[string]any) {
	t.Helper()
	form = cloneValues(form)
	req, _ := http.NewRequest(http.MethodPost, r.URL+devicePath, nil)
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

// startDevice starts a device authorization for c with the default scope and the server's resource.
func startDevice(t *testing.T, r *Running, c testClient) map[string]any {
	t.Helper()
	status, out := deviceRequest(t, r, c, url.Values{"resource": {r.URL + mcpPath}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, out)
	}
	return out
}

// advance moves the authorization server's clock forward by d.
func advance(r *Running, d time.Duration) { r.srv.oauth.skew.Add(int64(d)) }

// pollDevice advances the clock past the interval (unless fast) and polls the token endpoint once.
func pollDevice(t *testing.T, r *Running, c testClient, deviceCode string, fast bool) (int, map[string]any) {
	t.Helper()
	if !fast {
		advance(r, defaultDeviceInterval+time.Second)
	}
	return tokenRequest(t, r, c, url.Values{"grant_type": {deviceGrantType}, "device_code": {deviceCode}, "resource": {r.URL + mcpPath}})
}

// page GETs or POSTs (when form is not nil) the verification page and returns the status and body.
func page(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = http.Get(u)
	} else {
		resp, err = http.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrfOf extracts the csrf hidden field of a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `name="csrf" value="`)
	if !ok {
		t.Fatalf("no csrf field in %s", body)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func TestDeviceMetadataAndRegistration(t *testing.T) {
	r := startOAuth(t, Config{})
	var md map[string]any
	getJSON(t, r.URL+asMetadataPath, &md)
	if md["device_authorization_endpoint"] != r.URL+"/oauth/device" {
		t.Errorf("device_authorization_endpoint = %v", md["device_authorization_endpoint"])
	}
	tests := []struct {
		name      string
		body      map[string]any
		wantError string
	}{
		{"device only, no redirect URIs", map[string]any{"token_endpoint_auth_method": "none",
			"grant_types": []string{deviceGrantType, "refresh_token"}, "response_types": []string{}}, ""},
		{"device only, response types omitted", map[string]any{"token_endpoint_auth_method": "none",
			"grant_types": []string{deviceGrantType}}, ""},
		{"device and code", map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{testRedirect},
			"grant_types": []string{"authorization_code", deviceGrantType, "refresh_token"}}, ""},
		{"device only with response type code", map[string]any{"token_endpoint_auth_method": "none",
			"grant_types": []string{deviceGrantType}, "response_types": []string{"code"}}, "invalid_client_metadata"},
		{"code without redirect URIs", map[string]any{"token_endpoint_auth_method": "none",
			"grant_types": []string{"authorization_code", deviceGrantType}}, "invalid_redirect_uri"},
		{"refresh only", map[string]any{"token_endpoint_auth_method": "none", "grant_types": []string{"refresh_token"}}, "invalid_client_metadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := postJSON(t, r.URL+registerPath, tc.body)
			if tc.wantError != "" {
				if status != http.StatusBadRequest || out["error"] != tc.wantError {
					t.Errorf("got %d %v, want 400 %s", status, out, tc.wantError)
				}
				return
			}
			if status != http.StatusCreated || str(out["client_id"]) == "" {
				t.Fatalf("got %d %v", status, out)
			}
			if _, ok := out["redirect_uris"].([]any); !ok {
				t.Errorf("redirect_uris %v is not a list", out["redirect_uris"])
			}
		})
	}
	// A client registered for the code flow only may not start a device flow.
	code := register(t, r, "none")
	if status, out := deviceRequest(t, r, code, url.Values{"resource": {r.URL + mcpPath}}); status != 400 || out["error"] != "unauthorized_client" {
		t.Errorf("code-flow client at the device endpoint: %d %v", status, out)
	}
	// A device-only client cannot use the authorization endpoint: it has no redirect URI.
	dev := registerDevice(t, r, "none")
	if status, _ := page(t, authorizeQuery(r, dev, "v", nil), nil); status != http.StatusBadRequest {
		t.Errorf("device client at the authorization endpoint: %d", status)
	}
}

func TestDeviceAuthorizationRequest(t *testing.T) {
	r := startOAuth(t, Config{})
	c := registerDevice(t, r, "client_secret_basic")
	tests := []struct {
		name      string
		client    testClient
		form      url.Values
		wantError string
	}{
		{"ok", c, url.Values{"resource": {r.URL + mcpPath}, "scope": {"mcp:read offline_access"}}, ""},
		{"no resource", c, url.Values{}, "invalid_target"},
		{"other resource", c, url.Values{"resource": {"https://other.example/mcp"}}, "invalid_target"},
		{"bad scope", c, url.Values{"resource": {r.URL + mcpPath}, "scope": {"admin"}}, "invalid_scope"},
		{"wrong secret", testClient{ID: c.ID, Secret: "nope", Method: c.Method}, url.Values{"resource": {r.URL + mcpPath}}, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := deviceRequest(t, r, tc.client, tc.form)
			if tc.wantError != "" {
				if out["error"] != tc.wantError {
					t.Errorf("got %d %v, want %s", status, out, tc.wantError)
				}
				return
			}
			uc := str(out["user_code"])
			if status != 200 || str(out["device_code"]) == "" || len(uc) != 9 || uc[4] != '-' ||
				out["verification_uri"] != r.URL+deviceVerifyPath ||
				out["verification_uri_complete"] != r.URL+deviceVerifyPath+"?user_code="+uc ||
				out["expires_in"] != float64(600) || out["interval"] != float64(5) {
				t.Errorf("got %d %v", status, out)
			}
			if strings.ContainsAny(uc, "AEIOU01") {
				t.Errorf("user code %q has vowels or digits", uc)
			}
		})
	}
}

// TestDeviceFlowOutcomes drives the token endpoint through every answer of RFC 8628 §3.5 with the login page.
func TestDeviceFlowOutcomes(t *testing.T) {
	r := startOAuth(t, Config{})
	verify := r.URL + deviceVerifyPath
	login := func(t *testing.T, out map[string]any, action, user, pass string) (int, string) {
		t.Helper()
		status, body := page(t, str(out["verification_uri_complete"]), nil)
		if status != 200 || !strings.Contains(body, str(out["user_code"])) || !strings.Contains(body, "Headless Bridge") {
			t.Fatalf("verification page: %d %s", status, body)
		}
		return page(t, verify, url.Values{"user_code": {strings.ToLower(str(out["user_code"]))}, "csrf": {csrfOf(t, body)},
			"action": {action}, "username": {user}, "password": {pass}})
	}

	t.Run("approved after a wrong password", func(t *testing.T) {
		c := registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		if st, tok := pollDevice(t, r, c, str(out["device_code"]), false); st != 400 || tok["error"] != "authorization_pending" {
			t.Fatalf("before approval: %d %v", st, tok)
		}
		if st, body := login(t, out, "approve", "demo", "wrong"); st != 200 || !strings.Contains(body, "Wrong username or password") {
			t.Fatalf("wrong password: %d %s", st, body)
		}
		if st, body := login(t, out, "approve", "demo", "demo"); st != 200 || !strings.Contains(body, "Device approved") {
			t.Fatalf("approve: %d %s", st, body)
		}
		st, tok := pollDevice(t, r, c, str(out["device_code"]), false)
		if st != 200 || str(tok["access_token"]) == "" || str(tok["refresh_token"]) == "" || tok["scope"] != defaultScope {
			t.Fatalf("after approval: %d %v", st, tok)
		}
		mcpStatus(t, r, str(tok["access_token"]), 200)
		if st, again := pollDevice(t, r, c, str(out["device_code"]), false); st != 400 || again["error"] != "invalid_grant" {
			t.Errorf("device code used twice: %d %v", st, again)
		}
		if st, body := page(t, str(out["verification_uri_complete"]), nil); st != 400 || !strings.Contains(body, "already used") {
			t.Errorf("verification page after approval: %d", st)
		}
	})
	t.Run("denied", func(t *testing.T) {
		c := registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		if st, body := login(t, out, "deny", "", ""); st != 200 || !strings.Contains(body, "Access denied") {
			t.Fatalf("deny: %d %s", st, body)
		}
		if st, tok := pollDevice(t, r, c, str(out["device_code"]), false); st != 400 || tok["error"] != "access_denied" {
			t.Errorf("after denial: %d %v", st, tok)
		}
	})
	t.Run("too many wrong passwords deny", func(t *testing.T) {
		c := registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		var st int
		for range maxLoginAttempts {
			st, _ = login(t, out, "approve", "demo", "wrong")
		}
		if st != http.StatusForbidden {
			t.Errorf("last wrong password: %d", st)
		}
		if st, tok := pollDevice(t, r, c, str(out["device_code"]), false); st != 400 || tok["error"] != "access_denied" {
			t.Errorf("after too many attempts: %d %v", st, tok)
		}
	})
	t.Run("slow_down adds 5 s", func(t *testing.T) {
		c := registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		dc := str(out["device_code"])
		for i, step := range []struct {
			wait time.Duration
			want string
		}{{0, "slow_down"}, {6 * time.Second, "slow_down"}, {16 * time.Second, "authorization_pending"}, {11 * time.Second, "slow_down"},
			{21 * time.Second, "authorization_pending"}} {
			advance(r, step.wait)
			if st, tok := pollDevice(t, r, c, dc, true); st != 400 || tok["error"] != step.want {
				t.Errorf("poll %d after %s: %d %v, want %s", i, step.wait, st, tok, step.want)
			}
		}
	})
	t.Run("expired", func(t *testing.T) {
		c := registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		advance(r, deviceTTL)
		if st, tok := pollDevice(t, r, c, str(out["device_code"]), false); st != 400 || tok["error"] != "expired_token" {
			t.Errorf("after expiry: %d %v", st, tok)
		}
		if st, _ := page(t, str(out["verification_uri_complete"]), nil); st != 400 {
			t.Errorf("verification page of an expired code: %d", st)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		c, other := registerDevice(t, r, "none"), registerDevice(t, r, "none")
		out := startDevice(t, r, c)
		dc := str(out["device_code"])
		for name, tc := range map[string]struct {
			client testClient
			form   url.Values
			want   string
		}{
			"unknown device code": {c, url.Values{"device_code": {"nope"}}, "invalid_grant"},
			"no device code":      {c, url.Values{}, "invalid_request"},
			"another client":      {other, url.Values{"device_code": {dc}}, "invalid_grant"},
			"another resource":    {c, url.Values{"device_code": {dc}, "resource": {"https://other.example/mcp"}}, "invalid_target"},
		} {
			tc.form.Set("grant_type", deviceGrantType)
			advance(r, time.Minute)
			if st, tok := tokenRequest(t, r, tc.client, tc.form); st != 400 || tok["error"] != tc.want {
				t.Errorf("%s: %d %v, want %s", name, st, tok, tc.want)
			}
		}
		// The page refuses a forged form and an unknown code.
		_, body := page(t, str(out["verification_uri_complete"]), nil)
		if st, _ := page(t, verify, url.Values{"user_code": {str(out["user_code"])}, "csrf": {"forged"}, "username": {"demo"}, "password": {"demo"}}); st != http.StatusForbidden {
			t.Errorf("forged csrf: %d", st)
		}
		if st, _ := page(t, verify+"?user_code=BBBB-BBBB", nil); st != http.StatusBadRequest {
			t.Errorf("unknown user code: %d", st)
		}
		if st, form := page(t, verify, nil); st != 200 || !strings.Contains(form, `name="user_code"`) {
			t.Errorf("code entry page: %d %s", st, form)
		}
		if strings.Contains(body, dc) {
			t.Error("the verification page shows the device code")
		}
	})
}

// TestDeviceAutoApproveAndLogs approves with GET ?user_code= under AutoApprove and checks no code is logged.
func TestDeviceAutoApproveAndLogs(t *testing.T) {
	var buf syncBuffer
	r, err := Listen("127.0.0.1:0", Config{OAuth: true, AutoApprove: true, Logger: newBufLogger(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := registerDevice(t, r, "client_secret_post")
	out := startDevice(t, r, c)
	if st, body := page(t, r.URL+deviceVerifyPath+"?user_code="+strings.ReplaceAll(strings.ToLower(str(out["user_code"])), "-", ""), nil); st != 200 ||
		!strings.Contains(body, "Device approved") {
		t.Fatalf("auto-approve: %d %s", st, body)
	}
	st, tok := pollDevice(t, r, c, str(out["device_code"]), false)
	if st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	_, tok2 := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
	mcpStatus(t, r, str(tok2["access_token"]), 200)
	logs := buf.String()
	if !strings.Contains(logs, "oauth: device code redeemed") {
		t.Fatalf("nothing logged: %s", logs)
	}
	uc := str(out["user_code"])
	for name, secret := range map[string]string{"device code": str(out["device_code"]), "user code": uc,
		"bare user code": strings.ReplaceAll(uc, "-", ""), "client secret": c.Secret, "access token": str(tok["access_token"]),
		"refresh token": str(tok["refresh_token"]), "new refresh token": str(tok2["refresh_token"])} {
		if secret == "" || strings.Contains(logs, secret) {
			t.Errorf("%s %q is in the log", name, secret)
		}
	}
}

// TestDeviceFlowWithAuthClient runs the bridge's own device flow client against the server: discovery, DCR
// with the device client metadata, RunDeviceFlow with a "user" opening verification_uri_complete, a call to
// the MCP endpoint with the token, and a refresh.
func TestDeviceFlowWithAuthClient(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	r.srv.oauth.mu.Lock()
	r.srv.oauth.devices.interval = time.Millisecond // the client below polls every 20 ms, slower than this
	r.srv.oauth.mu.Unlock()
	ctx := testCtx(t)
	meta, err := oauth.DiscoverServer(ctx, nil, r.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	if meta.DeviceAuthorizationEndpoint != r.URL+devicePath {
		t.Fatalf("device_authorization_endpoint %q", meta.DeviceAuthorizationEndpoint)
	}
	reg, err := oauth.RegisterClient(ctx, nil, meta.RegistrationEndpoint, oauth.DeviceClient("mcp:read mcp:execute", "test"))
	if err != nil {
		t.Fatal(err)
	}
	resource := r.URL + mcpPath
	tc := &oauth.TokenClient{TokenURL: meta.TokenEndpoint, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		AuthMethod: reg.AuthMethod, Resource: resource}
	dc, err := tc.DeviceAuthorize(ctx, meta.DeviceAuthorizationEndpoint, []string{scopeRead, scopeExecute}, resource)
	if err != nil {
		t.Fatal(err)
	}
	dc.Interval = 20 * time.Millisecond
	opened := make(chan error, 1)
	go func() { // the user, on another device
		resp, err := http.Get(dc.VerificationURIComplete)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		opened <- err
	}()
	tok, err := tc.PollDevice(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("verification page: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != defaultScope {
		t.Errorf("token: refresh %t, scope %v", tok.RefreshToken != "", tok.Extra("scope"))
	}
	mcpStatus(t, r, tok.AccessToken, 200)
	refreshed, err := tc.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken {
		t.Error("the refresh did not rotate the tokens")
	}
	mcpStatus(t, r, refreshed.AccessToken, 200)

	// RunDeviceFlow, where nobody approves: the context, ended once the code is shown, ends the polling. (A
	// deadline here would race the device authorization request itself on a slow machine.)
	short, stop := context.WithCancel(ctx)
	defer stop()
	var shown oauth.DeviceCode
	_, err = oauth.RunDeviceFlow(short, tc, meta.DeviceAuthorizationEndpoint, nil, resource, func(d oauth.DeviceCode) { shown = d; stop() })
	if !errors.Is(err, context.Canceled) || shown.UserCode == "" {
		t.Errorf("err = %v, shown %v", err, shown)
	}
}
