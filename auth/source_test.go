package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	n         int
}

func (a *rotatingAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshes.Add(1)
	rt := r.PostForm.Get("refresh_token")
	w.Header().Set("Content-Type", "application/json")
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
	fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","refresh_token":%q,"expires_in":%d}`, a.n, a.valid, a.ttl)
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

func setup(t *testing.T, ttl int) (*rotatingAS, *memStore, *TokenClient) {
	as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: ttl}
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
	return as, store, &TokenClient{TokenURL: srv.URL, ClientID: "c", Resource: "https://mcp.example.com/mcp"}
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

// The loop refreshes short-lived tokens ahead of expiry, so calls never see an expired one.
func TestRefreshLoopKeepsTheTokenFresh(t *testing.T) {
	as, store, client := setup(t, 2) // 2 s tokens
	s := &Source{Store: store, Lock: mutexLocker(), Client: client}
	if _, err := s.Token(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.RefreshLoop(ctx, func(err error) { t.Errorf("refresh loop: %v", err) })
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tok, err := s.Token()
		if err != nil || time.Until(tok.Expiry) <= 0 {
			t.Fatalf("expired or failed token: %v %v", tok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := as.refreshes.Load(); n < 2 || n > 10 { // ahead of expiry, and no refresh storm
		t.Errorf("%d refreshes in 5 s of 2 s tokens; want about one every 1.3 s, never a storm", n)
	}
}
