package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrNoResourceMetadata means the MCP server publishes no protected resource metadata (RFC 9728) at any
// location the spec names. A server on the 2025-03-26 revision has none: use LegacyServerMetadata.
var ErrNoResourceMetadata = errors.New("the MCP server publishes no protected resource metadata")

// ProtectedResource is a validated RFC 9728 protected resource metadata document.
type ProtectedResource struct {
	// Resource is the resource identifier exactly as published: send it unchanged as the RFC 8707 resource
	// parameter (re-serializing it, e.g. adding a "/", breaks servers that match it exactly).
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
	ResourceDocumentation  string   `json:"resource_documentation"`
	MetadataURL            string   `json:"-"` // where the document was fetched
}

// DiscoverResource finds and validates the protected resource metadata of the MCP server at serverURL. It
// tries, in order: the challenge's resource_metadata URL, the path-aware well-known URL
// (/.well-known/oauth-protected-resource/<path>), then the root one; a location that answers 4xx is skipped.
// The document's resource must name the server (see resourceCovers) and list an authorization server. When no
// location has a document the error wraps ErrNoResourceMetadata.
func DiscoverResource(ctx context.Context, hc *http.Client, serverURL *url.URL, challenge *Challenge) (*ProtectedResource, error) {
	if CanonicalResource(serverURL) == "" {
		return nil, fmt.Errorf("MCP server URL %q is not an absolute URL", serverURL)
	}
	local := IsLocal(serverURL)
	var candidates []string
	if rm := challenge.ResourceMetadata(); rm != "" {
		u, err := ValidateEndpointURL(rm)
		if err != nil {
			return nil, fmt.Errorf("the MCP server's WWW-Authenticate names resource_metadata %q: %w; ask the server's operator", rm, err)
		}
		if err := CheckServerNamedURL("the MCP server's WWW-Authenticate challenge", "resource_metadata", u, local); err != nil {
			return nil, err
		}
		candidates = append(candidates, rm)
	}
	for _, c := range prmWellKnown(serverURL) {
		if !slices.Contains(candidates, c) {
			candidates = append(candidates, c)
		}
	}
	prm, found, err := firstMetadata(ctx, hc, candidates, local, func(c string, prm *ProtectedResource) error {
		prm.MetadataURL = c
		return prm.validate(serverURL, local)
	})
	if found || err != nil {
		return prm, err
	}
	return nil, fmt.Errorf("%w (tried %s)", ErrNoResourceMetadata, strings.Join(candidates, ", "))
}

// prmWellKnown lists the RFC 9728 §3.1 well-known URLs for the server, path-aware first, then root.
func prmWellKnown(server *url.URL) []string {
	origin := strings.ToLower(server.Scheme) + "://" + canonicalHost(strings.ToLower(server.Scheme), server)
	root := origin + "/.well-known/oauth-protected-resource"
	path := server.EscapedPath()
	if path == "" || path == "/" {
		return []string{root}
	}
	aware := root + path
	if server.RawQuery != "" {
		aware += "?" + server.RawQuery
	}
	return []string{aware, root}
}

func (p *ProtectedResource) validate(server *url.URL, local bool) error {
	if p.Resource == "" {
		return fmt.Errorf("the protected resource metadata at %s has no resource; ask the server's operator", p.MetadataURL)
	}
	if !resourceCovers(p.Resource, server) {
		return fmt.Errorf("the protected resource metadata at %s is for resource %q, not for the MCP server %q: refusing to sign in, since a token for it could be used elsewhere; check the server URL given to the bridge, or ask the server's operator",
			p.MetadataURL, p.Resource, CanonicalResource(server))
	}
	if len(p.AuthorizationServers) == 0 || p.AuthorizationServers[0] == "" {
		return fmt.Errorf("the protected resource metadata at %s lists no authorization_servers; ask the server's operator", p.MetadataURL)
	}
	if u, err := ValidateEndpointURL(p.AuthorizationServers[0]); err == nil { // an unusable one is DiscoverServer's to name
		return CheckServerNamedURL("the protected resource metadata at "+p.MetadataURL, "authorization_servers", u, local)
	}
	return nil
}
