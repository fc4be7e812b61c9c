package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// SignIn is the OAuth side of one MCP server: an oauth2.TokenSource that starts from what the store holds, and a
// reauthorizer (see remote.Reauthorizer) that, when the server refuses, refreshes, steps up scope, or runs the
// authorization-code flow with PKCE in the browser — discovery from the server's own 401, registration, loopback
// redirect, token exchange — once for all the bridges on this machine.
type SignIn struct {
	ServerURL         *url.URL
	ConfigDir         string
	Store             credstore.Store
	HTTP              *http.Client
	Scopes            oauth.ScopeRule // how a first sign-in's scopes are chosen (--scope, MeshAI's documented scopes)
	ClientID          string          // pre-registered client, skipping registration
	ClientSecret      string          // its secret, if it has one
	ClientMetadataURL string          // an https client ID metadata document, used where the server supports them
	CallbackPort      int             // pins the loopback port
	BrowserCommand    string          // "" = $BROWSER, else the system browser
	AuthTimeout       time.Duration
	AuthorizeParams   url.Values      // --authorize-param
	Resource          string          // the RFC 8707 resource to ask for; "" = the server URL's canonical form
	ClientMetadata    json.RawMessage // fields laid over the dynamic registration request
	CallbackHost      string          // the loopback redirect's host: 127.0.0.1 (default), localhost or ::1
	CallbackPath      string          // the loopback redirect's path (default CallbackPath)
	DeviceCode        bool            // sign in with the device authorization grant (RFC 8628): no browser here
	Stderr            io.Writer       // where the sign-in URL is printed
	Version           string
	Log               *slog.Logger

	// ClientAuthMethod is how ClientID authenticates at the token endpoint (a client.json's
	// token_endpoint_auth_method); "" chooses by the server's metadata (clientAuthMethod).
	ClientAuthMethod string
	// AuthorizationURL and TokenURL, when set, are the authorization server's endpoints, for a server that publishes
	// no metadata; RegistrationURL, optionally, its dynamic registration endpoint. Discovery of the server is skipped.
	AuthorizationURL, TokenURL, RegistrationURL string

	mu       sync.Mutex
	src      *Source
	scopes   []string  // scopes of the current grant, for step-up unions
	stopLoop func()    // ends KeepFresh's loop on a source that was replaced
	lastFlow time.Time // when the last successful browser sign-in ended, to refuse a storm of them
	active   int       // sign-ins under way (Login calls, including those waiting for another bridge's)
	flight   *flight   // the sign-in this process is running, which concurrent Login calls share
	// goneClient is the client_id the token endpoint answered invalid_client for, until registered anew.
	goneClient string
	// retryAsked: the user asked for a new sign-in (Retry): the next one runs even if another bridge's just failed.
	retryAsked bool
	life       lifecycle
	moved      atomic.Pointer[url.URL] // the MCP endpoint the transport found instead of ServerURL (Relocate)
}

// Relocate tells the sign-in that the server's MCP endpoint is u, found on ServerURL's origin: the resource asked
// for, and the store keys, follow it.
func (s *SignIn) Relocate(u *url.URL) {
	s.moved.Store(u)
	s.mu.Lock()
	s.src = nil // reloaded under the endpoint's own keys
	s.mu.Unlock()
}

// setElsewhere records whether this sign-in waits for another bridge's.
func (s *SignIn) setElsewhere(v bool) {
	s.life.update(func(st *State) {
		if st.Phase == SigningIn {
			st.Elsewhere = v
		}
	})
}

// serverURL is the MCP endpoint: ServerURL, unless the transport found it elsewhere.
func (s *SignIn) serverURL() *url.URL {
	if u := s.moved.Load(); u != nil {
		return u
	}
	return s.ServerURL
}

// Endpoint is the MCP endpoint signed in to: ServerURL, unless Relocate moved it.
func (s *SignIn) Endpoint() *url.URL { return s.serverURL() }

// Watch returns where the sign-in stands and a channel that is closed at its next change.
func (s *SignIn) Watch() (State, <-chan struct{}) { return s.life.get() }

