package cli

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// The view reads the rate limits the shared HTTP client waits out: the MCP endpoint's as the server's, and, only
// while this bridge signs in, the latest of the others' as the sign-in's.
func TestSignInViewWaits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", strings.TrimPrefix(r.URL.Path, "/wait/")[:3]) // longer than a request waits
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	hc := remote.NewHTTPClient()
	for _, p := range []string{"/wait/100/mcp", "/wait/200/register", "/wait/300/token"} {
		resp, err := hc.Get(srv.URL + p)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s: a 429 asking for more than a request waits went through", p)
		}
	}
	u, _ := url.Parse(srv.URL + "/wait/100/mcp")
	v := signInView{si: &auth.SignIn{ServerURL: u, HTTP: hc}}
	tests := []struct {
		signingIn          bool
		signInWaitAtLeast  int // seconds more than the server's wait: the sign-in's is the latest of the others
		wantSignInWaitZero bool
	}{
		{signingIn: true, signInWaitAtLeast: 150},
		{signingIn: false, wantSignInWaitZero: true},
	}
	for _, tt := range tests {
		t.Run("signing in "+strconv.FormatBool(tt.signingIn), func(t *testing.T) {
			signIn, server := v.waits(tt.signingIn)
			if server.IsZero() {
				t.Errorf("the MCP endpoint's wait is not shown")
			}
			if tt.wantSignInWaitZero != signIn.IsZero() {
				t.Errorf("sign-in wait %v while signing in = %v", signIn, tt.signingIn)
			}
			if !tt.wantSignInWaitZero && signIn.Sub(server).Seconds() < float64(tt.signInWaitAtLeast) {
				t.Errorf("sign-in wait ends %v after the server's, want the token endpoint's (200 s after)", signIn.Sub(server))
			}
		})
	}
}

// A sign-in's failure reaches remote marked as one (remote.SignInFailure), so a rate limit it met is not
// "nothing is lost"; other refusals are not marked.
func TestAdvisingSignInMarksSignInFailures(t *testing.T) {
	si := referenceSignIn(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultNoRegistration}})
	si.HTTP = remote.NewHTTPClient()
	a := advisingSignIn{si: si, adv: adviser{serving: true}}
	tests := []struct {
		name   string
		status int
		marked bool
	}{
		{"a sign-in that fails", http.StatusUnauthorized, true},
		{"the same failure met again", http.StatusUnauthorized, true},
		{"a refusal that is not a sign-in", http.StatusForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Reauthorize(t.Context(), tt.status, nil, "")
			if err == nil {
				t.Fatal("Reauthorize succeeded")
			}
			if got := errors.As(err, new(*remote.SignInFailure)); got != tt.marked {
				t.Errorf("Reauthorize = %v; marked as a sign-in failure: %v, want %v", err, got, tt.marked)
			}
		})
	}
}
