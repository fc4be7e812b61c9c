package auth

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// configuredClient reports whether the sign-in uses a client registered beforehand (ClientID), whose registration
// must list the exact redirect URI the bridge sends.
func (s *SignIn) configuredClient() bool { return s.ClientID != "" }

// clientAuthMethod is how the configured client authenticates at the token endpoint (also for refresh and
// revocation, which read it from the stored registration): ClientAuthMethod when given (a client.json's
// token_endpoint_auth_method); else none without a secret, client_secret_basic with one, or client_secret_post
// where the server lists only that.
func (s *SignIn) clientAuthMethod(meta *oauth.ServerMetadata) string {
	switch {
	case s.ClientAuthMethod != "":
		return s.ClientAuthMethod
	case s.ClientSecret == "":
		return oauth.AuthNone
	case !slices.Contains(meta.TokenEndpointAuthMethodsSupported, oauth.AuthBasic) && slices.Contains(meta.TokenEndpointAuthMethodsSupported, oauth.AuthPost):
		return oauth.AuthPost
	}
	return oauth.AuthBasic
}

// showRedirect names, for a configured client, the redirect URI its registration must list, on stderr and in the
// sign-in's state (the sign-in tool): a server that does not know it shows its own error page and the browser
// never comes back.
func (s *SignIn) showRedirect(reg *credstore.Registration) {
	if !s.configuredClient() {
		return
	}
	fmt.Fprintf(s.stderr(), "meshai-mcp-server: signing in as client_id %s with the redirect URI %s: the client's registration at the authorization server must list it exactly\n",
		reg.ClientID, reg.RedirectURI)
	s.life.update(func(st *State) {
		if st.Phase == SigningIn {
			st.RedirectURI = reg.RedirectURI
		}
	})
}

// manualEndpoints reports whether the authorization server's endpoints were set by hand.
func (s *SignIn) manualEndpoints() bool { return s.AuthorizationURL != "" && s.TokenURL != "" }

// manualMetadata is the authorization server as set by hand: its endpoints, S256 assumed (the bridge always sends
// it), and the authorization endpoint's origin standing in for the issuer in the store's keys.
func (s *SignIn) manualMetadata() *oauth.ServerMetadata {
	issuer := s.AuthorizationURL
	if u, err := url.Parse(s.AuthorizationURL); err == nil {
		issuer = u.Scheme + "://" + u.Host
	}
	return &oauth.ServerMetadata{Issuer: issuer, AuthorizationEndpoint: s.AuthorizationURL, TokenEndpoint: s.TokenURL,
		RegistrationEndpoint: s.RegistrationURL, CodeChallengeMethodsSupported: []string{"S256"}}
}

// expectedIssuer is the iss the authorization response is checked against (RFC 9207): none for endpoints set by
// hand, whose issuer nobody named.
func (s *SignIn) expectedIssuer(meta *oauth.ServerMetadata) string {
	if s.manualEndpoints() {
		return ""
	}
	return meta.Issuer
}

// usable is the protected resource metadata discovery found, or nil when it failed.
func usable(prm *oauth.ProtectedResource, err error) *oauth.ProtectedResource {
	if err != nil {
		return nil
	}
	return prm
}
