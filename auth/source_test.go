package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/internal/authtest"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"golang.org/x/oauth2"
)

// rotatingAS is a token endpoint that rotates refresh tokens and, like the MCP spec's servers for public
// clients, revokes the whole grant when a spent refresh token comes back.
type rotatingAS struct {
	mu        sync.Mutex
	valid     string // the one live refresh token
	spent     map[string]bool
	revoked   bool
	refreshes atomic.Int32
	ttl       int
	expiresIn string // when set, the expires_in sent instead of ttl, as it is (JSON)
	n         int
	outage    []cannedAnswer // served first, one per request, before any real answer (the refresh token stays live)
	noClient  bool           // answer invalid_client: the server forgot the registration
}

// cannedAnswer is one canned token endpoint response.
type cannedAnswer struct {
	status int
	ct     string
	body   string
}

func (a *rotatingAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshes.Add(1)
	rt := r.PostForm.Get("refresh_token")
	if len(a.outage) > 0 {
		o := a.outage[0]
		a.outage = a.outage[1:]
		w.Header().Set("Content-Type", o.ct)
		w.WriteHeader(o.status)
		fmt.Fprint(w, o.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if a.noClient {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"unknown client"}`)
		return
	}
	if a.revoked || rt != a.valid {
		if a.spent[rt] {
			a.revoked = true
		}
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	a.spent[rt] = true
	a.n++
	a.valid = fmt.Sprintf("rt-%d", a.n)
	expiresIn := a.expiresIn
	if expiresIn == "" {
		expiresIn = fmt.Sprint(a.ttl)
	}
	fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","refresh_token":%q,"expires_in":%s}`, a.n, a.valid, expiresIn)
}

// memStore is a TokenStore shared by several Sources, standing for the keychain several processes share.
type memStore struct {
	mu  sync.Mutex
	tok *oauth2.Token
}

func (m *memStore) LoadToken(context.Context) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok == nil {
		return nil, nil
	}
	c := *m.tok
	return &c, nil
}

func (m *memStore) SaveToken(_ context.Context, t *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *t
	m.tok = &c
	return nil
}

func mutexLocker() Locker {
	var mu sync.Mutex
	return func(context.Context) (func(), error) { mu.Lock(); return mu.Unlock, nil }
}

func setup(t *testing.T, ttl int) (*rotatingAS, *memStore, *oauth.TokenClient) {
	as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: ttl}
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
	return as, store, &oauth.TokenClient{TokenURL: srv.URL, ClientID: "c", Resource: "https://mcp.example.com/mcp"}
}

// setupInBubble is setup for a synctest bubble: the token endpoint is served in memory, since a real connection
// would keep the bubble's clock from moving. Call it inside the bubble, where time.Now is the fake clock.
func setupInBubble(ttl int) (*rotatingAS, *memStore, *oauth.TokenClient) {
	as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: ttl}
	store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
	return as, store, &oauth.TokenClient{TokenURL: "https://as.example.com/token", ClientID: "c", Resource: "https://mcp.example.com/mcp",
		HTTP: &http.Client{Transport: authtest.InProcess{H: as}}}
}

