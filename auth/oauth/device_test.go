package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretDeviceCode is the device code the fake servers issue; no error or printed form may contain it.
const secretDeviceCode = "dc-SECRET-4f9a"

// fakeWaits makes PollDevice not wait at all and records the waits it asked for.
func fakeWaits(t *testing.T) *[]time.Duration {
	t.Helper()
	var waits []time.Duration
	old := deviceAfter
	deviceAfter = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		ch := make(chan time.Time, 1)
		ch <- time.Now()
		return ch
	}
	t.Cleanup(func() { deviceAfter = old })
	return &waits
}

// answer is one scripted HTTP answer; abort drops the connection instead.
type answer struct {
	status int
	body   string
	abort  bool
}

// deviceServer is a fake authorization server: /device answers device, /token answers the script in order (the
// last answer repeats). It records the forms and Authorization headers it got.
type deviceServer struct {
	*httptest.Server
	device answer

	mu          sync.Mutex
	script      []answer
	deviceForm  url.Values
	deviceAuthz string
	polls       []url.Values
}

func newDeviceServer(t *testing.T, device answer, script ...answer) *deviceServer {
	t.Helper()
	s := &deviceServer{device: device, script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		var a answer
		switch r.URL.Path {
		case "/device":
			s.deviceForm, s.deviceAuthz = r.PostForm, r.Header.Get("Authorization")
			a = s.device
		case "/token":
			s.polls = append(s.polls, r.PostForm)
			a = s.script[0]
			if len(s.script) > 1 {
				s.script = s.script[1:]
			}
		default:
			s.mu.Unlock()
			http.NotFound(w, r)
			return
		}
		s.mu.Unlock()
		if a.abort {
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(strings.ReplaceAll(a.body, "{base}", s.URL)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *deviceServer) pollForms() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.polls...)
}

func (s *deviceServer) client(method string) *TokenClient {
	return &TokenClient{TokenURL: s.URL + "/token", ClientID: "cid-1", ClientSecret: "csecret", AuthMethod: method,
		Resource: "https://mcp.example.com/mcp"}
}

const okDevice = `{"device_code":"` + secretDeviceCode + `","user_code":"WDJB-MJHT","verification_uri":"{base}/verify",
	"verification_uri_complete":"{base}/verify?user_code=WDJB-MJHT","expires_in":600}`

func oauthErr(code, desc string) answer {
	return answer{status: 400, body: fmt.Sprintf(`{"error":%q,"error_description":%q}`, code, desc)}
}

var (
	pending  = oauthErr("authorization_pending", "")
	slowDown = oauthErr("slow_down", "")
	tokenOK  = answer{status: 200, body: `{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-1","expires_in":3600,"scope":"mcp:read"}`}
)

// noDeviceCode fails the test when err's text holds the device code.
func noDeviceCode(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secretDeviceCode) {
		t.Errorf("the error shows the device code: %v", err)
	}
}

