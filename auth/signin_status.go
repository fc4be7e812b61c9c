package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// Status is what the store holds for a server, for `meshai-mcp-server status`.
type Status struct {
	SignedIn  bool
	Issuer    string
	ClientID  string
	Scopes    []string
	Expiry    time.Time // of the access token; zero when it does not expire
	Refresh   bool      // a refresh token is kept
	Account   string    // who signed in, from the server's userinfo endpoint when it has one
	StoreKind string
}

// Status reports the stored sign-in, and who it belongs to when the server has a userinfo endpoint.
func (s *SignIn) Status(ctx context.Context) (Status, error) {
	st := Status{StoreKind: s.Store.Kind()}
	rec, t, err := s.readSignIn(ctx)
	if rec == nil && errors.Is(err, credstore.ErrNotFound) {
		return st, nil
	}
	if rec == nil {
		return st, err
	}
	st.Issuer, st.ClientID = rec.Issuer, rec.ClientID
	if err != nil || t == nil {
		return st, err
	}
	st.SignedIn = t.AccessToken != "" && (t.Expiry.IsZero() || time.Now().Before(t.Expiry) || t.RefreshToken != "")
	st.Scopes, st.Expiry, st.Refresh = strings.Fields(t.Scope), t.Expiry, t.RefreshToken != ""
	if st.SignedIn && rec.UserinfoEndpoint != "" {
		st.Account = s.account(ctx, rec.UserinfoEndpoint)
	}
	return st, nil
}

// account asks the userinfo endpoint who is signed in; "" when it cannot tell.
func (s *SignIn) account(ctx context.Context, endpoint string) string {
	src, err := s.source(ctx)
	if err != nil || src == nil {
		return ""
	}
	tok, err := src.Token()
	if err != nil {
		return ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return ""
	}
	tok.SetAuthHeader(req)
	resp, err := s.namedClient().Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var u map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&u) != nil {
		return ""
	}
	str := func(k string) string { v, _ := u[k].(string); return v }
	switch name, email := str("name"), str("email"); {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case email != "":
		return email
	case str("preferred_username") != "":
		return str("preferred_username")
	}
	return str("sub")
}

// Logout forgets the stored tokens, registration and sign-in record of the server.
func (s *SignIn) Logout(ctx context.Context) error {
	rec, t, err := s.readSignIn(ctx)
	if rec == nil && errors.Is(err, credstore.ErrNotFound) {
		return nil
	}
	if rec != nil && rec.RevocationEndpoint != "" && t != nil {
		tc := &oauth.TokenClient{TokenURL: rec.RevocationEndpoint, ClientID: rec.ClientID, ClientSecret: rec.ClientSecret,
			AuthMethod: rec.TokenEndpointAuthMethod, HTTP: s.namedClient()}
		// Revoking the refresh token ends the whole grant (RFC 7009 §2.1); a failure still forgets locally.
		if rerr := tc.Revoke(ctx, firstNonEmpty(t.RefreshToken, t.AccessToken)); rerr != nil {
			s.logf("could not revoke the tokens at the server; forgetting them here anyway", "err", rerr)
		}
	}
	err = credstore.Forget(ctx, s.Store, s.resource())
	s.mu.Lock()
	s.src = nil
	s.mu.Unlock()
	s.life.set(State{Phase: SignedOut})
	if err != nil {
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