// Retry forgets a failed sign-in, so that the next request the server refuses starts a new one, here, even if
// another bridge's sign-in failed a moment ago, and the waits servers asked for with Retry-After, so the
// servers themselves answer it. It is the user's "try again".
func (s *SignIn) Retry() {
	s.mu.Lock()
	s.retryAsked = true
	s.mu.Unlock()
	if rl, ok := s.httpClient().Transport.(*ratelimit.Transport); ok {
		rl.Forget() // a Retry-After beyond what a request waits would otherwise refuse the retry without asking
	}
	s.life.update(func(st *State) {
		if st.Phase == Failed {
			*st = State{Phase: SignedOut}
		}
	})
}

// flowCooldown is how soon after one browser sign-in another may start: a server that refuses a token it has
// just issued gets an error, not a new browser tab for every request.
const flowCooldown = 30 * time.Second

// KeepFresh refreshes the access token ahead of expiry until ctx ends, so an idle session never meets an expired
// token. It never opens a browser: when the grant is gone, the next client request starts the sign-in. Without a
// sign-in to keep fresh, it waits for the next change of the lifecycle (a sign-in here, or tokens found in the
// store), not for a timer.
func (s *SignIn) KeepFresh(ctx context.Context) {
	for ctx.Err() == nil {
		_, changed := s.Watch()
		src, _ := s.source(ctx)
		if src != nil {
			lctx, cancel := context.WithCancel(ctx)
			s.mu.Lock()
			s.stopLoop = cancel
			s.mu.Unlock()
			src.RefreshLoop(lctx, func(err error) { s.logf("background refresh failed", "err", err) })
			cancel()
			if s.current() != src {
				continue // replaced by a new sign-in: keep that one fresh
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// current is the token source in use, nil when none is loaded.
func (s *SignIn) current() *Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src
}

// Token returns the current access token, or an empty token when not signed in yet: the server's 401 then
// starts the sign-in through Reauthorize, with its challenge, as the MCP spec has discovery begin.
func (s *SignIn) Token() (*oauth2.Token, error) {
	src, err := s.source(context.Background())
	if err != nil || src == nil {
		return &oauth2.Token{}, nil
	}
	tok, err := src.Token()
	if errors.Is(err, ErrSignInRequired) {
		s.life.update(func(st *State) {
			if st.Phase == SignedIn {
				*st = State{Phase: SignedOut}
			}
		})
		return &oauth2.Token{}, nil
	}
	return tok, err
}

// source loads the last sign-in's registration and tokens from the store.
func (s *SignIn) source(ctx context.Context) (*Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src != nil {
		return s.src, nil
	}
	rec, t, err := s.readSignIn(ctx)
	if rec == nil {
		return nil, err
	}
	s.src = s.newSource(*rec)
	if t != nil {
		s.scopes = strings.Fields(t.Scope)
		s.life.update(func(st *State) {
			if st.Phase == SignedOut {
				st.Phase = SignedIn
			}
		})
	}
	return s.src, nil
}

// Reauthorize implements remote.Reauthorizer. While the last sign-in is Failed it starts none: the request gets
// that failure (a *FailedError), unless another bridge has signed in meanwhile.
func (s *SignIn) Reauthorize(ctx context.Context, status int, wwwAuthenticate []string, rejected string) error {
	ch := oauth.FindBearer(oauth.ParseWWWAuthenticate(wwwAuthenticate))
	var want []string
	if status == http.StatusForbidden {
		if ch == nil || ch.ErrorCode() != "insufficient_scope" {
			return errors.New("the server refused access (403)")
		}
		s.mu.Lock()
		want = oauth.UnionScopes(s.scopes, strings.Fields(ch.Scope()))
		s.mu.Unlock()
		s.logf("the server asks for more scope; signing in again", "scopes", strings.Join(want, " "))
		return s.signIn(ctx, ch, want, false)
	}
	if src, _ := s.source(ctx); src != nil && rejected != "" {
		_, err := src.Invalidate(ctx, &oauth2.Token{AccessToken: rejected})
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrSignInRequired) {
			return err
		}
	}
	if st, _ := s.Watch(); st.Phase == Failed {
		if s.signedInElsewhere(ctx, rejected) {
			return nil
		}
		return &FailedError{Err: st.Err}
	}
	return s.signIn(ctx, ch, nil, false)
}

// signedInElsewhere reports whether the store holds an access token other than rejected that has not expired:
// another bridge, or `meshai-mcp-server login`, signed in. The next request then uses it.
func (s *SignIn) signedInElsewhere(ctx context.Context, rejected string) bool {
	_, t, err := s.readSignIn(ctx)
	if err != nil || t == nil || t.AccessToken == "" || t.AccessToken == rejected || (!t.Expiry.IsZero() && time.Now().After(t.Expiry)) {
		return false
	}
	s.mu.Lock()
	s.src = nil // reloaded from the store by the next Token
	s.mu.Unlock()
	s.life.set(State{Phase: SignedIn})
	return true
}

// flight is one sign-in shared by every request that needs it at the same time.
type flight struct {
	done chan struct{}
	err  error
}

// Login runs the interactive sign-in, unless another bridge finished one while this one waited for the lock.
// It is the user's own request (`meshai-mcp-server login`): it runs even when the last sign-in failed.
// Concurrent calls in this process share one sign-in and its outcome: sixteen requests refused at once open one
// browser tab, not sixteen one after another.
func (s *SignIn) Login(ctx context.Context, ch *oauth.Challenge, scopes []string) error {
	return s.signIn(ctx, ch, scopes, true)
}

// signIn runs or joins the sign-in. explicit: the user asked for it, so another bridge's recent failure does not
// stand in for it.
func (s *SignIn) signIn(ctx context.Context, ch *oauth.Challenge, scopes []string, explicit bool) error {
	if scopes != nil { // a step-up asks for its own scopes
		return s.login(ctx, ch, scopes, explicit)
	}
	s.mu.Lock()
	if f := s.flight; f != nil {
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.mu.Unlock()
	f.err = s.login(ctx, ch, nil, explicit)
	s.mu.Lock()
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
	return f.err
}

// login runs one sign-in and moves the lifecycle: SigningIn while it runs, then SignedIn or Failed.
func (s *SignIn) login(ctx context.Context, ch *oauth.Challenge, scopes []string, explicit bool) (err error) {
	s.mu.Lock()
	s.active++
	explicit = explicit || s.retryAsked
	s.retryAsked = false
	s.mu.Unlock()
	s.life.set(State{Phase: SigningIn})
	defer func() {
		s.mu.Lock()
		s.active--
		last := s.active == 0
		s.mu.Unlock()
		if !last {
			return
		}
		switch {
		case err == nil:
			s.life.set(State{Phase: SignedIn})
		case ctx.Err() != nil: // abandoned by whoever asked (the client cancelled, the bridge is stopping)
			s.life.set(State{Phase: SignedOut})
		default:
			s.logf("sign-in failed; the next one starts when the user asks", "err", err)
			s.life.set(State{Phase: Failed, Err: err})
		}
	}()
	waitStart := time.Now()
	lctx, cancel := context.WithTimeout(ctx, s.authTimeout()+30*time.Second)
	defer cancel()
	unlock, err := credstore.LockSignIn(lctx, s.ConfigDir, s.resource(), func() { s.setElsewhere(true) })
	if err != nil {
		return fmt.Errorf("wait for another sign-in to finish: %w", err)
	}
	defer unlock()
	s.setElsewhere(false)
	before := s.currentAccess()
	s.mu.Lock()
	old := s.src
	s.src = nil
	s.mu.Unlock()
	if src, _ := s.source(lctx); src != nil && scopes == nil {
		if old != nil { // a refresh token the server refused stays refused: the new source must not try it again
			src.Inherit(old)
			if _, gone := old.Spent(); gone {
				s.mu.Lock()
				s.goneClient = old.Client.ClientID
				s.mu.Unlock()
			}
		}
		if tok, err := src.Token(); err == nil && tok.AccessToken != "" && tok.AccessToken != before {
			return nil // signed in by another bridge meanwhile
		}
	}
	if !explicit {
		if f := credstore.ReadFailure(s.ConfigDir, s.resource()); f != nil && (f.At.After(waitStart) || time.Since(f.At) < failureMemory) {
			s.logf("a sign-in to this server (here or in another meshai-mcp-server window) just failed; not opening another", "failed_at", f.At)
			return &OtherFailureError{At: f.At, Message: f.Message}
		}
	}
	s.mu.Lock()
	// A server that refuses the token it just issued gets no second window; one that forgot the client is another
	// matter, and registering again is the fix.
	recent := time.Since(s.lastFlow) < flowCooldown && scopes == nil && s.goneClient == "" && !explicit
	s.mu.Unlock()
	if recent {
		return ErrRefusedFreshToken
	}
	if err = s.interactive(lctx, ch, scopes); err != nil {
		if ctx.Err() == nil {
			credstore.RecordFailure(s.ConfigDir, s.resource(), err)
		}
		return err
	}
	credstore.ClearFailure(s.ConfigDir, s.resource())
	s.mu.Lock()
	s.lastFlow = time.Now()
	s.mu.Unlock()
	return nil
}

// currentAccess is the access token the source in use holds; "" when there is none.
func (s *SignIn) currentAccess() string {
	if src := s.current(); src != nil {
		return src.AccessToken()
	}
	return ""
}

// interactive discovers, registers if needed, and runs the browser flow.
func (s *SignIn) interactive(ctx context.Context, ch *oauth.Challenge, scopes []string) error {
	hc := s.namedClient()
	resource := s.resource()
	prm, err := oauth.DiscoverResource(ctx, hc, s.serverURL(), ch)
	var meta *oauth.ServerMetadata
	switch {
	case s.manualEndpoints():
		meta, prm, err = s.manualMetadata(), usable(prm, err), nil
		if prm != nil && s.Resource == "" {
			resource = prm.Resource
		}
	case errors.Is(err, oauth.ErrNoResourceMetadata): // a 2025-03-26 server
		meta, err = oauth.LegacyServerMetadata(ctx, hc, s.serverURL())
	case err == nil:
		if s.Resource == "" {
			resource = prm.Resource
		}
		meta, err = oauth.DiscoverServer(ctx, hc, prm.AuthorizationServers[0], oauth.IsLocal(s.serverURL()))
	}
	if err != nil {
		return err
	}
	if err := meta.RequirePKCE(); err != nil {
		return err
	}
	if scopes == nil {
		scopes = s.chooseScopes(ch, prm)
	}
	if s.DeviceCode {
		return s.deviceSignIn(ctx, meta, resource, scopes)
	}
	// Checked before anything is registered or listened on: a crafted endpoint ends the sign-in here.
	if _, err := oauth.BrowserURL(meta.AuthorizationEndpoint); err != nil {
		return fmt.Errorf("the authorization server's authorization_endpoint: %w", err)
	}
	ports := SignInPorts(s.resource(), meta.Issuer)
	if s.CallbackPort != 0 {
		ports = []int{s.CallbackPort}
	}
	regKey := credstore.ClientKey{Resource: resource, Issuer: meta.Issuer}
	reg, _ := credstore.LoadRegistration(ctx, s.Store, regKey)
	if reg, err = s.dropForgottenClient(ctx, reg, regKey); err != nil {
		return err
	}
	if reg != nil && reg.CallbackPort != 0 && s.CallbackPort == 0 {
		ports = append([]int{reg.CallbackPort}, ports...)
	}
	lb, err := ListenLoopbackAt(s.callbackHost(), s.callbackPath(), ports)
	if err != nil {
		return err
	}
	defer lb.Close()
	if s.configuredClient() && s.CallbackPort != 0 && lb.Port() != s.CallbackPort {
		// Another port would send a redirect URI the client's registration does not list.
		return &CallbackPortBusyError{Port: s.CallbackPort, ClientID: s.ClientID}
	}
	// Registration depends on the port the loopback really got.
	stored := reg
	reg, err = s.registration(ctx, meta, resource, stored, lb.Port(), scopes)
	if err != nil {
		return err
	}
	reused := stored != nil && reg == stored // a dynamic registration from an earlier sign-in, not made just now
	ar, err := oauth.NewAuthRequest(meta.AuthorizationEndpoint, meta.Issuer, reg.ClientID, reg.RedirectURI, resource, scopes, s.AuthorizeParams)
	if err != nil {
		return err
	}
	lb.Expect(ar.State, s.expectedIssuer(meta), meta.AuthorizationResponseIssParameterSupported)
	s.showRedirect(reg) // before the URL, so whoever shows the URL shows the redirect URI with it
	s.setAuthURL(ar.URL)
	defer s.setAuthURL("")
	s.logf("signing in", "issuer", meta.Issuer, "scopes", strings.Join(scopes, " "), "redirect", reg.RedirectURI)
	stopBrowser, err := OpenBrowser(ar.URL, s.BrowserCommand, s.stderr())
	if err != nil {
		s.logf("could not open a browser", "err", err)
	}
	wctx, cancel := context.WithTimeout(ctx, s.authTimeout())
	defer cancel()
	cb, err := lb.Wait(wctx)
	if err != nil {
		stopBrowser() // abandoned or timed out: a browser command still running has nothing left to open

		if errors.Is(err, context.DeadlineExceeded) {
			te := &TimeoutError{After: s.authTimeout()}
			switch {
			case s.configuredClient():
				te.ClientID, te.RedirectURI = reg.ClientID, reg.RedirectURI
			case reused && s.forgetUnusedClient(ctx, reg, regKey):
				te.StaleClientID = reg.ClientID
			}
			return te
		}
		return fmt.Errorf("sign-in did not complete: %w", err)
	}
	err = s.redeem(ctx, meta, reg, regKey, resource, cb.Code, ar.Verifier, scopes)
	lb.Finish(err) // the browser's page says how it ended only now
	return err
}

// redeem exchanges the authorization code for tokens and keeps them.
func (s *SignIn) redeem(ctx context.Context, meta *oauth.ServerMetadata, reg *credstore.Registration, regKey credstore.ClientKey,
	resource, code, verifier string, scopes []string) error {
	tc := s.tokenClient(meta, reg, resource)
	tok, err := tc.Exchange(ctx, code, verifier, reg.RedirectURI)
	if err != nil {
		if oauth.IsInvalidClient(err) && s.configuredClient() {
			return fmt.Errorf("redeem the sign-in code: %w", &ClientRefusedError{ClientID: reg.ClientID, Configured: true, Method: reg.TokenEndpointAuthMethod, Err: err})
		}
		if oauth.IsInvalidClient(err) && s.ClientID == "" && s.ClientMetadataURL == "" {
			_ = credstore.ForgetRegistration(ctx, s.Store, regKey)
			return fmt.Errorf("redeem the sign-in code: %w", &ClientRefusedError{ClientID: reg.ClientID, Err: err})
		}
		if oauth.IsRateLimited(err) {
			return fmt.Errorf("redeem the sign-in code: %w", codeRateLimited(err))
		}
		return fmt.Errorf("redeem the sign-in code: %w", err)
	}
	return s.signedIn(ctx, meta, reg, resource, tok, scopes)
}

// signedIn stores the tokens and the server record of a completed sign-in and makes them current.
func (s *SignIn) signedIn(ctx context.Context, meta *oauth.ServerMetadata, reg *credstore.Registration, resource string, tok *oauth2.Token, scopes []string) error {
	granted := strings.Fields(fmt.Sprint(tok.Extra("scope")))
	if tok.Extra("scope") == nil {
		granted = scopes
	}
	// The tokens are kept where the record and the next start look for them: under this server's own key, even
	// when the grant's resource (the server's metadata's) is another, such as its origin.
	if err := credstore.SaveTokens(ctx, s.Store, s.resource(), reg, toTokens(tok, granted)); err != nil {
		return fmt.Errorf("save the tokens: %w", err)
	}
	rec := credstore.SignInRecord{Registration: *reg, TokenEndpoint: meta.TokenEndpoint, RevocationEndpoint: meta.RevocationEndpoint,
		UserinfoEndpoint: meta.UserinfoEndpoint, Resource: resource}
	if err := credstore.SaveSignIn(ctx, s.Store, s.resource(), &rec); err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	s.mu.Lock()
	s.src, s.scopes = s.newSource(rec), granted
	s.src.Use(tok)
	if s.stopLoop != nil {
		s.stopLoop() // KeepFresh moves to the new source
	}
	s.mu.Unlock()
	s.logf("signed in", "issuer", meta.Issuer, "scopes", strings.Join(granted, " "))
	return nil
}

// dropForgottenClient handles a client the token endpoint answered invalid_client for: a dynamic registration is
// deleted (the caller registers again), a client the user configured is a *ClientRefusedError.
func (s *SignIn) dropForgottenClient(ctx context.Context, reg *credstore.Registration, key credstore.ClientKey) (*credstore.Registration, error) {
	s.mu.Lock()
	gone := s.goneClient
	s.mu.Unlock()
	switch {
	case gone == "":
		return reg, nil
	case s.ClientID != "" && s.ClientID == gone:
		return nil, &ClientRefusedError{ClientID: gone, Configured: true}
	case reg == nil || reg.ClientID != gone:
		return reg, nil
	}
	s.logf("the authorization server no longer knows this app's registration; registering again", "client_id", gone)
	if err := credstore.ForgetRegistration(ctx, s.Store, key); err != nil {
		return nil, fmt.Errorf("forget the old registration: %w", err)
	}
	s.mu.Lock()
	s.goneClient = ""
	s.mu.Unlock()
	return nil, nil
}

// forgetUnusedClient forgets reg, a dynamic registration kept from an earlier sign-in, when no sign-in has used it
// (the server's record of this server names another client, or none): a sign-in with it that timed out may have
// met a server that purged it, whose error page never sends the browser back, and reusing it would meet that page
// every time. A registration a sign-in has used is kept: the token endpoint's invalid_client tells when it is gone.
// It reports whether reg was forgotten.
func (s *SignIn) forgetUnusedClient(ctx context.Context, reg *credstore.Registration, key credstore.ClientKey) bool {
	if rec, _, _ := s.readSignIn(ctx); rec != nil && rec.ClientID == reg.ClientID && rec.Issuer == reg.Issuer {
		return false
	}
	if err := credstore.ForgetRegistration(ctx, s.Store, key); err != nil {
		s.logf("could not forget the unused registration", "client_id", reg.ClientID, "err", err)
		return false
	}
	s.logf("the browser never came back with a registration no sign-in has used; the server may have forgotten it, so the next sign-in registers anew",
		"client_id", reg.ClientID)
	return true
}

// registration returns the client to use: pre-registered, the stored one if its redirect still fits, or a new
// dynamic registration for the loopback port.
func (s *SignIn) registration(ctx context.Context, meta *oauth.ServerMetadata, resource string, stored *credstore.Registration, port int, scopes []string) (*credstore.Registration, error) {
	redirect := RedirectURI(s.CallbackHost, port, s.CallbackPath)
	if s.ClientID != "" {
		return &credstore.Registration{Issuer: meta.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
			TokenEndpointAuthMethod: s.clientAuthMethod(meta), RedirectURI: redirect, CallbackPort: port}, nil
	}
	if s.ClientMetadataURL != "" && meta.ClientIDMetadataDocumentSupported {
		// The URL is the client_id; the document it serves lists the loopback redirect URIs.
		return &credstore.Registration{Issuer: meta.Issuer, ClientID: s.ClientMetadataURL, TokenEndpointAuthMethod: oauth.AuthNone,
			RedirectURI: redirect, CallbackPort: port}, nil
	}
	if stored != nil && stored.Issuer == meta.Issuer && stored.RedirectURI == redirect {
		return stored, nil
	}
	if meta.RegistrationEndpoint == "" {
		return nil, &NoRegistrationError{Issuer: meta.Issuer}
	}
	md := oauth.NativeClient(redirect, strings.Join(scopes, " "), s.Version)
	if len(s.ClientMetadata) > 0 {
		if err := json.Unmarshal(s.ClientMetadata, &md); err != nil {
			return nil, fmt.Errorf("client metadata: %w", err)
		}
		md.RedirectURIs = []string{redirect}
	}
	dc, err := oauth.RegisterClient(ctx, s.clientFor(meta.RegistrationEndpoint), meta.RegistrationEndpoint, md)
	if err != nil {
		return nil, err
	}
	reg := &credstore.Registration{Issuer: meta.Issuer, ClientID: dc.ClientID, ClientSecret: dc.ClientSecret,
		TokenEndpointAuthMethod: dc.AuthMethod, RedirectURI: redirect, CallbackPort: port, RegisteredAt: time.Now()}
	if err := credstore.SaveRegistration(ctx, s.Store, credstore.ClientKey{Resource: resource, Issuer: meta.Issuer}, reg); err != nil {
		return nil, fmt.Errorf("save the registration: %w", err)
	}
	return reg, nil
}

// newSource is the token source of the sign-in rec records.
func (s *SignIn) newSource(rec credstore.SignInRecord) *Source {
	grant := &credstore.Grant{Store: s.Store, Resource: s.resource(), Record: rec, KeepRecord: true, Log: s.logf}
	meta := &oauth.ServerMetadata{Issuer: rec.Issuer, TokenEndpoint: rec.TokenEndpoint}
	return &Source{
		Store:  grant,
		Lock:   func(ctx context.Context) (func(), error) { return grant.Lock(ctx, s.ConfigDir) },
		Client: s.tokenClient(meta, &rec.Registration, cmp.Or(rec.Resource, s.resource())), // refresh for the grant's resource
	}
}

func (s *SignIn) tokenClient(meta *oauth.ServerMetadata, reg *credstore.Registration, resource string) *oauth.TokenClient {
	return &oauth.TokenClient{TokenURL: meta.TokenEndpoint, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		AuthMethod: reg.TokenEndpointAuthMethod, Resource: resource, HTTP: s.clientFor(meta.TokenEndpoint), Log: s.Log}
}

// resource is the RFC 8707 resource: the one configured, else the server URL in canonical form.
func (s *SignIn) resource() string {
	if s.Resource != "" {
		return s.Resource
	}
	return oauth.CanonicalResource(s.serverURL())
}

func (s *SignIn) callbackHost() string {
	if s.CallbackHost != "" {
		return strings.Trim(s.CallbackHost, "[]")
	}
	return "127.0.0.1"
}

func (s *SignIn) callbackPath() string {
	if s.CallbackPath != "" {
		return s.CallbackPath
	}
	return CallbackPath
}

// namedClient is the client for every URL a server's document named (discovery, registration, token, revocation,
// userinfo): oauth.NamedURLClient, so that, unless the MCP server is local, none of them connects to this machine
// or its network. A URL the user gave (a flag) belongs on httpClient instead.
func (s *SignIn) namedClient() *http.Client {
	return oauth.NamedURLClient(s.httpClient(), s.serverURL())
}

// clientFor is the client for u: httpClient when the user gave u (--authorization-url, --token-url,
// --registration-url), else namedClient, since a server's document named it.
func (s *SignIn) clientFor(u string) *http.Client {
	if u != "" && (u == s.AuthorizationURL || u == s.TokenURL || u == s.RegistrationURL) {
		return s.httpClient()
	}
	return s.namedClient()
}

func (s *SignIn) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return http.DefaultClient
}

func (s *SignIn) stderr() io.Writer {
	if s.Stderr != nil {
		return s.Stderr
	}
	return io.Discard
}

func (s *SignIn) authTimeout() time.Duration {
	if s.AuthTimeout > 0 {
		return s.AuthTimeout
	}
	return 300 * time.Second
}

func (s *SignIn) logf(msg string, args ...any) {
	if s.Log != nil {
		s.Log.Info(msg, args...)
	}
}

func toTokens(t *oauth2.Token, scopes []string) *credstore.Tokens {
	return &credstore.Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", Expiry: t.Expiry,
		ExpiresIn: t.ExpiresIn, Scope: strings.Join(scopes, " ")}
}

// readSignIn reads the last sign-in's record and tokens (see credstore.ReadSignIn); a record that cannot be read is
// an error that names the server (and is credstore.ErrUnreadable).
func (s *SignIn) readSignIn(ctx context.Context) (*credstore.SignInRecord, *credstore.Tokens, error) {
	rec, t, err := credstore.ReadSignIn(ctx, s.Store, s.resource())
	if rec == nil && errors.Is(err, credstore.ErrUnreadable) {
		return nil, nil, fmt.Errorf("the stored sign-in for %s is unreadable: %w", s.serverURL().Redacted(), credstore.ErrUnreadable)
	}
	return rec, t, err
}
