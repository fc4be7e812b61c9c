package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/internal/authtest"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// Registration and discovery: a short wait is waited out; a long one, or a 429 that names no wait, is an error
// that says the endpoint is rate limiting, never that it does not support registration or has no metadata.
func TestRateLimitedRegistrationAndDiscovery(t *testing.T) {
	registered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"client_id":"cid-9"}`)
	})
	prm := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-protected-resource/mcp" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"resource":"https://mcp.example/mcp","authorization_servers":["https://as.example"]}`)
	})
	register := func(hc *http.Client) error {
		_, err := RegisterClient(context.Background(), hc, "https://as.example/register", NativeClient("http://127.0.0.1:1/callback", "", "test"))
		return err
	}
	discover := func(hc *http.Client) error {
		u, _ := url.Parse("https://mcp.example/mcp")
		_, err := DiscoverResource(context.Background(), hc, u, nil)
		return err
	}
	tests := []struct {
		name       string
		call       func(*http.Client) error
		next       http.Handler
		retryAfter string
		noRetries  bool
		wantSeen   []time.Duration
		wantErr    string
	}{
		{"registration: a short wait", register, registered, "1", false, []time.Duration{0, time.Second}, ""},
		{"registration: a long wait", register, registered, "45", false, []time.Duration{0},
			"the registration endpoint https://as.example/register is rate limiting (429): it asks to wait 45s (until 00:00:45 UTC)"},
		{"registration: no wait named", register, registered, "", true, []time.Duration{0},
			"the registration endpoint https://as.example/register is rate limiting (429); try again later"},
		{"discovery: a short wait", discover, prm, "1", false, []time.Duration{0, time.Second}, ""},
		{"discovery: a long wait", discover, prm, "45", false, []time.Duration{0},
			"the metadata URL https://mcp.example/.well-known/oauth-protected-resource/mcp is rate limiting (429): it asks to wait 45s"},
		{"discovery: no wait named is no absence", discover, prm, "", true, []time.Duration{0},
			"the metadata URL https://mcp.example/.well-known/oauth-protected-resource/mcp is rate limiting (429); try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := authtest.NewLimiter(tt.next, tt.retryAfter, 1)
				tr := &ratelimit.Transport{Base: authtest.InProcess{H: lim}}
				if tt.noRetries {
					tr.Retries = -1
				}
				err := tt.call(&http.Client{Transport: tr})
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsRateLimited(err)) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				var seen []time.Duration
				for _, s := range lim.Requests() {
					d, _ := time.ParseDuration(strings.Fields(s)[0])
					seen = append(seen, d)
				}
				if fmt.Sprint(seen) != fmt.Sprint(tt.wantSeen) {
					t.Errorf("the endpoint saw requests at %v; want %v", seen, tt.wantSeen)
				}
			})
		})
	}
}

// Device flow: the authorization endpoint's rate limit is named as such; a poll answered with a long wait is
// not sent again before it ends, and a 429 that names no wait slows polling down like slow_down.
func TestRateLimitedDeviceFlow(t *testing.T) {
	t.Run("device authorization endpoint", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := authtest.NewLimiter(http.NotFoundHandler(), "90", 1)
			c := &TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: authtest.LimitedClient(lim)}
			_, err := c.DeviceAuthorize(context.Background(), "https://as.example/device", nil, "")
			if err == nil || !IsRateLimited(err) || !strings.HasPrefix(err.Error(), "the device authorization endpoint https://as.example/device is rate limiting (429): it asks to wait 1m30s") {
				t.Fatalf("err = %v", err)
			}
		})
	})
	polls := func(script ...string) http.Handler { // "pending", "429 <retry-after>", "token"
		var mu sync.Mutex
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			next := script[0]
			script = script[1:]
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			switch {
			case next == "pending":
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"authorization_pending"}`)
			case strings.HasPrefix(next, "429") && !strings.Contains(next, "OAuth"):
				if ra := strings.TrimSpace(strings.TrimPrefix(next, "429")); ra != "" {
					w.Header().Set("Retry-After", ra)
				}
				w.WriteHeader(http.StatusTooManyRequests)
			case next == "429 with an OAuth error":
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":"too_many_requests"}`)
			default:
				fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer"}`)
			}
		})
	}
	tests := []struct {
		name   string
		script []string
		want   []time.Duration // when the polls came
	}{
		{"a long wait delays the next poll", []string{"pending", "429 60", "token"}, []time.Duration{5e9, 10e9, 70e9}},
		{"a short wait is taken inside the poll", []string{"pending", "429 3", "token"}, []time.Duration{5e9, 10e9, 13e9}},
		{"no wait named: slow down", []string{"pending", "429", "pending", "token"}, []time.Duration{5e9, 10e9, 20e9, 30e9}},
		{"no wait named, an OAuth error: slow down", []string{"pending", "429 with an OAuth error", "pending", "token"}, []time.Duration{5e9, 10e9, 20e9, 30e9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := authtest.NewLimiter(polls(tt.script...), "", 0)
				c := &TokenClient{TokenURL: "https://as.example/token", ClientID: "c",
					HTTP: &http.Client{Transport: &ratelimit.Transport{Base: authtest.InProcess{H: lim}, Retries: -1}}}
				dc := &DeviceCode{UserCode: "U", VerificationURI: "https://as.example/verify", Expiry: time.Now().Add(10 * time.Minute),
					Interval: 5 * time.Second, code: "dc"}
				tok, err := c.PollDevice(context.Background(), dc)
				if err != nil || tok.AccessToken != "at-1" {
					t.Fatalf("PollDevice = %v, %v", tok, err)
				}
				var seen []time.Duration
				for _, s := range lim.Requests() {
					d, _ := time.ParseDuration(strings.Fields(s)[0])
					seen = append(seen, d)
				}
				if fmt.Sprint(seen) != fmt.Sprint(tt.want) {
					t.Errorf("polls at %v; want %v", seen, tt.want)
				}
			})
		})
	}
}
