package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is what the store holds for a server, for `meshai-mcp-server status`.
type Status struct {
	SignedIn  bool
	Issuer    string
	ClientID  string
	Scopes    []string
	Expiry    time.Time // of the access token; zero when it does not expire
	Refresh   bool      // a refresh token is kept
	StoreKind string
}

// Status reports the stored sign-in, without any network request.
func (s *SignIn) Status(ctx context.Context) (Status, error) {
	st := Status{StoreKind: s.Store.Kind()}
	rec, err := s.loadRecord(ctx)
	if errors.Is(err, ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Issuer, st.ClientID = rec.Issuer, rec.ClientID
	t, err := LoadTokens(ctx, s.Store, StoreKey(s.resource(), rec.Issuer, rec.ClientID))
	if errors.Is(err, ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.SignedIn = t.AccessToken != "" && (t.Expiry.IsZero() || time.Now().Before(t.Expiry) || t.RefreshToken != "")
	st.Scopes, st.Expiry, st.Refresh = strings.Fields(t.Scope), t.Expiry, t.RefreshToken != ""
	return st, nil
}

// Logout forgets the stored tokens, registration and sign-in record of the server.
func (s *SignIn) Logout(ctx context.Context) error {
	rec, err := s.loadRecord(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	var errs []error
	if err == nil && rec.RevocationEndpoint != "" {
		if t, _ := LoadTokens(ctx, s.Store, StoreKey(s.resource(), rec.Issuer, rec.ClientID)); t != nil {
			tc := &TokenClient{TokenURL: rec.RevocationEndpoint, ClientID: rec.ClientID, ClientSecret: rec.ClientSecret,
				AuthMethod: rec.TokenEndpointAuthMethod, HTTP: s.httpClient()}
			// Revoking the refresh token ends the whole grant (RFC 7009 §2.1); a failure still forgets locally.
			if rerr := tc.Revoke(ctx, firstNonEmpty(t.RefreshToken, t.AccessToken)); rerr != nil {
				s.logf("could not revoke the tokens at the server; forgetting them here anyway", "err", rerr)
			}
		}
	}
	if err == nil {
		errs = append(errs,
			Forget(ctx, s.Store, StoreKey(s.resource(), rec.Issuer, rec.ClientID)),
			Forget(ctx, s.Store, StoreKey(s.resource(), rec.Issuer, "")))
	}
	errs = append(errs, s.Store.Delete(ctx, s.recordName()))
	s.mu.Lock()
	s.src = nil
	s.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("forget the sign-in: %w", err)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