// Twenty sources (each with its own memory, as separate processes have) wake up with an expired token: one
// refresh, every one of them gets the new token, and the grant survives.
func TestOneRefreshForMany(t *testing.T) {
	as, store, client := setup(t, 3600)
	lock := mutexLocker()
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			s := &Source{Store: store, Lock: lock, Client: client}
			tok, err := s.Token()
			if err != nil {
				t.Errorf("source %d: %v", i, err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if n := as.refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh requests, want 1", n)
	}
	for i, g := range got {
		if g != "at-1" {
			t.Errorf("source %d got %q", i, g)
		}
	}
	if as.revoked {
		t.Error("the grant was revoked")
	}
}

func TestRefreshedTokenIsSavedBeforeUse(t *testing.T) {
	_, store, client := setup(t, 3600)
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	tok, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := store.LoadToken(context.Background())
	if saved.AccessToken != tok.AccessToken || saved.RefreshToken != "rt-1" {
		t.Fatalf("saved %+v, handed out %+v", saved, tok)
	}
}

func TestRevokedGrantMeansSignIn(t *testing.T) {
	as, store, client := setup(t, 3600)
	as.revoked = true
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	if _, err := s.Token(); !errors.Is(err, ErrSignInRequired) {
		t.Fatalf("err = %v", err)
	}
	empty := &Source{Store: &memStore{}, Lock: mutexLocker(), Client: client}
	if _, err := empty.Token(); !errors.Is(err, ErrSignInRequired) {
		t.Fatalf("no tokens at all: err = %v", err)
	}
}

func TestInvalidateAfter401(t *testing.T) {
	as, store, client := setup(t, 3600)
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	first, _ := s.Token()
	again, _ := s.Token()
	if first.AccessToken != again.AccessToken || as.refreshes.Load() != 1 {
		t.Fatal("a valid token must be reused")
	}
	next, err := s.Invalidate(context.Background(), first)
	if err != nil || next.AccessToken == first.AccessToken || as.refreshes.Load() != 2 {
		t.Fatalf("after a 401 the token must be refreshed: %v %v", next, err)
	}
}

// The loop refreshes short-lived tokens ahead of expiry, so calls never see an expired one: on the fake clock, a
// 2 s token is refreshed once two thirds of its life are gone, and no sooner.
func TestRefreshLoopKeepsTheTokenFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as, store, client := setupInBubble(2) // 2 s tokens
		s := &Source{Store: store, Lock: mutexLocker(), Client: client}
		if _, err := s.Token(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.RefreshLoop(ctx, func(err error) { t.Errorf("refresh loop: %v", err) })
		for range 100 { // 5 s
			tok, err := s.Token()
			if err != nil || time.Until(tok.Expiry) <= 0 {
				t.Fatalf("expired or failed token: %v %v", tok, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The first token, then one every 4/3 s (and 10 ms): at 1.34 s, 2.69 s and 4.03 s.
		if n := as.refreshes.Load(); n != 4 {
			t.Errorf("%d refreshes in 5 s of 2 s tokens; want 4, one every 1.34 s", n)
		}
	})
}

// An outage at the token endpoint is not a lost grant: the error says so, the refresh token is kept and tried
// again on the next call, and nobody is sent to sign in.
func TestRefreshOutageKeepsTheGrant(t *testing.T) {
	tests := []struct {
		name string
		a    cannedAnswer
		want string
	}{
		{"temporarily_unavailable", cannedAnswer{503, "application/json", `{"error":"temporarily_unavailable"}`}, "temporarily_unavailable"},
		{"500", cannedAnswer{500, "text/plain", "internal error"}, "500"},
		{"502 HTML from a proxy", cannedAnswer{502, "text/html", "<html><body>Bad Gateway</body></html>"}, "HTML"},
		{"429", cannedAnswer{429, "application/json", `{"error":"slow_down"}`}, "slow_down"},
		{"HTML with 200", cannedAnswer{200, "text/html", "<!doctype html><title>Just a moment...</title>"}, "other than JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, store, client := setup(t, 3600)
			as.outage = []cannedAnswer{tt.a}
			s := &Source{Store: store, Lock: mutexLocker(), Client: client}
			_, err := s.Token()
			if err == nil || errors.Is(err, ErrSignInRequired) || oauth.IsInvalidGrant(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want a retryable error naming %q", err, tt.want)
			}
			if tok, _ := store.LoadToken(context.Background()); tok.RefreshToken != "rt-0" || s.dead != "" {
				t.Fatalf("the refresh token was dropped: stored %q, dead %q", tok.RefreshToken, s.dead)
			}
			tok, err := s.Token()
			if err != nil || tok.AccessToken != "at-1" || as.refreshes.Load() != 2 {
				t.Fatalf("after the outage the same refresh token must work: %v %v (refreshes %d)", tok, err, as.refreshes.Load())
			}
		})
	}
}

// invalid_client on refresh: the server forgot the client, so its refresh token is dead too; the source asks for a
// sign-in once, never sends that refresh token again, and tells SignIn to register anew.
func TestInvalidClientMeansSignInWithANewRegistration(t *testing.T) {
	as, store, client := setup(t, 3600)
	as.noClient = true
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	for range 3 {
		if _, err := s.Token(); !errors.Is(err, ErrSignInRequired) {
			t.Fatalf("err = %v", err)
		}
	}
	// The error says why, so doctor can tell a forgotten client from a revoked grant: a fresh source asks once more.
	fresh := &Source{Store: store, Lock: mutexLocker(), Client: client}
	if _, err := fresh.Token(); !oauth.IsInvalidClient(err) || !errors.Is(err, ErrSignInRequired) {
		t.Errorf("the error must say invalid_client and sign-in required: %v", err)
	}
	if n := as.refreshes.Load(); n != 2 || !s.clientGone {
		t.Fatalf("%d refresh attempts (want 1), clientGone %v", n, s.clientGone)
	}
}

// What a source learnt of its grant is told through Spent and carried over by Inherit: a source loaded anew for the
// same sign-in does not send the refused refresh token again, and SignIn learns whether to register anew.
func TestSpentRefreshTokenIsInherited(t *testing.T) {
	tests := []struct {
		name       string
		refuse     func(*rotatingAS)
		clientGone bool
	}{
		{"invalid_grant", func(as *rotatingAS) { as.revoked = true }, false},
		{"invalid_client", func(as *rotatingAS) { as.noClient = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, store, client := setup(t, 3600)
			tt.refuse(as)
			old := &Source{Store: store, Lock: mutexLocker(), Client: client}
			if dead, gone := old.Spent(); dead != "" || gone {
				t.Fatalf("Spent before any refresh = %q, %v", dead, gone)
			}
			if _, err := old.Token(); !errors.Is(err, ErrSignInRequired) {
				t.Fatalf("err = %v", err)
			}
			if dead, gone := old.Spent(); dead != "rt-0" || gone != tt.clientGone {
				t.Fatalf("Spent = %q, %v; want rt-0, %v", dead, gone, tt.clientGone)
			}
			fresh := &Source{Store: store, Lock: mutexLocker(), Client: client}
			fresh.Inherit(old)
			if _, err := fresh.Token(); !errors.Is(err, ErrSignInRequired) {
				t.Fatalf("the inheriting source: err = %v", err)
			}
			if n := as.refreshes.Load(); n != 1 {
				t.Errorf("%d refresh requests; want 1: the inheriting source sent the refused refresh token again", n)
			}
		})
	}
}

// AccessToken tells the token a source holds without refreshing it.
func TestAccessTokenDoesNotRefresh(t *testing.T) {
	as, store, client := setup(t, 3600)
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	if got := s.AccessToken(); got != "" || as.refreshes.Load() != 0 {
		t.Fatalf("AccessToken of a source holding nothing = %q after %d refreshes", got, as.refreshes.Load())
	}
	tok, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.AccessToken(); got != tok.AccessToken || as.refreshes.Load() != 1 {
		t.Errorf("AccessToken = %q after %d refreshes; want %q after 1", got, as.refreshes.Load(), tok.AccessToken)
	}
}
