package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// Client is a client registered at the authorization server beforehand (--static-oauth-client-info, --client-id):
// the bridge signs in as it and registers none.
type Client struct {
	ID           string
	Secret       string // never shown
	AuthMethod   string // token_endpoint_auth_method; "": as the bridge picks it (auth.ClientAuthMethod)
	From         string // the flag that gave it, for the report
	CallbackHost string // the sign-in's redirect host; "": the bridge's default
	CallbackPath string // the sign-in's redirect path; "": the bridge's default
	CallbackPort int    // the sign-in's redirect port; 0: the one the bridge's sign-in tries first for this server
}

// Endpoints are the authorization server's endpoints set by hand (--authorization-url, --token-url and
// --registration-url) for a server that publishes no metadata.
type Endpoints struct {
	Authorization, Token, Registration string
}

// manualMeta is the authorization server as the bridge sees endpoints set by hand (auth.ManualMetadata).
func (e *Endpoints) manualMeta() *oauth.ServerMetadata {
	return auth.ManualMetadata(e.Authorization, e.Token, e.Registration)
}

// describe names the endpoints and the flag of each.
func (e *Endpoints) describe() string {
	s := fmt.Sprintf("authorization endpoint %s (--authorization-url), token endpoint %s (--token-url)", e.Authorization, e.Token)
	if e.Registration != "" {
		return s + ", registration endpoint " + e.Registration + " (--registration-url)"
	}
	return s + ", no registration endpoint"
}

// authMethod is how the configured client authenticates at the token endpoint, as the bridge decides it.
func (r *runner) authMethod() string {
	meta := r.meta
	if meta == nil {
		meta = &oauth.ServerMetadata{}
	}
	return auth.ClientAuthMethod(r.opts.Client.AuthMethod, r.opts.Client.Secret, meta)
}

// redirectURI is the redirect URI the bridge's sign-in sends for the configured client.
func (r *runner) redirectURI() string {
	c := r.opts.Client
	port := c.CallbackPort
	if port == 0 {
		port = auth.SignInPorts(oauth.CanonicalResource(r.u), r.meta.Issuer)[0]
	}
	return auth.RedirectURI(c.CallbackHost, port, c.CallbackPath)
}

// configuredClientCheck is the "Client registration" result for a configured client: who it is and what its
// registration at the server must hold; a warning when the server lists auth methods without its own.
func (r *runner) configuredClientCheck() Result {
	c := r.opts.Client
	method := r.authMethod()
	secret := "no client secret"
	if c.Secret != "" {
		secret = "a client secret (not shown)"
	}
	res := Result{ID: "oauth.client-id", Title: "Client registration", Status: OK,
		Detail: fmt.Sprintf("pre-registered client_id %s (%s), token_endpoint_auth_method %s with %s, redirect URI %s: the bridge registers no client, and the client's registration at the server must list this redirect URI exactly",
			c.ID, c.From, method, secret, r.redirectURI())}
	if methods := r.meta.TokenEndpointAuthMethodsSupported; len(methods) > 0 && !slices.Contains(methods, method) {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; but the server lists token_endpoint_auth_methods_supported %s, not %s", strings.Join(methods, ", "), method)
		res.Fix = "set token_endpoint_auth_method in the client.json to the one the client is registered with (--static-oauth-client-info)"
	}
	return res
}
