package devserver

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Token requests are counted by grant type; a refresh is early while the newest access token of its grant has
// more than a third of its lifetime left, whoever asks; LiveAccessTokens follows the server's clock.
func TestTokenCounts(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true, AccessTokenTTL: time.Hour})
	c, tok := tokens(t, r, "")
	refresh := func() {
		t.Helper()
		status, out := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, out)
		}
		tok = out
	}
	steps := []struct {
		name      string
		do        func()
		wantEarly int64
		wantLive  int
	}{
		{"signed in", func() {}, 0, 1},
		{"refreshed at once", refresh, 1, 2},
		// The real clock moves on too, by far less than the minute to spare.
		{"refreshed 39 min later, before two thirds of 1 h", func() { advance(r, 39*time.Minute); refresh() }, 2, 3},
		{"refreshed 40 min later, a third left", func() { advance(r, 40*time.Minute); refresh() }, 2, 2},
		{"refreshed after expiry", func() { advance(r, 61*time.Minute); refresh() }, 2, 1},
		{"revoked, then refreshed at once", func() { r.RevokeAccessTokens(); refresh() }, 2, 1},
		{"expired", func() { advance(r, 61*time.Minute) }, 2, 0},
	}
	for _, s := range steps {
		s.do()
		if got := r.TokenCounts().EarlyRefreshes; got != s.wantEarly {
			t.Errorf("%s: %d early refreshes, want %d", s.name, got, s.wantEarly)
		}
		if got := r.LiveAccessTokens(); got != s.wantLive {
			t.Errorf("%s: %d live access tokens, want %d", s.name, got, s.wantLive)
		}
	}
	tokenRequest(t, r, c, url.Values{"grant_type": {"password"}})
	got := r.TokenCounts()
	want := map[string]int64{"authorization_code": 1, "refresh_token": 5, "other": 1}
	if len(got.ByGrant) != len(want) || got.Authorizations != 1 {
		t.Errorf("counts %+v, want %v and 1 authorization", got, want)
	}
	for k, v := range want {
		if got.ByGrant[k] != v {
			t.Errorf("%s: %d requests, want %d", k, got.ByGrant[k], v)
		}
	}
	if got := (&Running{srv: &Server{}}).TokenCounts(); got.ByGrant == nil || got.EarlyRefreshes != 0 {
		t.Errorf("without OAuth: %+v", got)
	}
}
