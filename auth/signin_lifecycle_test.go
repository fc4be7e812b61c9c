package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// browserStub replaces the system browser for one test: deny bounces the browser back to the redirect URI with
// an access_denied error, as a user clicking Deny would; otherwise it follows the reference server's auto-approval.
type browserStub struct {
	opens atomic.Int32
	deny  atomic.Bool
}

func (b *browserStub) open(t *testing.T) {
	old := openWithSystem
	t.Cleanup(func() { openWithSystem = old })
	openWithSystem = func(raw string) error {
		b.opens.Add(1)
		go func() {
			u, err := url.Parse(raw)
			if err != nil {
				return
			}
			target := raw
			if b.deny.Load() {
				q := u.Query()
				back, _ := url.Parse(q.Get("redirect_uri"))
				back.RawQuery = url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"},
					"state": {q.Get("state")}, "iss": {u.Scheme + "://" + u.Host}}.Encode()
				target = back.String()
			}
			if resp, err := http.Get(target); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

// startLifecycle starts a reference OAuth server that approves at once, and the stub browser for it.
func startLifecycle(t *testing.T) (*devserver.Running, *browserStub) {
	t.Helper()
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	b := &browserStub{}
	b.open(t)
	return srv, b
}

// newLifecycleSignIn returns a SignIn against a reference OAuth server, keeping its tokens in dir.
func newLifecycleSignIn(t *testing.T, srv *devserver.Running, dir string) *SignIn {
	t.Helper()
	store, _, err := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/v1/mcp")
	return &SignIn{ServerURL: u, ConfigDir: dir, Store: store}
}

// challenge401 is what the reference server's MCP endpoint answers without a token.
func challenge401(t *testing.T, srv *devserver.Running) []string {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v1/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Values("WWW-Authenticate")
}

// A refused sign-in is Failed with its cause; requests that meet it get the failure, not a new browser tab;
// Retry lets the next refusal start one, which then succeeds; every change reaches a watcher.
func TestFailedSignInWaitsForRetry(t *testing.T) {
	srv, b := startLifecycle(t)
	b.deny.Store(true)
	s := newLifecycleSignIn(t, srv, t.TempDir())
	ctx := context.Background()
	www := challenge401(t, srv)

	st, changed := s.Watch()
	if st.Phase != SignedOut {
		t.Fatalf("phase before any sign-in = %v", st.Phase)
	}
	err := s.Reauthorize(ctx, http.StatusUnauthorized, www, "")
	select {
	case <-changed:
	default:
		t.Fatal("the watch channel was not closed by the sign-in")
	}
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("first sign-in: err = %v, want the server's access_denied", err)
	}
	st, _ = s.Watch()
	if st.Phase != Failed || st.Err == nil || !strings.Contains(st.Err.Error(), "access_denied") {
		t.Fatalf("state after a refusal = %+v", st)
	}

	for range 3 { // requests queued behind the failure
		err = s.Reauthorize(ctx, http.StatusUnauthorized, www, "")
		var fe *FailedError
		if !errors.As(err, &fe) || !errors.Is(err, ErrSignInFailed) || !strings.Contains(err.Error(), "access_denied") {
			t.Fatalf("a request after the failure: err = %v, want *FailedError with the cause", err)
		}
	}
	if n := b.opens.Load(); n != 1 {
		t.Fatalf("browser opened %d times for one refusal, want 1", n)
	}
	if a := srv.Stats().Authorizations; a != 0 {
		t.Fatalf("authorizations = %d", a)
	}

	b.deny.Store(false)
	s.Retry()
	if st, _ := s.Watch(); st.Phase != SignedOut {
		t.Fatalf("phase after Retry = %v, want signed out", st.Phase)
	}
	if err := s.Reauthorize(ctx, http.StatusUnauthorized, www, ""); err != nil {
		t.Fatalf("sign-in after Retry: %v", err)
	}
	if st, _ := s.Watch(); st.Phase != SignedIn || st.Err != nil {
		t.Fatalf("state after the retried sign-in = %+v", st)
	}
	if n := b.opens.Load(); n != 2 {
		t.Fatalf("browser opened %d times, want 2", n)
	}
	if tok, err := s.Token(); err != nil || tok.AccessToken == "" {
		t.Fatalf("Token after sign-in: %v, %v", tok, err)
	}
}

// A bridge whose request queued behind another bridge's failed sign-in gets that failure, without a window of its
// own; the user's own `login` still runs.
func TestOtherBridgesFailureIsShared(t *testing.T) {
	srv, b := startLifecycle(t)
	b.deny.Store(true)
	dir := t.TempDir()
	first, second := newLifecycleSignIn(t, srv, dir), newLifecycleSignIn(t, srv, dir)
	ctx := context.Background()
	www := challenge401(t, srv)

	if err := first.Reauthorize(ctx, http.StatusUnauthorized, www, ""); err == nil {
		t.Fatal("the denied sign-in succeeded")
	}
	err := second.Reauthorize(ctx, http.StatusUnauthorized, www, "")
	var oe *OtherFailureError
	if !errors.As(err, &oe) || !strings.Contains(oe.Message, "access_denied") {
		t.Fatalf("second bridge: err = %v, want *OtherFailureError naming access_denied", err)
	}
	if st, _ := second.Watch(); st.Phase != Failed {
		t.Fatalf("second bridge's phase = %v", st.Phase)
	}
	if n := b.opens.Load(); n != 1 {
		t.Fatalf("browser opened %d times for two bridges and one refusal, want 1", n)
	}

	b.deny.Store(false)
	if err := second.Login(ctx, nil, nil); err != nil {
		t.Fatalf("explicit login: %v", err)
	}
	if n := b.opens.Load(); n != 2 {
		t.Fatalf("browser opened %d times, want 2", n)
	}
	// The first bridge, still Failed, sees that the other one signed in and uses its tokens.
	if err := first.Reauthorize(ctx, http.StatusUnauthorized, www, ""); err != nil {
		t.Fatalf("first bridge after the other signed in: %v", err)
	}
	if st, _ := first.Watch(); st.Phase != SignedIn {
		t.Fatalf("first bridge's phase = %v", st.Phase)
	}
	if n := b.opens.Load(); n != 2 {
		t.Fatalf("browser opened %d times, want 2", n)
	}
}

// The user's Retry is answered by the server: a registration endpoint that asked for a wait longer than a request
// waits (Retry-After 45 s) fails the sign-in at once, and once it is back, Retry lets the next sign-in register
// at once instead of meeting the wait it asked for before.
func TestRetryAsksTheServerAgain(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true,
		Faults: []devserver.Fault{devserver.FaultRateLimitRegister}, RetryAfter: 45 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var b browserStub
	b.open(t)
	s := newLifecycleSignIn(t, srv, t.TempDir())
	s.HTTP = &http.Client{Transport: &ratelimit.Transport{}}
	ctx := context.Background()
	www := challenge401(t, srv)

	err = s.Reauthorize(ctx, http.StatusUnauthorized, www, "")
	if !oauth.IsRateLimited(err) || !strings.Contains(err.Error(), "45s") {
		t.Fatalf("sign-in against a rate-limited registration endpoint: err = %v, want the wait quoted", err)
	}
	srv.SetFaults()
	s.Retry()
	if err := s.Reauthorize(ctx, http.StatusUnauthorized, www, ""); err != nil {
		t.Fatalf("sign-in after Retry: %v", err)
	}
	if st := srv.Stats(); st.Registrations != 1 || b.opens.Load() != 1 {
		t.Errorf("%d registrations, %d browser opens; want 1 and 1", st.Registrations, b.opens.Load())
	}
}

// signedInWith signs s in through the stub browser and returns the access token it got.
func signedInWith(t *testing.T, s *SignIn, srv *devserver.Running) string {
	t.Helper()
	if err := s.Reauthorize(context.Background(), http.StatusUnauthorized, challenge401(t, srv), ""); err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	tok, err := s.Token()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("Token after sign-in: %v, %v", tok, err)
	}
	return tok.AccessToken
}