func TestDeviceAuthorize(t *testing.T) {
	tests := []struct {
		name         string
		device       answer
		method       string
		resource     string // the resource argument
		wantErr      string
		invalidClnt  bool
		wantInterval time.Duration
		wantURI      string // "{base}" replaced
	}{
		{name: "ok, default interval", device: answer{status: 200, body: okDevice}, resource: "https://mcp.example.com/v1/mcp",
			wantInterval: 5 * time.Second, wantURI: "{base}/verify"},
		{name: "interval given, client_secret_basic", method: AuthBasic, device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode +
			`","user_code":"ABCD","verification_uri":"{base}/verify","expires_in":"300","interval":7}`}, wantInterval: 7 * time.Second, wantURI: "{base}/verify"},
		{name: "verification_url, the pre-RFC name", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode +
			`","user_code":"ABCD","verification_url":"https://www.example.com/device","expires_in":1800,"interval":5}`},
			wantInterval: 5 * time.Second, wantURI: "https://www.example.com/device"},
		{name: "invalid JSON", device: answer{status: 200, body: `{"device_code":`}, wantErr: "other than JSON"},
		{name: "missing device_code", device: answer{status: 200, body: `{"user_code":"A","verification_uri":"{base}/v","expires_in":600}`}, wantErr: "without a device_code"},
		{name: "missing user_code", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode + `","verification_uri":"{base}/v","expires_in":600}`}, wantErr: "without a user_code"},
		{name: "missing verification_uri", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode + `","user_code":"A","expires_in":600}`}, wantErr: "without a verification_uri"},
		{name: "missing expires_in", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode + `","user_code":"A","verification_uri":"{base}/v"}`}, wantErr: "expires_in"},
		{name: "plain http verification_uri", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode +
			`","user_code":"A","verification_uri":"http://evil.example/v","expires_in":600}`}, wantErr: "unusable verification_uri"},
		{name: "javascript verification_uri_complete", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode +
			`","user_code":"A","verification_uri":"{base}/v","verification_uri_complete":"javascript:alert(1)","expires_in":600}`}, wantErr: "unusable verification_uri_complete"},
		{name: "terminal escape in user_code", device: answer{status: 200, body: `{"device_code":"` + secretDeviceCode +
			`","user_code":"A\u001b[2J","verification_uri":"{base}/v","expires_in":600}`}, wantErr: "cannot be shown"},
		{name: "invalid_client", device: oauthErr("invalid_client", "unknown client"), wantErr: "register it again", invalidClnt: true},
		{name: "invalid_scope", device: oauthErr("invalid_scope", "no such scope"), wantErr: "does not grant these scopes"},
		{name: "no device endpoint", device: answer{status: 404, body: `not found`}, wantErr: "may not support the device flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDeviceServer(t, tt.device)
			c := s.client(tt.method)
			dc, err := c.DeviceAuthorize(context.Background(), s.URL+"/device", []string{"mcp:read", "mcp:execute"}, tt.resource)
			f := s.deviceForm
			wantRes := tt.resource
			if wantRes == "" {
				wantRes = c.Resource
			}
			if f.Get("scope") != "mcp:read mcp:execute" || f.Get("resource") != wantRes || f.Get("grant_type") != "" {
				t.Errorf("device request form %v", f)
			}
			if tt.method == AuthBasic {
				if f.Get("client_id") != "" || !strings.HasPrefix(s.deviceAuthz, "Basic ") {
					t.Errorf("basic auth: form %v, Authorization %q", f, s.deviceAuthz)
				}
			} else if f.Get("client_id") != "cid-1" || s.deviceAuthz != "" {
				t.Errorf("public client: form %v, Authorization %q", f, s.deviceAuthz)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				noDeviceCode(t, err)
				if IsInvalidClient(err) != tt.invalidClnt {
					t.Errorf("IsInvalidClient(%v) = %v", err, !tt.invalidClnt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dc.code != secretDeviceCode || dc.VerificationURI != strings.ReplaceAll(tt.wantURI, "{base}", s.URL) || dc.Interval != tt.wantInterval {
				t.Errorf("device code %#v (interval %s)", dc, dc.Interval)
			}
			if left := time.Until(dc.Expiry); left < 4*time.Minute || left > 31*time.Minute {
				t.Errorf("expiry in %s", left)
			}
		})
	}
}

// TestDeviceCodeNotPrinted checks that no printed or logged form of a DeviceCode shows the device code.
func TestDeviceCodeNotPrinted(t *testing.T) {
	dc := DeviceCode{UserCode: "WDJB-MJHT", VerificationURI: "https://as.example/device", Expiry: time.Now().Add(10 * time.Minute),
		Interval: 5 * time.Second, code: secretDeviceCode}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("device", "dc", dc, "ptr", &dc)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("device", "dc", dc)
	for _, out := range []string{fmt.Sprint(dc), fmt.Sprintf("%v %+v %#v %s", dc, dc, dc, dc), fmt.Sprintf("%+v %#v", &dc, &dc),
		dc.Instructions(), logged.String()} {
		if strings.Contains(out, secretDeviceCode) {
			t.Errorf("printed the device code: %s", out)
		}
	}
	if in := dc.Instructions(); !strings.Contains(in, "WDJB-MJHT") || !strings.Contains(in, "https://as.example/device") || !strings.Contains(in, "10 minutes") {
		t.Errorf("instructions %q", in)
	}
}

