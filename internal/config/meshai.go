package config

import "strings"

// MeshAIDomain is the domain of MeshAI's own servers: DefaultURL's host, auth.meshai.dev, is in it. A server
// counts as MeshAI's own when its URL's host is this domain or a name under it (IsMeshAI).
const MeshAIDomain = "meshai.dev"

// MeshAIScopes are the scopes MeshAI's guide names for its endpoint; mcp:manage is for admins, and is asked for
// only when the server's challenge names it (a step-up) or the user passes --scope.
var MeshAIScopes = []string{"mcp:read", "mcp:execute"}

// IsMeshAI reports whether host, a URL's host name without a port, is MeshAI's own: meshai.dev or a name under it.
func IsMeshAI(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == MeshAIDomain || strings.HasSuffix(host, "."+MeshAIDomain)
}

// PreferredScopes returns the scopes documented for the server on host: MeshAIScopes on MeshAI's own, none
// (the MCP spec's choice applies) elsewhere.
func PreferredScopes(host string) []string {
	if IsMeshAI(host) {
		return MeshAIScopes
	}
	return nil
}
