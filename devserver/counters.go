package devserver

import (
	"maps"
	"sync"
	"time"
)

// TokenCounts is what the authorization server's token endpoint has seen (OAuth only), for tests that prove how
// often clients came back.
type TokenCounts struct {
	// ByGrant counts token requests of authenticated clients by grant_type: authorization_code, refresh_token, the
	// device grant; any other value under "other".
	ByGrant map[string]int64
	// Authorizations counts authorization requests at /oauth/authorize, as Stats.Authorizations.
	Authorizations int64
	// EarlyRefreshes counts refresh_token grants made while the grant's newest access token had more than a third of
	// its lifetime left on the server's clock: a client that refreshes a third of the lifetime before expiry, or
	// later, never makes one; one that refreshes a token another process has just fetched does.
	EarlyRefreshes int64
}

// tokenCounter keeps the counts behind TokenCounts.
type tokenCounter struct {
	mu      sync.Mutex
	byGrant map[string]int64
	early   int64 // see TokenCounts.EarlyRefreshes
}

// request counts one token request of an authenticated client.
func (c *tokenCounter) request(grantType string) {
	switch grantType {
	case "authorization_code", "refresh_token", deviceGrantType:
	default:
		grantType = "other"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byGrant == nil {
		c.byGrant = map[string]int64{}
	}
	c.byGrant[grantType]++
}

// countRefreshLocked counts a refresh of grant about to be made, and whether it is early; the caller holds o.mu.
func (o *oauthServer) countRefreshLocked(grant string) {
	var newest *accessToken
	for _, at := range o.access {
		if at.grant == grant && (newest == nil || at.issued.After(newest.issued)) {
			newest = at
		}
	}
	if newest == nil {
		return
	}
	// Early: issued less than two thirds of its stated lifetime ago (expires_in, whole seconds), computed as a
	// client computes its margin of a third.
	stated := newest.expires.Sub(newest.issued).Truncate(time.Second)
	if o.now().Sub(newest.issued) >= stated-stated/3 {
		return
	}
	o.counts.mu.Lock()
	defer o.counts.mu.Unlock()
	o.counts.early++
}

// TokenCounts reports the token endpoint's counts; all zero without OAuth.
func (r *Running) TokenCounts() TokenCounts {
	out := TokenCounts{ByGrant: map[string]int64{}}
	o := r.srv.oauth
	if o == nil {
		return out
	}
	o.counts.mu.Lock()
	defer o.counts.mu.Unlock()
	maps.Copy(out.ByGrant, o.counts.byGrant)
	out.Authorizations, out.EarlyRefreshes = o.stats.authorizations.Load(), o.counts.early
	return out
}

// LiveAccessTokens reports how many issued access tokens are neither expired on the server's clock nor revoked
// (OAuth only), so a test can wait for the server itself to see a token expire.
func (r *Running) LiveAccessTokens() int {
	o := r.srv.oauth
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now, n := o.now(), 0
	for _, at := range o.access {
		if now.Before(at.expires) {
			n++
		}
	}
	return n
}
