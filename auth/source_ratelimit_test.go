package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/auth/internal/authtest"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// A refresh the token endpoint rate limits is one refresh, sent again once the wait is over; a wait longer than
// a request may take is an error naming the token endpoint and the time, the refresh token is kept, and nothing
// reaches the endpoint again before that time.
func TestRateLimitedRefresh(t *testing.T) {
	t.Run("a short wait is waited out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
			lim := authtest.NewLimiter(as, "2", 1)
			store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
			s := &Source{Store: store, Lock: mutexLocker(), Client: &oauth.TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: authtest.LimitedClient(lim)}}
			tok, err := s.Token()
			if err != nil || tok.AccessToken != "at-1" {
				t.Fatalf("Token() = %v, %v; want at-1 after the wait", tok, err)
			}
			if got, want := lim.Requests(), []string{"0s rt-0refresh_token", "2s rt-0refresh_token"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the token endpoint saw %q; want %q", got, want)
			}
			if stored, _ := store.LoadToken(context.Background()); stored.RefreshToken != "rt-1" {
				t.Errorf("stored refresh token %q; want the rotated rt-1", stored.RefreshToken)
			}
		})
	})
	t.Run("a long wait is an error, and the grant is kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
			lim := authtest.NewLimiter(as, "60", 1)
			store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
			s := &Source{Store: store, Lock: mutexLocker(), Client: &oauth.TokenClient{TokenURL: "https://as.example/token?tenant=x", ClientID: "c", HTTP: authtest.LimitedClient(lim)}}
			_, err := s.Token()
			var rl *ratelimit.Error
			if !errors.As(err, &rl) || !oauth.IsRateLimited(err) || errors.Is(err, ErrSignInRequired) || !rl.Until.Equal(time.Now().Add(time.Minute)) {
				t.Fatalf("err = %v; want a rate limit until a minute from now, not a sign-in", err)
			}
			want := "refresh the access token: the token endpoint https://as.example/token is rate limiting (429): it asks to wait 1m0s (until 00:01:00 UTC)"
			if err.Error() != want {
				t.Errorf("err = %q; want %q", err, want)
			}
			time.Sleep(5 * time.Millisecond) // the next Token call, as the bridge makes it for the next request
			if _, err := s.Token(); !oauth.IsRateLimited(err) {
				t.Errorf("second Token() = %v; want the same rate limit", err)
			}
			if n := len(lim.Requests()); n != 1 {
				t.Errorf("the token endpoint saw %d refreshes during its wait; want 1", n)
			}
			if stored, _ := store.LoadToken(context.Background()); stored.RefreshToken != "rt-0" || s.dead != "" {
				t.Errorf("the refresh token was dropped: stored %q, dead %q", stored.RefreshToken, s.dead)
			}
			time.Sleep(time.Until(rl.Until))
			if tok, err := s.Token(); err != nil || tok.AccessToken != "at-1" {
				t.Errorf("after the wait: %v, %v; want at-1 from the kept refresh token", tok, err)
			}
			if got := lim.Requests(); len(got) != 2 || !strings.HasPrefix(got[1], "1m0s rt-0") {
				t.Errorf("the token endpoint saw %q; want the second refresh at 1m0s", got)
			}
		})
	})
}

// A 429 that names no wait, handed back by the transport, is a rate limit too: the grant is kept.
func TestRefreshRefusedWith429NamingNoWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := &rotatingAS{valid: "rt-0", spent: map[string]bool{}, ttl: 3600}
		lim := authtest.NewLimiter(as, "", 1)
		store := &memStore{tok: &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}}
		hc := &http.Client{Transport: &ratelimit.Transport{Base: authtest.InProcess{H: lim}, Retries: -1}}
		s := &Source{Store: store, Lock: mutexLocker(), Client: &oauth.TokenClient{TokenURL: "https://as.example/token", ClientID: "c", HTTP: hc}}
		_, err := s.Token()
		want := "refresh the access token: the token endpoint is rate limiting (429) (too_many_requests): try again later"
		if err == nil || err.Error() != want || !oauth.IsRateLimited(err) || errors.Is(err, ErrSignInRequired) || s.dead != "" {
			t.Fatalf("err = %v (dead %q); want %q", err, s.dead, want)
		}
		if tok, err := s.Token(); err != nil || tok.AccessToken != "at-1" {
			t.Errorf("the next Token() = %v, %v; want at-1 from the kept refresh token", tok, err)
		}
	})
}
