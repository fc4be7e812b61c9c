package oauth

import "strings"

// ScopeRule is how the scopes of a first authorization are chosen; login, serving and doctor all ask it, so they
// ask a server for the same scopes. Without Fixed or Preferred it is the MCP authorization spec's "Scope
// Selection Strategy": the 401 challenge's scope, else every scope the protected resource metadata lists in
// scopes_supported, else none (the scope parameter is omitted).
type ScopeRule struct {
	// Fixed, when set, replaces the choice: the user named the scopes (--scope). A 403 insufficient_scope still
	// adds what it asks for (a step-up, not a first authorization).
	Fixed []string
	// Preferred, when set, stands in for scopes_supported: the scopes a server's own documentation names for its
	// users (MeshAI's endpoint: mcp:read mcp:execute), where its metadata also lists admin or OpenID scopes.
	// The challenge's scope still wins.
	Preferred []string
}

// ScopeSource says where a choice of scopes came from.
type ScopeSource string

// The sources of a choice, in the rule's order.
const (
	ScopeFromFlag      ScopeSource = "--scope"
	ScopeFromChallenge ScopeSource = "the server's 401 challenge"
	ScopeFromPreferred ScopeSource = "the scopes documented for this server"
	ScopeFromMetadata  ScopeSource = "scopes_supported of the protected resource metadata"
	ScopeFromNothing   ScopeSource = "nothing names scopes: the scope parameter is omitted"
)

// Choose returns the scopes to ask for, given the challenge's scope parameter ("" when there was no challenge or
// it named none) and the protected resource metadata (nil when there is none), and where they came from. Nil
// scopes mean: omit the scope parameter.
func (r ScopeRule) Choose(challengeScope string, prm *ProtectedResource) ([]string, ScopeSource) {
	if s := UnionScopes(nil, r.Fixed); len(s) > 0 {
		return s, ScopeFromFlag
	}
	if s := strings.Fields(challengeScope); len(s) > 0 {
		return UnionScopes(nil, s), ScopeFromChallenge
	}
	if s := UnionScopes(nil, r.Preferred); len(s) > 0 {
		return s, ScopeFromPreferred
	}
	if prm != nil && len(prm.ScopesSupported) > 0 {
		return UnionScopes(nil, prm.ScopesSupported), ScopeFromMetadata
	}
	return nil, ScopeFromNothing
}
