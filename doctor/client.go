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
	ID         string
	Secret     string // never shown
	AuthMethod string // token_endpoint_auth_method; "": as the bridge picks it (auth.ClientAuthMethod)
	From       string // the flag that gave it, for the report
	// NoLoopback holds the client.json's redirect_uris when none is a loopback http URI the browser sign-in can
	// listen on: such a client signs in only with the device grant.
	NoLoopback []string
}

// Callback is the sign-in's loopback redirect as the bridge is told to set it (--host, --callback-port or a
// client.json's redirect URI, --callback-path).
type Callback struct {
	Host string // "": the bridge's default, 127.0.0.1
	Path string // "": the bridge's default
	Port int    // 0: the one the bridge's sign-in tries first for this server
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

// redirectURI is the redirect URI the bridge's sign-in sends: the first port it tries for this server unless one
// is set.
func (r *runner) redirectURI() string {
	cb := r.opts.Callback
	port := cb.Port
	if port == 0 {
		port = auth.SignInPorts(oauth.CanonicalResource(r.u), r.meta.Issuer)[0]
	}
	return auth.RedirectURI(cb.Host, port, cb.Path)
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
	who := fmt.Sprintf("pre-registered client_id %s (%s), token_endpoint_auth_method %s with %s", c.ID, c.From, method, secret)
	res := Result{ID: "oauth.client-id", Title: "Client registration", Status: OK,
		Detail: fmt.Sprintf("%s, redirect URI %s: the bridge registers no client, and the client's registration at the server must list this redirect URI exactly",
			who, r.redirectURI())}
	if len(c.NoLoopback) > 0 {
		res = r.deviceOnlyClient(who, c.NoLoopback)
	}
	if methods := r.meta.TokenEndpointAuthMethodsSupported; len(methods) > 0 && !slices.Contains(methods, method) {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; but the server lists token_endpoint_auth_methods_supported %s, not %s", strings.Join(methods, ", "), method)
		res.Fix = "set token_endpoint_auth_method in the client.json to the one the client is registered with (--static-oauth-client-info)"
	}
	return res
}

// deviceOnlyClient judges a configured client whose redirect URIs (uris) give the browser sign-in no loopback
// redirect: it can sign in with the device grant, when the server offers it and the bridge is told to use it.
func (r *runner) deviceOnlyClient(who string, uris []string) Result {
	res := Result{ID: "oauth.client-id", Title: "Client registration"}
	listed := strings.Join(uris, ", ")
	device := r.meta.DeviceAuthorizationEndpoint
	switch {
	case r.opts.DeviceCode && device != "":
		res.Status, res.Detail = OK, fmt.Sprintf("%s; it signs in with the device grant at %s (--device-code), so its redirect URIs (%s) are not used", who, device, listed)
	case r.opts.DeviceCode:
		res.Status, res.Detail = Fail, fmt.Sprintf("%s; --device-code is set, but the server offers no device_authorization_endpoint, and none of the client's redirect URIs (%s) is a loopback http URI the browser sign-in can listen on", who, listed)
		res.Fix = fmt.Sprintf("register the redirect URI %s for this client at the server and add it to the client.json's redirect_uris, then drop --device-code", r.redirectURI())
	case device != "":
		res.Status, res.Detail = Fail, fmt.Sprintf("%s; none of its redirect URIs (%s) is a loopback http URI the browser sign-in can listen on", who, listed)
		res.Fix = "run the bridge with --device-code: the server offers the device grant (" + device + "), which needs no redirect URI"
	default:
		res.Status, res.Detail = Fail, fmt.Sprintf("%s; none of its redirect URIs (%s) is a loopback http URI the browser sign-in can listen on, and the server offers no device grant", who, listed)
		res.Fix = fmt.Sprintf("register the redirect URI %s for this client at the server and add it to the client.json's redirect_uris", r.redirectURI())
	}
	return res
}
