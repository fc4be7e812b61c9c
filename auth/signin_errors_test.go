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
				if e != nil && e.StaleClientID != "" {
					t.Errorf("err = %v: a registration made by this very sign-in is not stale", err)
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

// A first sign-in is denied; the authorization server then forgets the registration it made (a restart; real
// servers purge unused ones). The next sign-in reuses it, the server shows its own "unknown client_id" page and
// the browser never comes back: the timeout says the registration may be the cause and forgets it, and the sign-in
// after that registers anew and succeeds, with no logout. A registration a sign-in has used is kept.
func TestTimeoutForgetsUnusedRegistration(t *testing.T) {
	srv, b := startLifecycle(t)
	dir := t.TempDir()
	s := newLifecycleSignIn(t, srv, dir)
	s.Stderr = io.Discard
	ctx := t.Context()
	b.deny.Store(true)
	if err := s.Login(ctx, nil, nil); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("first sign-in: %v, want access_denied", err)
	}
	b.deny.Store(false)
	if n := srv.ForgetClients(); n != 1 {
		t.Fatalf("the server forgot %d clients, want 1", n)
	}
	s.AuthTimeout = 100 * time.Millisecond // the browser stops on the server's error page: this always runs out
	err := s.Login(ctx, nil, nil)
	var te *TimeoutError
	if !errors.As(err, &te) || te.StaleClientID == "" || !strings.Contains(err.Error(), "may no longer know this app's registration") ||
		!strings.Contains(err.Error(), "the next sign-in registers anew") {
		t.Fatalf("sign-in with the forgotten client: %v, want a *TimeoutError naming the stale registration", err)
	}
	if n := srv.Stats().Registrations; n != 1 {
		t.Fatalf("%d registrations before the retry, want 1", n)
	}
	s.AuthTimeout = time.Minute
	if err := s.Login(ctx, nil, nil); err != nil {
		t.Fatalf("the sign-in after the timeout: %v", err)
	}
	// Authorization requests: the one the server did not know the client of, and the one that signed in.
	if st := srv.Stats(); st.Registrations != 2 || st.Authorizations != 2 {
		t.Errorf("after the retry: %d registrations, %d authorization requests; want 2, 2", st.Registrations, st.Authorizations)
	}

	// Signed in with it: a timeout now is the browser's, and the registration stays.
	s.AuthTimeout = 100 * time.Millisecond
	b.deny.Store(true)
	openWithSystem = func(string) error { return nil } // a browser that never comes back
	err = s.Login(ctx, nil, nil)
	if !errors.As(err, &te) || te.StaleClientID != "" {
		t.Fatalf("a timeout with a registration a sign-in used: %v, want a plain *TimeoutError", err)
	}
	rec, _, _ := credstore.ReadSignIn(ctx, s.Store, s.resource())
	if reg, _ := credstore.LoadRegistration(ctx, s.Store, credstore.ClientKey{Resource: rec.Resource, Issuer: rec.Issuer}); reg == nil || reg.ClientID != rec.ClientID {
		t.Errorf("the used registration was dropped: %v", reg)
	}
}
