package auth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// configuredClient reports whether the sign-in uses a client registered beforehand (ClientID), whose registration
// must list the exact redirect URI the bridge sends.
func (s *SignIn) configuredClient() bool { return s.ClientID != "" }

// clientAuthMethod is how the configured client authenticates at the token endpoint (ClientAuthMethod).
func (s *SignIn) clientAuthMethod(meta *oauth.ServerMetadata) string {
	return ClientAuthMethod(s.ClientAuthMethod, s.ClientSecret, meta)
}

// ClientAuthMethod is how a configured client authenticates at the token endpoint (also for refresh and
// revocation, which read it from the stored registration): method when given (a client.json's
// token_endpoint_auth_method); else none without a secret, client_secret_basic with one, or client_secret_post
// where the server lists only that.
func ClientAuthMethod(method, secret string, meta *oauth.ServerMetadata) string {
	switch {
	case method != "":
		return method
	case secret == "":
		return oauth.AuthNone
	case !slices.Contains(meta.TokenEndpointAuthMethodsSupported, oauth.AuthBasic) && slices.Contains(meta.TokenEndpointAuthMethodsSupported, oauth.AuthPost):
		return oauth.AuthPost
	}
	return oauth.AuthBasic
}

// RedirectURI is the loopback redirect URI of a sign-in on host (default 127.0.0.1), port and path (default
// CallbackPath): what a configured client's registration must list exactly.
func RedirectURI(host string, port int, path string) string {
	if host = strings.Trim(host, "[]"); host == "" {
		host = "127.0.0.1"
	}
	if path == "" {
		path = CallbackPath
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
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

// manualMetadata is the authorization server as set by hand (ManualMetadata).
func (s *SignIn) manualMetadata() *oauth.ServerMetadata {
	return ManualMetadata(s.AuthorizationURL, s.TokenURL, s.RegistrationURL)
}

// ManualMetadata is an authorization server whose endpoints are set by hand: those endpoints, S256 assumed (the
// bridge always sends it), and the authorization endpoint's origin standing in for the issuer in the store's keys.
func ManualMetadata(authorizationURL, tokenURL, registrationURL string) *oauth.ServerMetadata {
	issuer := authorizationURL
	if u, err := url.Parse(authorizationURL); err == nil {
		issuer = u.Scheme + "://" + u.Host
	}
	return &oauth.ServerMetadata{Issuer: issuer, AuthorizationEndpoint: authorizationURL, TokenEndpoint: tokenURL,
		RegistrationEndpoint: registrationURL, CodeChallengeMethodsSupported: []string{"S256"}}
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
