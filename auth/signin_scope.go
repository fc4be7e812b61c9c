package auth

import (
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// chooseScopes is the scopes of a first sign-in, by the rule login, serving and doctor share (oauth.ScopeRule),
// logged with where they came from.
func (s *SignIn) chooseScopes(ch *oauth.Challenge, prm *oauth.ProtectedResource) []string {
	challengeScope := ""
	if ch != nil {
		challengeScope = ch.Scope()
	}
	scopes, from := s.Scopes.Choose(challengeScope, prm)
	s.logf("scopes chosen", "scopes", strings.Join(scopes, " "), "from", string(from))
	return scopes
}
