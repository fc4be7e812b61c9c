package auth

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"golang.org/x/oauth2"
)

const year = 365 * 24 * 60 * 60

// A token is refreshed a third of its lifetime (at most Early) before it expires, not sooner: a token fresh from a
// sign-in is used, not refreshed at once, by Token and by RefreshLoop alike.
func TestFreshTokenIsUsedUntilItsMargin(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string
		margin    time.Duration
	}{
		{"10 s", "10", 10 * time.Second / 3},
		{"3 s", "3", time.Second},
		{"2 min", "120", 40 * time.Second},
		{"1 h", "3600", time.Minute},
		{"0, taken as 60 s", "0", 20 * time.Second},
		{"1e10, taken as a year", "1e10", time.Minute},
	}
	for _, tt := range tests {
		for _, loop := range []bool{false, true} {
			name := tt.name + "/Token"
			if loop {
				name = tt.name + "/RefreshLoop"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					as, store, client := setupInBubble(0)
					as.expiresIn = tt.expiresIn
					signedIn, err := client.Refresh(context.Background(), "rt-0") // what a sign-in gets
					if err != nil {
						t.Fatal(err)
					}
					store.SaveToken(context.Background(), signedIn)
					s := &Source{Store: store, Lock: mutexLocker(), Client: client}
					s.Use(signedIn)
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					if loop {
						go s.RefreshLoop(ctx, func(err error) { t.Errorf("refresh loop: %v", err) })
					}
					check := func(when string, want int32) {
						t.Helper()
						if !loop {
							if _, err := s.Token(); err != nil {
								t.Fatal(err)
							}
						}
						synctest.Wait()
						if n := as.refreshes.Load() - 1; n != want {
							t.Fatalf("%s: %d refreshes, want %d", when, n, want)
						}
					}
					check("fresh from the sign-in", 0)
					time.Sleep(time.Until(signedIn.Expiry) - tt.margin - time.Millisecond)
					check("just before the margin", 0)
					time.Sleep(20 * time.Millisecond) // RefreshLoop wakes 10 ms into the margin
					check("inside the margin", 1)
				})
			})
		}
	}
}

// Another process (a second Source, with its own memory, on the same store) reads the lifetime from the store: it
// uses the token the first one just fetched instead of refreshing it again, and refreshes at the same margin.
func TestAnotherProcessUsesTheSameMargin(t *testing.T) {
	for _, ttl := range []int{10, 3} {
		t.Run(time.Duration(ttl*int(time.Second)).String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as, mem, client := setupInBubble(ttl)
				files, _, err := credstore.Open(context.Background(), credstore.KindFile, t.TempDir(), 0)
				if err != nil {
					t.Fatal(err)
				}
				store := &credstore.Grant{Store: files, Resource: client.Resource, Record: testRecord}
				if err := store.SaveToken(context.Background(), mem.tok); err != nil { // expired
					t.Fatal(err)
				}
				lock := mutexLocker()
				first := &Source{Store: store, Lock: lock, Client: client}
				other := &Source{Store: store, Lock: lock, Client: client}
				get := func(s *Source, want string, refreshes int32) {
					t.Helper()
					tok, err := s.Token()
					if err != nil || tok.AccessToken != want || as.refreshes.Load() != refreshes {
						t.Fatalf("got %v (%v) after %d refreshes; want %s after %d", tok, err, as.refreshes.Load(), want, refreshes)
					}
				}
				get(first, "at-1", 1)
				get(other, "at-1", 1) // fetched by the first a moment ago: used, not refreshed again
				margin := time.Duration(ttl) * time.Second / 3
				time.Sleep(time.Duration(ttl)*time.Second - margin - time.Millisecond)
				get(other, "at-1", 1)
				time.Sleep(time.Millisecond)
				get(other, "at-2", 2)
				get(first, "at-2", 2) // refreshed by the other process: taken from the store
			})
		})
	}
}

// The lifetime is kept in the store with the tokens; tokens kept by an earlier version have none, and get the
// default margin.
func TestStoredTokensKeepTheLifetime(t *testing.T) {
	ctx := context.Background()
	files, _, err := credstore.Open(ctx, credstore.KindFile, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	written := &nameRecorder{Store: files}
	st := &credstore.Grant{Store: written, Resource: "https://mcp.example.com/mcp", Record: testRecord}
	expiry := time.Now().Add(30 * time.Second).Truncate(time.Second)
	if err := st.SaveToken(ctx, &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: expiry, ExpiresIn: 45}); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoadToken(ctx)
	if err != nil || got.ExpiresIn != 45 || !got.Expiry.Equal(expiry) {
		t.Fatalf("loaded %+v (%v); want a 45 s lifetime and the expiry kept", got, err)
	}
	s := &Source{}
	if m := s.earlyFor(got); m != 15*time.Second {
		t.Errorf("margin %v for a 45 s token, want 15 s", m)
	}
	old, _ := json.Marshal(map[string]any{"access_token": "at", "refresh_token": "rt", "expiry": expiry})
	if err := files.Set(ctx, written.last(), old); err != nil { // where the Grant keeps its tokens
		t.Fatal(err)
	}
	got, err = st.LoadToken(ctx)
	if err != nil || got.ExpiresIn != 0 || got.AccessToken != "at" {
		t.Fatalf("tokens saved without a lifetime: loaded %+v (%v)", got, err)
	}
	if m := s.earlyFor(got); m != time.Minute {
		t.Errorf("margin %v without a lifetime, want Early, 1 min", m)
	}
}

// A token endpoint stating a lifetime past time.Duration's range (here, 1e10 s) once made the expiry a date in 1759
// and the loop refresh every 100 ms forever. Clamped to a year, an idle day brings no refresh.
func TestRefreshLoopWithHugeExpiresInDoesNotSpin(t *testing.T) {
	for _, expiresIn := range []string{"10000000000", "1e999"} {
		t.Run(expiresIn, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as, store, client := setupInBubble(0)
				as.expiresIn = expiresIn
				s := &Source{Store: store, Lock: mutexLocker(), Client: client}
				tok, err := s.Token()
				if err != nil {
					t.Fatal(err)
				}
				if want := time.Now().Add(year * time.Second); !tok.Expiry.Equal(want) {
					t.Fatalf("expiry %v, want a year from now, %v", tok.Expiry, want)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go s.RefreshLoop(ctx, func(err error) { t.Errorf("refresh loop: %v", err) })
				time.Sleep(24 * time.Hour)
				synctest.Wait()
				if n := as.refreshes.Load(); n != 1 {
					t.Fatalf("%d refreshes in an idle day, want 1 (the first)", n)
				}
			})
		})
	}
}

// testRecord is a sign-in for tests that keep tokens in a real store.
var testRecord = credstore.SignInRecord{Registration: credstore.Registration{Issuer: "https://as.example.com", ClientID: "c"},
	TokenEndpoint: "https://as.example.com/token"}

// nameRecorder is a store that records the names it is written under, so that a test can age or damage what the
// store API wrote without knowing its layout.
type nameRecorder struct {
	credstore.Store
	mu    sync.Mutex
	names []string
}

func (r *nameRecorder) Set(ctx context.Context, name string, value []byte) error {
	r.mu.Lock()
	r.names = append(r.names, name)
	r.mu.Unlock()
	return r.Store.Set(ctx, name, value)
}

// last is the name written last.
func (r *nameRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[len(r.names)-1]
}
