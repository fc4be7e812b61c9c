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

// ErrNoServerMetadata means no RFC 8414 or OpenID Connect discovery document exists for an issuer.
var ErrNoServerMetadata = errors.New("the authorization server publishes no metadata")

// ServerMetadata is a validated authorization server metadata document (RFC 8414, or OpenID Connect
// Discovery). Unknown fields are ignored.
type ServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"` // RFC 8628 §4
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`

	MetadataURL string `json:"-"` // where the document was fetched; "" for LegacyServerMetadata's defaults
	Defaulted   bool   `json:"-"` // true: no document, the 2025-03-26 default endpoints were assumed
}

// DiscoverServer fetches and validates the metadata of the authorization server issuer, trying the locations
// of the MCP spec in order. For an issuer with a path (https://as.example/tenant1): RFC 8414 path insertion
// (/.well-known/oauth-authorization-server/tenant1), OIDC path insertion (/.well-known/openid-configuration/tenant1),
// OIDC path appending (/tenant1/.well-known/openid-configuration); the root documents are never requested, they
// describe another issuer. Without a path: /.well-known/oauth-authorization-server, /.well-known/openid-configuration.
// A location that answers 4xx is skipped; when all are, the error wraps ErrNoServerMetadata. localServer says
// whether the MCP server is local (IsLocal): the issuer and every endpoint are server-named URLs
// (CheckServerNamedURL).
func DiscoverServer(ctx context.Context, hc *http.Client, issuer string, localServer bool) (*ServerMetadata, error) {
	iu, err := ValidateEndpointURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("authorization server issuer %q: %w; ask the MCP server's operator", issuer, err)
	}
	if err := CheckServerNamedURL("the protected resource metadata", "authorization_servers", iu, localServer); err != nil {
		return nil, err
	}
	if iu.RawQuery != "" || iu.ForceQuery {
		return nil, fmt.Errorf("authorization server issuer %q has a query, which an issuer must not have (RFC 8414 §2); ask the MCP server's operator", issuer)
	}
	tried := serverWellKnown(iu)
	md, found, err := firstMetadata(ctx, hc, tried, localServer, func(c string, md *ServerMetadata) error {
		md.MetadataURL = c
		if md.Issuer != issuer {
			return fmt.Errorf("the metadata at %s is for issuer %q, not %q: refusing to use it (RFC 8414 §3.3); ask the server's operator", c, md.Issuer, issuer)
		}
		return md.validateEndpoints(localServer)
	})
	if found || err != nil {
		return md, err
	}
	return nil, fmt.Errorf("%w for issuer %s (tried %s); ask the server's operator", ErrNoServerMetadata, issuer, strings.Join(tried, ", "))
}

// serverWellKnown lists the discovery URLs for an issuer in the MCP spec's order.
func serverWellKnown(iu *url.URL) []string {
	origin := strings.ToLower(iu.Scheme) + "://" + iu.Host
	path := strings.TrimSuffix(iu.EscapedPath(), "/") // RFC 8414 §3.1: a terminating "/" is removed
	if path == "" {
		return []string{origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"}
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}
}

// validateEndpoints checks the endpoints the bridge uses (authorization and token are required; registration,
// revocation, device authorization and userinfo when present) with ValidateEndpointURL and, as URLs the server
// named, CheckServerNamedURL. The others are never fetched or opened.
func (m *ServerMetadata) validateEndpoints(localServer bool) error {
	for _, e := range []struct {
		name, value string
		required    bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint, true},
		{"token_endpoint", m.TokenEndpoint, true},
		{"registration_endpoint", m.RegistrationEndpoint, false},
		{"revocation_endpoint", m.RevocationEndpoint, false},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint, false},
		{"userinfo_endpoint", m.UserinfoEndpoint, false},
	} {
		if e.value == "" && !e.required {
			continue
		}
		if e.value == "" {
			return fmt.Errorf("the authorization server metadata at %s has no %s; ask the server's operator", m.source(), e.name)
		}
		u, err := ValidateEndpointURL(e.value)
		if err != nil {
			return fmt.Errorf("the authorization server metadata at %s has an unusable %s: %w; ask the server's operator", m.source(), e.name, err)
		}
		if err := CheckServerNamedURL("the authorization server metadata at "+m.source(), e.name, u, localServer); err != nil {
			return err
		}
	}
	return nil
}

func (m *ServerMetadata) source() string {
	if m.MetadataURL != "" {
		return m.MetadataURL
	}
	return m.Issuer
}

// RequirePKCE refuses an authorization server that does not advertise PKCE with S256: the MCP spec says a
// client MUST refuse to proceed when code_challenge_methods_supported is absent. LegacyServerMetadata's
// defaults (no document at all) pass: 2025-03-26 requires PKCE of every server and gives nothing to check.
func (m *ServerMetadata) RequirePKCE() error {
	if m.Defaulted {
		return nil
	}
	if len(m.CodeChallengeMethodsSupported) == 0 {
		return fmt.Errorf("the authorization server %s does not advertise PKCE (code_challenge_methods_supported): MCP clients must refuse it; ask the server's operator", m.Issuer)
	}
	if !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		return fmt.Errorf("the authorization server %s supports PKCE only with %s, not S256: MCP clients must refuse it; ask the server's operator",
			m.Issuer, strings.Join(m.CodeChallengeMethodsSupported, ", "))
	}
	return nil
}
