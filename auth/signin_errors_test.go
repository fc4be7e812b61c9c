package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// Each way a sign-in against the reference server fails is a typed error carrying the facts: the issuer, the
// server's own words, the time allowed. None of them names a flag or a command: that is the command line's advice.
func TestSignInFailureFacts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []devserver.Fault
		setup  func(*SignIn)
		check  func(t *testing.T, err error, issuer string)
	}{
		{"no registration", []devserver.Fault{devserver.FaultNoRegistration}, nil, func(t *testing.T, err error, issuer string) {
			var e *NoRegistrationError
			if !errors.As(err, &e) || *e != (NoRegistrationError{Issuer: issuer}) {
				t.Errorf("err = %v, want a *NoRegistrationError for %s", err, issuer)
			}
		}},
		{"no registration for the device grant", []devserver.Fault{devserver.FaultNoRegistration}, func(s *SignIn) { s.DeviceCode = true },
			func(t *testing.T, err error, issuer string) {
				var e *NoRegistrationError
				if !errors.As(err, &e) || *e != (NoRegistrationError{Issuer: issuer, Device: true}) {
					t.Errorf("err = %v, want a *NoRegistrationError for the device grant at %s", err, issuer)
				}
			}},
		{"redirect URI refused", []devserver.Fault{devserver.FaultRegistrationRejectsRedirect}, nil, func(t *testing.T, err error, issuer string) {
			var e *oauth.RegistrationError
			if !errors.As(err, &e) || !e.RedirectRefused || e.Code != "invalid_redirect_uri" || e.Status != 400 || e.Description == "" {
				t.Errorf("err = %v, want a *RegistrationError refusing the redirect URI with the server's words", err)
			}
		}},
		{"browser never comes back", nil, func(s *SignIn) { s.BrowserCommand, s.AuthTimeout = NoBrowser, 50*time.Millisecond },
			func(t *testing.T, err error, issuer string) {
				var e *TimeoutError
				if !errors.As(err, &e) || e.After != 50*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want a *TimeoutError after 50ms", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Faults: tc.faults})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			s := newLifecycleSignIn(t, srv, t.TempDir())
			s.BrowserCommand, s.Stderr = NoBrowser, io.Discard
			if tc.setup != nil {
				tc.setup(s)
			}
			err = s.Login(t.Context(), nil, nil)
			if err == nil {
				t.Fatal("the sign-in succeeded")
			}
			tc.check(t, err, srv.URL)
			for _, advice := range []string{"--", "meshai-mcp-server ", "MESHAI_"} {
				if strings.Contains(err.Error(), advice) {
					t.Errorf("err = %q names %q: advice belongs to the command line", err, advice)
				}
			}
		})
	}
}

// A device sign-in at an authorization server without a device authorization endpoint stops before anything is
// registered, naming the issuer.
func TestNoDeviceGrant(t *testing.T) {
	s := &SignIn{DeviceCode: true}
	err := s.deviceSignIn(context.Background(), &oauth.ServerMetadata{Issuer: "https://as.example.com"}, "https://mcp.example.com/mcp", nil)
	var e *NoDeviceGrantError
	if !errors.As(err, &e) || e.Issuer != "https://as.example.com" || !strings.Contains(err.Error(), "https://as.example.com offers no device sign-in") {
		t.Fatalf("err = %v, want a *NoDeviceGrantError naming the issuer", err)
	}
}

// A stored sign-in record that is not what the bridge wrote is an error naming the server, and is ErrUnreadable.
func TestUnreadableSignInNamesTheServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _, err := credstore.Open(ctx, credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://mcp.example.com/v1/mcp")
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store}
	if err := credstore.SaveSignIn(ctx, store, s.resource(), &credstore.SignInRecord{}); err != nil { // no client, no token endpoint
		t.Fatal(err)
	}
	_, err = s.Status(ctx)
	if !errors.Is(err, credstore.ErrUnreadable) || !strings.Contains(err.Error(), "the stored sign-in for https://mcp.example.com/v1/mcp is unreadable") {
		t.Fatalf("Status = %v, want ErrUnreadable naming the server", err)
	}
}

// A refused client says whose it was: the user's own stays refused, a registration is registered anew.
func TestClientRefusedErrorText(t *testing.T) {
	cause := &oauth.TokenError{Status: 401, Code: "invalid_client"}
	for _, tc := range []struct {
		err  *ClientRefusedError
		want string
	}{
		{&ClientRefusedError{ClientID: "mine", Configured: true}, "the authorization server refused client_id mine (invalid_client)"},
		{&ClientRefusedError{ClientID: "dyn-1", Err: cause},
			"the authorization server no longer knows this app's registration (client_id dyn-1, invalid_client); it is forgotten here, and the next sign-in registers anew: " + cause.Error()},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", *tc.err, got, tc.want)
		}
		if wrapped := fmt.Errorf("redeem the sign-in code: %w", tc.err); tc.err.Err != nil && !oauth.IsInvalidClient(wrapped) {
			t.Errorf("%v: the token endpoint's answer must stay visible to errors.As", wrapped)
		}
	}
}
