package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// AuthRequest is one authorization-code request in flight: the URL for the browser and what redeeming its code
// needs. Verifier and State are secrets of this sign-in; they never leave the process except in the URL
// (state) and the token request (verifier).
type AuthRequest struct {
	URL         string // the authorization URL, checked by BrowserURL
	State       string
	Verifier    string // PKCE code_verifier (S256)
	RedirectURI string
	Issuer      string // the validated metadata issuer, recorded for the RFC 9207 check
}

// reservedParams are set by the flow; an extra parameter may not override them.
var reservedParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "state": true, "scope": true,
	"code_challenge": true, "code_challenge_method": true, "resource": true,
}

// ReservedParam reports whether the authorization request parameter k (in any case) is one the flow sets itself,
// which NewAuthRequest refuses as an extra.
func ReservedParam(k string) bool { return reservedParams[strings.ToLower(k)] }

// ErrReservedParam: an extra authorization request parameter would override one the flow sets itself.
var ErrReservedParam = errors.New("the sign-in sets that parameter itself")

// NewAuthRequest builds the authorization URL: response_type=code, PKCE S256, a fresh state, the RFC 8707
// resource, the scopes (omitted when none), and extra parameters that do not touch the flow's own.
func NewAuthRequest(authorizeURL, issuer, clientID, redirectURI, resource string, scopes []string, extra url.Values) (*AuthRequest, error) {
	if _, err := BrowserURL(authorizeURL); err != nil {
		return nil, fmt.Errorf("authorization endpoint: %w", err)
	}
	state, err := randomString(32)
	if err != nil {
		return nil, err
	}
	cfg := oauth2.Config{
		ClientID:    clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: authorizeURL},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
	verifier := oauth2.GenerateVerifier()
	secrets.Add(verifier)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", resource))
	}
	for k, vs := range extra {
		if ReservedParam(k) {
			return nil, fmt.Errorf("extra authorization request parameter %s: %w", k, ErrReservedParam)
		}
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	u := cfg.AuthCodeURL(state, opts...)
	if _, err := BrowserURL(u); err != nil {
		return nil, fmt.Errorf("authorization URL: %w", err)
	}
	return &AuthRequest{URL: u, State: state, Verifier: verifier, RedirectURI: redirectURI, Issuer: issuer}, nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
