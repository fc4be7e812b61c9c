package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// ClientMetadata is what the bridge registers (RFC 7591): a native public client using PKCE with refresh
// tokens, as the MCP authorization spec asks.
type ClientMetadata struct {
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"` // none for a device-flow client (RFC 7591 §2)
	ApplicationType         string   `json:"application_type"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

// NativeClient returns the metadata the bridge registers with for redirectURI.
func NativeClient(redirectURI, scope, version string) ClientMetadata {
	return ClientMetadata{
		ClientName:              "meshai-mcp-server",
		RedirectURIs:            []string{redirectURI},
		ApplicationType:         "native",
		TokenEndpointAuthMethod: AuthNone,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scope:                   scope,
		SoftwareID:              "meshai-mcp-server",
		SoftwareVersion:         version,
	}
}

// DeviceClient returns the metadata the bridge registers with for the device authorization grant (RFC 8628):
// a native public client with no redirect URIs, since RFC 7591 §2 asks them only of redirect-based flows, and
// no response types, since it never uses the authorization endpoint.
func DeviceClient(scope, version string) ClientMetadata {
	return ClientMetadata{
		ClientName:              "meshai-mcp-server",
		ApplicationType:         "native",
		TokenEndpointAuthMethod: AuthNone,
		GrantTypes:              []string{DeviceGrantType, "refresh_token"},
		ResponseTypes:           []string{},
		Scope:                   scope,
		SoftwareID:              "meshai-mcp-server",
		SoftwareVersion:         version,
	}
}

// DynamicClient is what a registration returned.
type DynamicClient struct {
	ClientID     string
	ClientSecret string
	AuthMethod   string
	RedirectURIs []string
	ExpiresAt    time.Time // zero: the secret does not expire
}

// RegistrationError is a dynamic client registration (RFC 7591) the authorization server refused: with its
// OAuth error when the answer held one, else with the HTTP status alone.
type RegistrationError struct {
	Endpoint        string
	Status          int
	Code            string // the server's error code (RFC 7591 §3.2.2); "" when it sent none
	Description     string // its error_description
	RedirectRefused bool   // the code was invalid_redirect_uri: the server may accept other redirect URIs
}

func (e *RegistrationError) Error() string {
	if e.Code != "" {
		return "the authorization server refused to register the bridge: " + ErrorText(e.Code, e.Description)
	}
	return fmt.Sprintf("registration at %s answered HTTP %d with no OAuth error: the server may not support dynamic registration", e.Endpoint, e.Status)
}

// RegisterClient performs dynamic client registration at endpoint. A refusal is a *RegistrationError with the
// server's own error.
func RegisterClient(ctx context.Context, hc *http.Client, endpoint string, md ClientMetadata) (*DynamicClient, error) {
	body, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("registration request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("registration request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := orDefault(hc).Do(req)
	if rerr := rateLimited("registration endpoint", err); rerr != nil {
		return nil, rerr
	}
	if err != nil {
		return nil, fmt.Errorf("register at %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("register at %s: %w", endpoint, err)
	}
	var r struct {
		ClientID                string   `json:"client_id"`
		ClientSecret            string   `json:"client_secret"`
		ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		RedirectURIs            []string `json:"redirect_uris"`
		Error                   string   `json:"error"`
		ErrorDescription        string   `json:"error_description"`
	}
	jerr := json.Unmarshal(raw, &r)
	if resp.StatusCode == http.StatusTooManyRequests { // not a refusal: the same registration may succeed later
		return nil, tooManyRequests("registration endpoint", endpoint, resp.Header)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		re := &RegistrationError{Endpoint: endpoint, Status: resp.StatusCode}
		if jerr == nil && r.Error != "" {
			re.Code, re.Description = r.Error, r.ErrorDescription
			re.RedirectRefused = r.Error == "invalid_redirect_uri"
		}
		return nil, re
	}
	if jerr != nil || r.ClientID == "" {
		return nil, fmt.Errorf("registration at %s answered without a client_id", endpoint)
	}
	secrets.Add(r.ClientSecret)
	dc := &DynamicClient{ClientID: r.ClientID, ClientSecret: r.ClientSecret, AuthMethod: r.TokenEndpointAuthMethod, RedirectURIs: r.RedirectURIs}
	if dc.AuthMethod == "" {
		dc.AuthMethod = md.TokenEndpointAuthMethod
		if dc.ClientSecret != "" && dc.AuthMethod == AuthNone {
			dc.AuthMethod = AuthBasic // RFC 7591 §2: the default when a secret is issued
		}
	}
	if r.ClientSecretExpiresAt > 0 {
		dc.ExpiresAt = time.Unix(r.ClientSecretExpiresAt, 0)
	}
	if len(dc.RedirectURIs) > 0 && len(md.RedirectURIs) > 0 && !slices.Contains(dc.RedirectURIs, md.RedirectURIs[0]) {
		return nil, fmt.Errorf("the authorization server registered other redirect URIs (%s) than asked", strings.Join(dc.RedirectURIs, ", "))
	}
	return dc, nil
}
