package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// legacyProtocolVersion is sent on the 2025-03-26 metadata request, which that revision says clients SHOULD do.
const legacyProtocolVersion = "2025-03-26"

// LegacyServerMetadata discovers the authorization server of an MCP server on the 2025-03-26 revision (no
// protected resource metadata): the RFC 8414 document at the server's origin
// (/.well-known/oauth-authorization-server, the path of the MCP URL discarded), and when that answers 404, the
// default endpoints /authorize, /token and /register at the origin (Defaulted is then true). When /authorize
// answers 404 as well, the server has no OAuth at all: the error is a *NoOAuthError.
func LegacyServerMetadata(ctx context.Context, hc *http.Client, serverURL *url.URL) (*ServerMetadata, error) {
	if CanonicalResource(serverURL) == "" {
		return nil, fmt.Errorf("MCP server URL %q is not an absolute URL", serverURL)
	}
	origin := strings.ToLower(serverURL.Scheme) + "://" + canonicalHost(strings.ToLower(serverURL.Scheme), serverURL)
	if _, err := ValidateEndpointURL(origin); err != nil {
		return nil, fmt.Errorf("MCP server %s: %w", origin, err)
	}
	where := origin + "/.well-known/oauth-authorization-server"
	var md ServerMetadata
	st, code, err := fetchMetadata(ctx, hc, where, http.Header{"Mcp-Protocol-Version": {legacyProtocolVersion}}, &md, IsLocal(serverURL))
	if err != nil {
		return nil, err
	}
	if st == metadataAbsent {
		if code != http.StatusNotFound {
			return nil, fmt.Errorf("the authorization server metadata at %s answered HTTP %d; ask the server's operator", where, code)
		}
		authorize := origin + "/authorize"
		absent, err := defaultAuthorizeAbsent(ctx, hc, authorize)
		if err != nil {
			return nil, err
		}
		if absent {
			return nil, &NoOAuthError{Server: origin, Tried: []string{where, authorize}}
		}
		return &ServerMetadata{
			Issuer:                origin,
			AuthorizationEndpoint: origin + "/authorize",
			TokenEndpoint:         origin + "/token",
			RegistrationEndpoint:  origin + "/register",
			Defaulted:             true,
		}, nil
	}
	md.MetadataURL = where
	if md.Issuer == "" {
		return nil, fmt.Errorf("the authorization server metadata at %s has no issuer; ask the server's operator", where)
	}
	if err := md.validateEndpoints(IsLocal(serverURL)); err != nil {
		return nil, err
	}
	return &md, nil
}