func TestPollDevice(t *testing.T) {
	tests := []struct {
		name      string
		script    []answer
		wantWaits []time.Duration
		wantIs    error
		wantErr   string
	}{
		{name: "pending then success", script: []answer{pending, pending, tokenOK}, wantWaits: []time.Duration{5e9, 5e9, 5e9}},
		{name: "slow_down adds 5 s each time", script: []answer{slowDown, pending, slowDown, tokenOK}, wantWaits: []time.Duration{5e9, 10e9, 10e9, 15e9}},
		{name: "network error backs off", script: []answer{{abort: true}, {abort: true}, pending, tokenOK}, wantWaits: []time.Duration{5e9, 10e9, 20e9, 5e9}},
		{name: "access_denied", script: []answer{pending, oauthErr("access_denied", "the user said no")}, wantIs: ErrDeviceDenied, wantErr: "denied"},
		{name: "expired_token", script: []answer{pending, oauthErr("expired_token", "")}, wantIs: ErrDeviceExpired, wantErr: "expired"},
		{name: "invalid JSON", script: []answer{{status: 200, body: `{"access_token":`}}, wantErr: "other than JSON"},
		{name: "no access token", script: []answer{{status: 200, body: `{"token_type":"Bearer"}`}}, wantErr: "without an access token"},
		{name: "unsupported grant type", script: []answer{oauthErr("unsupported_grant_type", "")}, wantErr: "sign in with the browser"},
		{name: "invalid_client", script: []answer{oauthErr("invalid_client", "")}, wantErr: "register the client again"},
		{name: "error echoing the device code", script: []answer{oauthErr("invalid_grant", "unknown device_code "+secretDeviceCode)}, wantErr: "unknown device_code [redacted]"},
		{name: "HTML error page", script: []answer{{status: 502, body: "<html>bad gateway</html>"}}, wantErr: "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits := fakeWaits(t)
			s := newDeviceServer(t, answer{status: 200, body: okDevice}, tt.script...)
			c := s.client(AuthNone)
			dc, err := c.DeviceAuthorize(context.Background(), s.URL+"/device", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.PollDevice(context.Background(), dc)
			noDeviceCode(t, err)
			for i, f := range s.pollForms() {
				if f.Get("grant_type") != DeviceGrantType || f.Get("device_code") != secretDeviceCode || f.Get("client_id") != "cid-1" ||
					f.Get("resource") != "https://mcp.example.com/mcp" {
					t.Errorf("poll %d form %v", i, f)
				}
			}
			if tt.wantErr != "" || tt.wantIs != nil {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" || tok.Extra("scope") != "mcp:read" {
				t.Errorf("token %+v", tok)
			}
			if fmt.Sprint(*waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", *waits, tt.wantWaits)
			}
		})
	}
}

func TestPollDeviceStops(t *testing.T) {
	t.Run("expired before a poll", func(t *testing.T) {
		fakeWaits(t)
		s := newDeviceServer(t, answer{}, tokenOK)
		dc := &DeviceCode{Expiry: time.Now().Add(-time.Second), Interval: time.Second, code: secretDeviceCode}
		_, err := s.client(AuthNone).PollDevice(context.Background(), dc)
		if !errors.Is(err, ErrDeviceExpired) || len(s.pollForms()) != 0 {
			t.Errorf("err = %v after %d polls, want ErrDeviceExpired and none", err, len(s.pollForms()))
		}
	})
	t.Run("context ended", func(t *testing.T) {
		old := deviceAfter
		deviceAfter = func(time.Duration) <-chan time.Time { return nil } // never fires
		t.Cleanup(func() { deviceAfter = old })
		s := newDeviceServer(t, answer{}, tokenOK)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dc := &DeviceCode{Expiry: time.Now().Add(time.Hour), Interval: time.Second, code: secretDeviceCode}
		_, err := s.client(AuthNone).PollDevice(ctx, dc)
		if !errors.Is(err, context.Canceled) || len(s.pollForms()) != 0 {
			t.Errorf("err = %v after %d polls, want context.Canceled and none", err, len(s.pollForms()))
		}
	})
	t.Run("no device code", func(t *testing.T) {
		if _, err := (&TokenClient{}).PollDevice(context.Background(), &DeviceCode{}); err == nil {
			t.Error("polled without a device code")
		}
	})
}