// Damaged stored tokens count as none: the server's refusal then starts a sign-in that replaces them, instead of
// every request failing on a read error.
func TestDamagedTokensCountAsSignedOut(t *testing.T) {
	srv, b := startLifecycle(t)
	dir := t.TempDir()
	signedInWith(t, newLifecycleSignIn(t, srv, dir), srv)
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.tokens.json"))
	if len(files) != 1 {
		t.Fatalf("token files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newLifecycleSignIn(t, srv, dir) // a new start finds the damage
	if tok, err := s.Token(); err != nil || tok.AccessToken != "" {
		t.Fatalf("Token with damaged tokens = %v, %v; want no token and no error, so the server's 401 starts a sign-in", tok, err)
	}
	signedInWith(t, s, srv)
	if n := b.opens.Load(); n != 2 {
		t.Fatalf("browser opened %d times, want 2", n)
	}
}

// When the config dir is deleted while a bridge runs, the tokens it holds in memory are refreshed and saved
// again, with the server record: no new sign-in, and the next start finds them.
func TestDeletedConfigDirKeepsTheSignIn(t *testing.T) {
	srv, b := startLifecycle(t)
	dir := t.TempDir()
	s := newLifecycleSignIn(t, srv, dir)
	access := signedInWith(t, s, srv)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// The server refuses the access token (as when it expires): the bridge refreshes with the refresh token it holds.
	if err := s.Reauthorize(context.Background(), http.StatusUnauthorized, challenge401(t, srv), access); err != nil {
		t.Fatalf("Reauthorize after the config dir was deleted: %v", err)
	}
	if n, st := b.opens.Load(), srv.Stats(); n != 1 || st.Refreshes != 1 || st.Authorizations != 1 {
		t.Fatalf("browser opens %d, refreshes %d, authorizations %d; want 1, 1, 1", n, st.Refreshes, st.Authorizations)
	}
	again := newLifecycleSignIn(t, srv, dir) // the next start
	tok, err := again.Token()
	if err != nil || tok.AccessToken == "" || tok.AccessToken == access {
		t.Fatalf("next start: Token = %v, %v; want the refreshed token from the store", tok, err)
	}
	if st, _ := again.Watch(); st.Phase != SignedIn {
		t.Fatalf("next start's phase = %v", st.Phase)
	}
}

// While another bridge holds the sign-in, the state says so (Elsewhere), so the client is not told to look for
// a link in a window that this bridge never opened; once the lock is free, this bridge signs in itself.
func TestWaitingForAnotherBridgeIsShown(t *testing.T) {
	srv, _ := startLifecycle(t)
	dir := t.TempDir()
	s := newLifecycleSignIn(t, srv, dir)
	unlock, err := credstore.LockSignIn(context.Background(), dir, s.resource(), nil) // the other bridge
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	www := challenge401(t, srv)
	go func() { done <- s.Reauthorize(context.Background(), http.StatusUnauthorized, www, "") }()
	for {
		st, changed := s.Watch()
		if st.Phase == SigningIn && st.Elsewhere {
			break
		}
		<-changed
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("sign-in after the other bridge let go: %v", err)
	}
	if st, _ := s.Watch(); st.Phase != SignedIn || st.Elsewhere {
		t.Fatalf("state after the sign-in = %+v", st)
	}
}

// A server whose protected-resource metadata names its origin, not the endpoint, as the resource: the tokens are
// kept where the next start looks for them (no sign-in at every start), and a refresh asks for the grant's
// resource.
func TestOriginResourceSignInSurvivesARestart(t *testing.T) {
	var b browserStub
	b.open(t)
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, OriginResource: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	origin := srv.URL
	ts := srv
	dir := t.TempDir()
	store, _, err := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ts.URL + "/v1/mcp")
	newSignIn := func() *SignIn { return &SignIn{ServerURL: u, ConfigDir: dir, Store: store} }
	first := newSignIn()
	resp, err := http.Post(ts.URL+"/v1/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := first.Reauthorize(context.Background(), http.StatusUnauthorized, resp.Header.Values("WWW-Authenticate"), ""); err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	tok, err := newSignIn().Token() // the next start
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("the next start finds no token (%v, %v): it would sign in again", tok, err)
	}
	src, err := newSignIn().source(context.Background())
	if err != nil || src == nil || src.Client.Resource != origin {
		t.Fatalf("refresh would ask for resource %q, want the grant's %q (%v)", src.Client.Resource, origin, err)
	}
	if n := b.opens.Load(); n != 1 {
		t.Fatalf("browser opened %d times, want 1", n)
	}
}
