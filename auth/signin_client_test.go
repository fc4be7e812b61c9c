package auth

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// lockedBuffer is a stderr the sign-in writes to from its goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A client registered beforehand signs in, refreshes and revokes with its own token endpoint auth method, at its
// own redirect URI; without the method named, a client_secret_post client gets basic (the server lists both) and
// is refused, which is why a client.json's token_endpoint_auth_method matters.
func TestPreregisteredClientSignIn(t *testing.T) {
	port := freePort(t)
	redirect := "http://localhost:" + strconv.Itoa(port) + "/oauth/callback"
	tests := []struct {
		name    string
		method  string // SignIn.ClientAuthMethod
		wantErr bool
	}{
		{"client_secret_post, as registered", oauth.AuthPost, false},
		{"method not named: basic, refused", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Clients: []devserver.Client{
				{ID: "sigil", Secret: "s3cret", AuthMethod: oauth.AuthPost, RedirectURIs: []string{redirect}}}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			(&browserStub{}).open(t)
			s := newLifecycleSignIn(t, srv, t.TempDir())
			s.ClientID, s.ClientSecret, s.ClientAuthMethod = "sigil", "s3cret", tt.method
			s.CallbackHost, s.CallbackPort, s.CallbackPath = "localhost", port, "/oauth/callback"
			stderr := &lockedBuffer{}
			s.Stderr = stderr
			ctx := context.Background()
			err = s.Login(ctx, nil, nil)
			if !strings.Contains(stderr.String(), "client_id sigil with the redirect URI "+redirect) {
				t.Errorf("stderr does not name the redirect URI:\n%s", stderr)
			}
			if tt.wantErr {
				var ce *ClientRefusedError
				if !errors.As(err, &ce) || !ce.Configured {
					t.Fatalf("err = %v, want the configured client refused", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := s.Token()
			if err := s.Reauthorize(ctx, 401, nil, tok.AccessToken); err != nil { // a refresh
				t.Fatalf("refresh: %v", err)
			}
			if n := srv.TokenCounts().ByGrant["refresh_token"]; n != 1 {
				t.Fatalf("%d refreshes, want 1", n)
			}
			if err := s.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			if n := srv.LiveAccessTokens(); n != 0 {
				t.Errorf("%d access tokens live after logout: the revocation did not authenticate", n)
			}
		})
	}
}

// With a client registered beforehand, a redirect URI the server does not know leaves the browser on the server's
// error page: the timeout names the redirect URI, and the sign-in's state showed it while waiting.
func TestPreregisteredRedirectMismatchTimesOut(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Clients: []devserver.Client{
		{ID: "neotoma", RedirectURIs: []string{"http://localhost:8080/oauth/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	(&browserStub{}).open(t)
	s := newLifecycleSignIn(t, srv, t.TempDir())
	s.ClientID, s.AuthTimeout = "neotoma", time.Second // the browser never comes back, however long the wait
	var shown string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			st, changed := s.Watch()
			if st.RedirectURI != "" {
				shown = st.RedirectURI
			}
			if st.Phase == Failed || st.Phase == SignedIn {
				return
			}
			<-changed
		}
	}()
	err = s.Login(context.Background(), nil, nil)
	<-done
	var te *TimeoutError
	if !errors.As(err, &te) || te.ClientID != "neotoma" || !strings.HasPrefix(te.RedirectURI, "http://127.0.0.1:") || shown != te.RedirectURI {
		t.Fatalf("err = %v (%+v), shown %q", err, te, shown)
	}
	if !strings.Contains(err.Error(), "does not have this redirect URI registered") {
		t.Errorf("err = %v", err)
	}
}

// A server that publishes no metadata at all: the endpoints set by hand sign in; without them there is no sign-in.
func TestManualEndpointsSignIn(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true,
		Faults: []devserver.Fault{devserver.FaultNoPRM, devserver.FaultNoASMetadata}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	(&browserStub{}).open(t)
	for _, manual := range []bool{false, true} {
		s := newLifecycleSignIn(t, srv, t.TempDir())
		if manual {
			s.AuthorizationURL, s.TokenURL, s.RegistrationURL = srv.URL+"/oauth/authorize", srv.URL+"/oauth/token", srv.URL+"/oauth/register"
		}
		err := s.Login(context.Background(), nil, nil)
		if manual != (err == nil) {
			t.Fatalf("manual endpoints %v: err = %v", manual, err)
		}
		if !manual {
			continue
		}
		rec, tok, err := credstore.ReadSignIn(context.Background(), s.Store, s.resource())
		if err != nil || tok == nil || rec.TokenEndpoint != s.TokenURL {
			t.Fatalf("stored sign-in %+v, %v", rec, err)
		}
	}
	if got := srv.Stats().Authorizations; got != 1 {
		t.Errorf("%d authorizations, want 1", got)
	}
}

// The scope rule picks what a first sign-in asks the reference server for.
func TestSignInScopes(t *testing.T) {
	listed := []string{"openid", "profile", "email", "mcp:read", "mcp:execute", "mcp:manage"}
	tests := []struct {
		name string
		rule oauth.ScopeRule
		want string
	}{
		{"spec: scopes_supported", oauth.ScopeRule{}, strings.Join(listed, " ")},
		{"MeshAI's documented scopes", oauth.ScopeRule{Preferred: []string{"mcp:read", "mcp:execute"}}, "mcp:read mcp:execute"},
		{"--scope", oauth.ScopeRule{Fixed: []string{"mcp:read"}, Preferred: []string{"mcp:read", "mcp:execute"}}, "mcp:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, ScopesSupported: listed, NoChallengeScope: true})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			(&browserStub{}).open(t)
			s := newLifecycleSignIn(t, srv, t.TempDir())
			s.Scopes = tt.rule
			if err := s.Login(context.Background(), nil, nil); err != nil {
				t.Fatal(err)
			}
			if got := srv.AskedScopes(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("asked %q, want %q", got, tt.want)
			}
		})
	}
}

// The port a pre-registered client's redirect URI names is taken: the sign-in stops there, rather than sending a
// redirect URI on another port that the registration does not list.
func TestPreregisteredPortBusy(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Clients: []devserver.Client{
		{ID: "sigil", RedirectURIs: []string{"http://127.0.0.1:" + strconv.Itoa(port) + "/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := &browserStub{}
	b.open(t)
	s := newLifecycleSignIn(t, srv, t.TempDir())
	s.ClientID, s.CallbackPort = "sigil", port
	err = s.Login(context.Background(), nil, nil)
	var pe *CallbackPortBusyError
	if !errors.As(err, &pe) || pe.Port != port || b.opens.Load() != 0 {
		t.Fatalf("err = %v, %d browser opens; want the port named and no browser", err, b.opens.Load())
	}
}
