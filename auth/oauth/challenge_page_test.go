package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// cloudflareChallenge answers as Cloudflare's managed challenge does to a client without a browser.
func cloudflareChallenge(status int, headers bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if headers {
			w.Header().Set("Cf-Mitigated", "challenge")
			w.Header().Set("Server", "cloudflare")
			w.Header().Set("Cf-Ray", "8f00-AMS")
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>`))
	}
}

// The token endpoint behind a challenge: the error names the vendor and its evidence, and carries it typed.
func TestTokenEndpointChallenge(t *testing.T) {
	for _, c := range []struct {
		name    string
		h       http.HandlerFunc
		want    string
		vendor  string
		htmlMsg bool // the generic HTML message instead
	}{
		{name: "403 with Cloudflare's headers", h: cloudflareChallenge(403, true), vendor: "Cloudflare",
			want: `the token endpoint answered HTTP 403 with a Cloudflare challenge page (cf-mitigated: challenge, server: cloudflare, cf-ray: 8f00-AMS, title "Just a moment..."), not JSON`},
		{name: "503 page alone", h: cloudflareChallenge(503, false), vendor: "Cloudflare",
			want: `the token endpoint answered HTTP 503 with a Cloudflare challenge page (title "Just a moment..."), not JSON`},
		{name: "200 challenge", h: cloudflareChallenge(200, true), vendor: "Cloudflare",
			want: `the token endpoint answered HTTP 200 with something other than JSON: a Cloudflare challenge page (cf-mitigated: challenge`},
		{name: "an origin's HTML error page", want: "HTML page instead of JSON", h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "cloudflare")
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html><title>Bad gateway</title></html>"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			tc := &TokenClient{TokenURL: srv.URL, ClientID: "c"}
			_, err := tc.Refresh(context.Background(), "rt-secret-value")
			var te *TokenError
			if !errors.As(err, &te) || te.Challenge != c.vendor || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v (%#v), want a *TokenError with challenge %q saying %q", err, te, c.vendor, c.want)
			}
			if IsInvalidGrant(err) || IsInvalidClient(err) || strings.Contains(err.Error(), "rt-secret-value") {
				t.Errorf("err = %v: a challenge is not a lost grant, and the token must not show", err)
			}
		})
	}
}

// A metadata URL behind a challenge is not an absent document: discovery stops there with a *ChallengeError,
// whatever the status, instead of trying the next location.
func TestMetadataChallengeStopsDiscovery(t *testing.T) {
	for _, status := range []int{403, 503, 200} {
		var paths []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			cloudflareChallenge(status, true)(w, r)
		}))
		u, _ := url.Parse(srv.URL + "/mcp")
		_, err := DiscoverResource(context.Background(), srv.Client(), u, nil)
		srv.Close()
		var ce *ChallengeError
		if !errors.As(err, &ce) || ce.Vendor != "Cloudflare" || ce.Status != status || errors.Is(err, ErrNoResourceMetadata) {
			t.Fatalf("%d: err = %v, want a *ChallengeError", status, err)
		}
		want := fmt.Sprintf("%s%s/mcp answered HTTP %d with a Cloudflare challenge page (cf-mitigated: challenge", srv.URL, prmWK, status)
		if !strings.HasPrefix(err.Error(), want) || len(paths) != 1 {
			t.Errorf("%d: err = %v after %v", status, err, paths)
		}
	}
}

// A rate-limited metadata URL is not an absent document either: discovery stops with the server's wait.
func TestMetadataRateLimitStopsDiscovery(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	u, _ := url.Parse(srv.URL + "/mcp")
	_, err := DiscoverResource(context.Background(), srv.Client(), u, nil)
	srv.Close()
	if err == nil || errors.Is(err, ErrNoResourceMetadata) || !strings.Contains(err.Error(), "is rate limiting (429): it asks to wait 7s") || len(paths) != 1 {
		t.Errorf("err = %v after %v", err, paths)
	}
}
