package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// hostClient is a desktop or web MCP client whose registration doctor can try (--check-clients).
type hostClient struct {
	id, name, appType string
	redirects         []string
}

// hostClients are the redirect URIs Claude, ChatGPT and Cursor register (shared/notes/auth-client-checklist.md §4).
var hostClients = []hostClient{
	{"claude", "Claude", "web", []string{"https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"}},
	{"chatgpt", "ChatGPT", "web", []string{"https://chatgpt.com/connector_platform_oauth_redirect"}},
	{"cursor", "Cursor", "native", []string{"cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback"}},
}

// checkRegistration registers a client with the bridge's loopback redirect URI (--register-probe) and, with
// --check-clients, with each host client's redirect URIs. It creates clients at the server, hence opt-in.
func (r *runner) checkRegistration(ctx context.Context) {
	const id, title = "oauth.register", "Dynamic registration probe"
	switch {
	case r.oauthSkip() != "":
		r.skip(id, title, r.oauthSkip())
		return
	case r.opts.Client != nil:
		r.skip(id, title, "a pre-registered client is configured (client_id "+r.opts.Client.ID+", "+r.opts.Client.From+"): the bridge registers none, so there is nothing to probe")
		return
	case r.meta == nil:
		r.skip(id, title, "no usable authorization server metadata")
		return
	case r.usesMetadataDocument():
		r.skip(id, title, "the bridge uses the client ID metadata document "+r.opts.ClientMetadataURL+" (--client-metadata-url) as its client_id and registers none")
		return
	case !r.opts.RegisterProbe:
		r.skip(id, title, "not run, since it registers a client at the server: run `meshai-mcp-server doctor --register-probe` (add --check-clients for Claude's, ChatGPT's and Cursor's redirect URIs)")
		return
	case r.meta.RegistrationEndpoint == "":
		r.skip(id, title, "the server offers no registration_endpoint (see Client registration above)")
		return
	}
	redirect := r.redirectURI() // as the bridge's sign-in registers it: the first port it tries, or the one set
	r.timed(func() Result {
		md := oauth.NativeClient(redirect, strings.Join(r.scopes, " "), r.version())
		md.ClientName = "meshai-mcp-server doctor probe"
		return r.register(ctx, id, title, "the bridge", md)
	})
	if !r.opts.CheckClients {
		return
	}
	for _, c := range hostClients {
		r.timed(func() Result {
			md := oauth.ClientMetadata{
				ClientName:              "meshai-mcp-server doctor probe (" + c.name + "'s redirect URIs)",
				RedirectURIs:            c.redirects,
				ApplicationType:         c.appType,
				TokenEndpointAuthMethod: oauth.AuthNone,
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ResponseTypes:           []string{"code"},
			}
			return r.register(ctx, id+"."+c.id, "Registration as "+c.name, c.name, md)
		})
	}
}

// register tries one registration and judges it.
func (r *runner) register(ctx context.Context, id, title, who string, md oauth.ClientMetadata) Result {
	res := Result{ID: id, Title: title}
	sctx, cancel := r.step(ctx)
	defer cancel()
	uris := strings.Join(md.RedirectURIs, ", ")
	dc, err := oauth.RegisterClient(sctx, r.namedClient(), r.meta.RegistrationEndpoint, md)
	if err != nil && oauth.IsRateLimited(err) {
		res.Status, res.Detail = Fail, fmt.Sprintf("could not try to register %s's redirect URIs: %s", who, textutil.OneLine(err.Error()))
		res.Fix = rateLimitFix(limitedUntil(err))
		return res
	}
	if err != nil {
		res.Status, res.Detail = Fail, fmt.Sprintf("the server refused to register %s's redirect URIs (%s): %s", who, uris, serverReason(err))
		switch {
		case strings.Contains(err.Error(), "invalid_redirect_uri") && who == "the bridge":
			res.Fix = "the server refuses the bridge's loopback redirect URI: its operator must allow http://127.0.0.1 with any port (RFC 8252 §7.3); until then use --client-id of a client registered there"
		case strings.Contains(err.Error(), "invalid_redirect_uri"):
			res.Fix = fmt.Sprintf("the server's operator must allow %s's redirect URIs (%s) in dynamic registration: one refused URI fails the whole registration", who, uris)
		default:
			res.Fix = "the server's operator must fix dynamic registration (RFC 7591); meanwhile use --client-id of a client registered there"
		}
		return res
	}
	res.Status = OK
	res.Detail = fmt.Sprintf("registered %s's redirect URIs (%s), token_endpoint_auth_method %s", who, uris, dc.AuthMethod)
	if dc.ClientSecret != "" && md.TokenEndpointAuthMethod == oauth.AuthNone {
		res.Status = Warn
		res.Detail += ", but the server issued a client secret although none was asked for"
		res.Fix = "the server's operator should honour token_endpoint_auth_method \"none\" for public clients"
	}
	res.Detail += "; the server now holds one unused client"
	return res
}

// serverReason is the authorization server's own words from a failed registration, without the bridge's advice.
func serverReason(err error) string {
	text := textutil.OneLine(err.Error())
	if _, after, ok := strings.Cut(text, "refused to register the bridge: "); ok {
		text = after
	}
	if before, _, ok := strings.Cut(text, "; it may only accept"); ok {
		text = before
	}
	return text
}