func TestRunDeviceFlow(t *testing.T) {
	waits := fakeWaits(t)
	s := newDeviceServer(t, answer{status: 200, body: okDevice}, pending, tokenOK)
	c := s.client(AuthNone)
	c.Resource = ""
	var shown []DeviceCode
	tok, err := RunDeviceFlow(context.Background(), c, s.URL+"/device", []string{"mcp:read"}, "https://mcp.example.com/v1/mcp",
		func(dc DeviceCode) { shown = append(shown, dc) })
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-1" || len(*waits) != 2 {
		t.Errorf("token %+v after waits %v", tok, *waits)
	}
	if len(shown) != 1 || shown[0].code != "" || shown[0].UserCode != "WDJB-MJHT" || shown[0].VerificationURIComplete != s.URL+"/verify?user_code=WDJB-MJHT" {
		t.Errorf("shown %#v", shown)
	}
	if s.deviceForm.Get("resource") != "https://mcp.example.com/v1/mcp" {
		t.Errorf("device request form %v", s.deviceForm)
	}
	for _, f := range s.pollForms() {
		if f.Get("resource") != "https://mcp.example.com/v1/mcp" || f.Get("device_code") != secretDeviceCode {
			t.Errorf("poll form %v", f)
		}
	}
	// A refusal at the device endpoint shows nothing.
	bad := newDeviceServer(t, oauthErr("unauthorized_client", ""))
	shown = nil
	if _, err := RunDeviceFlow(context.Background(), bad.client(AuthNone), bad.URL+"/device", nil, "", func(dc DeviceCode) { shown = append(shown, dc) }); err == nil || len(shown) != 0 {
		t.Errorf("err = %v, shown %v", err, shown)
	}
	if _, err := RunDeviceFlow(context.Background(), c, "http://as.example/device", nil, "", nil); err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Errorf("plain http endpoint: err = %v", err)
	}
}

func TestDeviceClientRegistration(t *testing.T) {
	var raw map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&raw)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"client_id":"dev-1","token_endpoint_auth_method":"none","redirect_uris":[],"grant_types":["` + DeviceGrantType + `","refresh_token"]}`))
	}))
	defer srv.Close()
	dc, err := RegisterClient(context.Background(), nil, srv.URL, DeviceClient("mcp:read", "1.2.3"))
	if err != nil || dc.ClientID != "dev-1" || dc.AuthMethod != AuthNone {
		t.Fatalf("got %+v, %v", dc, err)
	}
	if _, has := raw["redirect_uris"]; has {
		t.Errorf("a device client registers no redirect_uris: %v", raw)
	}
	if fmt.Sprint(raw["grant_types"]) != "["+DeviceGrantType+" refresh_token]" || fmt.Sprint(raw["response_types"]) != "[]" ||
		raw["token_endpoint_auth_method"] != "none" || raw["application_type"] != "native" {
		t.Errorf("registered %v", raw)
	}
	// The redirect-based client still sends its redirect URI.
	b, _ := json.Marshal(NativeClient("http://127.0.0.1:1/callback", "", "1"))
	if !strings.Contains(string(b), `"redirect_uris":["http://127.0.0.1:1/callback"]`) {
		t.Errorf("native client %s", b)
	}
}

func TestDeviceEndpointInMetadata(t *testing.T) {
	for _, tc := range []struct{ endpoint, wantErr string }{
		{"{base}/device", ""},
		{"http://as.example/device", "device_authorization_endpoint"},
	} {
		var base string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/.well-known/oauth-authorization-server" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token",
				"device_authorization_endpoint":%q,"code_challenge_methods_supported":["S256"]}`, base, strings.ReplaceAll(tc.endpoint, "{base}", base))
		}))
		base = srv.URL
		md, err := DiscoverServer(context.Background(), nil, base, true)
		srv.Close()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.endpoint, err, tc.wantErr)
			}
			continue
		}
		if err != nil || md.DeviceAuthorizationEndpoint != base+"/device" {
			t.Errorf("%s: %+v, %v", tc.endpoint, md, err)
		}
	}
}
