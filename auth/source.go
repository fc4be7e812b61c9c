package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
	"golang.org/x/oauth2"
)

// ErrSignInRequired means there are no usable tokens: the interactive sign-in has to run.
var ErrSignInRequired = errors.New("sign-in required")

// TokenStore keeps the tokens of one server, issuer and client.
type TokenStore interface {
	LoadToken(ctx context.Context) (*oauth2.Token, error) // nil, nil when there are none
	SaveToken(ctx context.Context, t *oauth2.Token) error
}

// Locker takes the cross-process lock that serializes refreshes and sign-ins for one server.
type Locker func(ctx context.Context) (unlock func(), err error)

// Source is an oauth2.TokenSource that refreshes silently and safely across processes: before a refresh it takes
// the lock and re-reads the store, because another bridge may have refreshed already — with rotating refresh
// tokens, reusing the old one would revoke the whole grant. A new pair is saved before it is used.
type Source struct {
	Store  TokenStore
	Lock   Locker
	Client *oauth.TokenClient
	// Early is how long before expiry a token counts as expired (default 60 s), at most a third of its lifetime.
	Early time.Duration
	// Timeout bounds one Token call that has to refresh (default 30 s).
	Timeout time.Duration

	mu   sync.Mutex
	cur  *oauth2.Token // its lifetime as issued is in ExpiresIn, kept in the store with it
	dead string        // a refresh token the server refused (invalid_grant): never sent again
	// clientGone: the token endpoint answered invalid_client: the server no longer knows this client, so the next
	// sign-in must register again (SignIn reads it through Spent).
	clientGone bool
}

// Token returns a valid access token, refreshing it when it is about to expire.
func (s *Source) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout())
	defer cancel()
	return s.token(ctx, nil)
}

// Use makes tok, fresh from a sign-in, the current token: it is used until its refresh margin, like any other.
func (s *Source) Use(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = tok
}

// AccessToken is the access token the source holds now, without refreshing it; "" when it holds none.
func (s *Source) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return ""
	}
	return s.cur.AccessToken
}

// Spent reports what the source learnt of its grant the hard way: the refresh token the server refused
// (invalid_grant or invalid_client), which it never sends again, and whether the token endpoint answered
// invalid_client, so that the next sign-in must register a new client.
func (s *Source) Spent() (deadRefresh string, clientGone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead, s.clientGone
}

// Inherit takes over the refresh token old had found refused, so that this source, loaded anew for the same
// sign-in, does not send it again.
func (s *Source) Inherit(old *Source) {
	dead, _ := old.Spent()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = dead
}

// Invalidate forces the next Token to refresh: the server answered 401 to tok.
func (s *Source) Invalidate(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	return s.token(ctx, rejected)
}

func (s *Source) token(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usable(s.cur, rejected) {
		return s.cur, nil
	}
	// What this source knew before waiting for the lock: a different token after it means another process
	// refreshed or signed in meanwhile.
	seen := rejected
	if seen == nil {
		seen = s.cur
	}
	if seen == nil {
		seen, _ = s.Store.LoadToken(ctx)
	}
	unlock, err := s.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("wait for the token lock: %w", err)
	}
	defer unlock()
	stored, err := s.Store.LoadToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("read stored tokens: %w", err)
	}
	if s.usable(stored, rejected) || renewedElsewhere(stored, seen) { // another process refreshed meanwhile
		s.cur = stored
		return stored, nil
	}
	if stored == nil && s.cur != nil && s.cur.RefreshToken != "" && s.cur.RefreshToken != s.dead {
		// The store lost the tokens (a deleted config dir, a cleared keychain) while this process still holds them:
		// refresh with those, and the refreshed pair is saved again, rather than asking for a new sign-in.
		stored = s.cur
	}
	if stored == nil || stored.RefreshToken == "" || stored.RefreshToken == s.dead {
		return nil, ErrSignInRequired
	}
	fresh, err := s.Client.Refresh(ctx, stored.RefreshToken)
	if err != nil {
		if oauth.IsInvalidGrant(err) {
			s.dead = stored.RefreshToken // requests waiting behind this one need not ask again
			return nil, fmt.Errorf("%w (%v)", ErrSignInRequired, err)
		}
		if oauth.IsInvalidClient(err) { // the refresh token belongs to a client the server forgot: only a new sign-in helps
			s.dead, s.clientGone = stored.RefreshToken, true
			return nil, fmt.Errorf("%w (%w)", ErrSignInRequired, err) // IsInvalidClient still sees it
		}
		return nil, fmt.Errorf("refresh the access token: %w", err)
	}
	if err := s.Store.SaveToken(ctx, fresh); err != nil {
		// The old refresh token may already be spent: without the new one saved, the next start signs in again.
		return nil, fmt.Errorf("save refreshed tokens: %w", err)
	}
	s.cur = fresh
	return fresh, nil
}

// usable: present, not the rejected one, and not about to expire.
func (s *Source) usable(t, rejected *oauth2.Token) bool {
	if t == nil || t.AccessToken == "" || (rejected != nil && t.AccessToken == rejected.AccessToken) {
		return false
	}
	return t.Expiry.IsZero() || time.Until(t.Expiry) > s.earlyFor(t)
}

// renewedElsewhere reports whether stored is a token this source has not seen yet and that has not expired: another
// process refreshed or signed in. It is taken even inside the refresh margin, so twenty bridges waking together
// with short-lived tokens make one refresh, not one each.
func renewedElsewhere(stored, seen *oauth2.Token) bool {
	if stored == nil || stored.AccessToken == "" || (seen != nil && stored.AccessToken == seen.AccessToken) {
		return false
	}
	return stored.Expiry.IsZero() || time.Now().Before(stored.Expiry)
}

// earlyFor is the refresh margin for t: Early, but at most a third of the lifetime t was issued with, so a token
// that lives less than Early is not refreshed over and over. It depends on t alone, whichever process fetched it
// (the lifetime is kept with the token in the store): every process refreshes a token at the same moment, and none
// refreshes one that another has just fetched. Without a known lifetime it is Early.
func (s *Source) earlyFor(t *oauth2.Token) time.Duration {
	if life := oauth.Lifetime(t); life > 0 {
		return min(s.early(), life/3)
	}
	return s.early()
}

// RefreshLoop refreshes ahead of expiry until ctx ends, so an idle session never meets an expired token.
// Failures are reported through onError and retried with backoff; it stops early on ErrSignInRequired.
func (s *Source) RefreshLoop(ctx context.Context, onError func(error)) {
	backoff := 5 * time.Second
	for {
		s.mu.Lock()
		cur := s.cur
		wait := time.Minute
		if cur != nil && !cur.Expiry.IsZero() {
			wait = time.Until(cur.Expiry) - s.earlyFor(cur) + 10*time.Millisecond
		}
		s.mu.Unlock()
		if !timeutil.Sleep(ctx, max(wait, 100*time.Millisecond)) {
			return
		}
		if cur == nil {
			continue // nothing to refresh until a sign-in or a first Token call
		}
		tctx, cancel := context.WithTimeout(ctx, s.timeout())
		_, err := s.token(tctx, nil)
		cancel()
		switch {
		case err == nil:
			backoff = 5 * time.Second
		case errors.Is(err, ErrSignInRequired):
			onError(err)
			return
		default:
			onError(err)
			if !timeutil.Sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 5*time.Minute)
		}
	}
}

func (s *Source) early() time.Duration {
	if s.Early > 0 {
		return s.Early
	}
	return 60 * time.Second
}

func (s *Source) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 30 * time.Second
}
