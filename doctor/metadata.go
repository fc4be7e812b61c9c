package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// apiKeyFix is the fix for a server that offers no OAuth sign-in and gets no API key.
const apiKeyFix = "set " + config.EnvAPIKey + " to the server's API key where your MCP client starts the bridge, then restart the client"

// oauthSkip is why the OAuth checks do not apply, or "".
func (r *runner) oauthSkip() string {
	switch {
	case r.endpoint.open:
		return "the server needs no sign-in"
	case !r.endpoint.needAuth:
		return "the MCP endpoint did not answer 401 (see above)"
	}
	return ""
}

// checkChallenge reads the 401's WWW-Authenticate: a Bearer challenge with resource_metadata and scope.
func (r *runner) checkChallenge(context.Context) {
	const id, title = "mcp.challenge", "WWW-Authenticate challenge"
	if why := r.oauthSkip(); why != "" {
		r.skip(id, title, why)
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		values := r.endpoint.ex.header.Values("WWW-Authenticate")
		if len(values) == 0 {
			// The bridge, and clients of the 2025-06-18 spec and later, then try the well-known URIs: oauth.prm
			// below fails if those do not answer either.
			res.Status, res.Detail = Warn, "the 401 has no WWW-Authenticate header: the bridge finds the OAuth metadata at the well-known URIs instead (see below), but clients that rely on the challenge cannot tell how to sign in"
			res.Fix = "the server must send WWW-Authenticate: Bearer resource_metadata=\"<its protected resource metadata URL>\" with every 401 (RFC 9110 §11.6.1, RFC 9728 §5.1)"
			return res
		}
		cs := oauth.ParseWWWAuthenticate(values)
		b := oauth.FindBearer(cs)
		if b == nil {
			var schemes []string
			for _, c := range cs {
				schemes = append(schemes, c.Scheme)
			}
			res.Status, res.Detail = Fail, "the challenge names no Bearer scheme (only "+strings.Join(schemes, ", ")+"): not an OAuth-protected MCP server"
			res.Fix = "if the server takes a key or password, pass it with --header \"Authorization: …\" or " + config.EnvAPIKey + "; otherwise its operator must challenge with Bearer"
			if r.opts.Getenv(config.EnvAPIKey) != "" { // it is set: saying "set it" would not help
				res.Fix = "the bridge sends " + config.EnvAPIKey + " as a Bearer token, which this server does not ask for: pass the credential it wants with --header \"Authorization: …\" instead"
			}
			return res
		}
		r.challenge = b
		scope := "no scope (clients then ask for the metadata's scopes_supported)"
		if s := b.Scope(); s != "" {
			scope = fmt.Sprintf("scope=%q", s)
		}
		rm := b.ResourceMetadata()
		if rm == "" {
			res.Status, res.Detail = Warn, "Bearer challenge without resource_metadata, "+scope+": clients fall back to the well-known URIs"
			res.Fix = "add resource_metadata=\"<protected resource metadata URL>\" to the challenge (RFC 9728 §5.1), as Claude and ChatGPT expect"
			return res
		}
		if _, err := oauth.ValidateEndpointURL(rm); err != nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("resource_metadata %q is not usable: %v", textutil.RedactRawURL(rm), err)
			res.Fix = "the server's operator must name an https (or loopback http) URL in resource_metadata"
			return res
		}
		res.Status, res.Detail = OK, "Bearer resource_metadata="+textutil.RedactRawURL(rm)+", "+scope
		return res
	})
}

// checkResourceMetadata finds the protected resource metadata in the spec's order, as the bridge does.
func (r *runner) checkResourceMetadata(ctx context.Context) {
	const id, title = "oauth.prm", "Protected resource metadata (RFC 9728)"
	if why := r.oauthSkip(); why != "" {
		r.skip(id, title, why)
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		prm, err := oauth.DiscoverResource(sctx, r.namedClient(), r.u, r.challenge)
		if err == nil {
			r.prm = prm
			res.Status = OK
			res.Detail = fmt.Sprintf("found at %s (%s): resource %s, authorization server %s",
				prm.MetadataURL, r.prmSource(prm.MetadataURL), prm.Resource, strings.Join(prm.AuthorizationServers, ", "))
			if len(prm.ScopesSupported) > 0 {
				res.Detail += ", scopes " + strings.Join(prm.ScopesSupported, " ")
			}
			return res
		}
		if r.opts.Endpoints != nil {
			res.Status = Skip
			res.Detail = "not found (" + textutil.OneLine(err.Error()) + "), and not needed: the authorization server's endpoints are set by hand (--authorization-url, --token-url)"
			return res
		}
		res.Status, res.Detail = Fail, textutil.OneLine(err.Error())
		var ce *oauth.ChallengeError
		switch {
		case errors.As(err, &ce):
			res.Fix = challengeFix(ce)
		case oauth.IsRateLimited(err):
			res.Fix = rateLimitFix(limitedUntil(err))
		case errors.Is(err, oauth.ErrNoResourceMetadata):
			md, lerr := oauth.LegacyServerMetadata(sctx, r.namedClient(), r.u)
			if lerr == nil && !md.Defaulted {
				r.meta = md
				res.Status = Warn
				res.Detail += "; the 2025-03-26 fallback finds authorization server metadata at " + md.MetadataURL
			}
			res.Fix = "the server's operator must publish RFC 9728 metadata at " + strings.Join(wellKnownPRM(r.u), " or ") +
				" (Claude, ChatGPT and Cursor need it)"
			if r.endpoint.loginPage && res.Status == Fail {
				res.Detail += "; and the MCP endpoint answered with a login page (see above): a login page or single sign-on proxy is in front of it"
				res.Fix = "MCP clients cannot sign in through a web page: the server's operator must exempt the MCP path from the login proxy and answer 401 with WWW-Authenticate: Bearer resource_metadata=\"…\""
				return res
			}
			if errors.Is(lerr, oauth.ErrNoOAuth) { // `login` cannot help: the server takes a key, or nothing
				r.noOAuth = true
				r.revise("mcp.challenge", func(c *Result) { // a key's Bearer challenge has no metadata to name
					if c.Status == Warn && r.challenge != nil && r.challenge.ResourceMetadata() == "" {
						c.Status, c.Fix = OK, ""
						c.Detail = "Bearer challenge without resource_metadata, as a server that takes API keys and offers no OAuth sign-in sends it (see below)"
					}
				})
				res.Detail += "; " + textutil.OneLine(lerr.Error())
				if r.opts.Getenv(config.EnvAPIKey) != "" {
					res.Status, res.Fix = OK, ""
					res.Detail += ": nothing to sign in to, and none needed, since " + config.EnvAPIKey + " is set (the session check below tries it)"
					return res
				}
				res.Fix = "the server shows no OAuth at all: if it takes an API key, set " + config.EnvAPIKey +
					" (or pass --header \"Authorization: Bearer …\"); if it should offer a sign-in, " + res.Fix
			}
		case strings.Contains(err.Error(), "HTML page"):
			res.Fix = "the metadata URL is answered by a web page (an app's catch-all route, a login wall or bot protection): the server's operator must serve the JSON document there"
		case strings.Contains(err.Error(), "is for resource"):
			res.Fix = "the metadata's resource must name this MCP endpoint: check the URL, or the server's operator must fix the resource value"
		default:
			res.Fix = "the server's operator must fix the protected resource metadata (RFC 9728)"
		}
		return res
	})
}

// challengeFix is the fix for a metadata URL behind a bot-protection challenge.
func challengeFix(ce *oauth.ChallengeError) string {
	return "ask the server's operator to let API clients reach " + textutil.RedactRawURL(ce.URL) + ": a " + ce.Vendor +
		" WAF skip rule for the OAuth metadata paths (/.well-known/…), or the challenge off for them"
}

// prmSource says which discovery step found the metadata.
func (r *runner) prmSource(where string) string {
	if r.challenge != nil && where == r.challenge.ResourceMetadata() {
		return "named by WWW-Authenticate"
	}
	wk := wellKnownPRM(r.u)
	if len(wk) == 2 && where == wk[0] {
		return "path-aware well-known URI"
	}
	return "root well-known URI"
}

// wellKnownPRM are the well-known PRM URLs of u, path-aware first.
func wellKnownPRM(u *url.URL) []string {
	root := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"
	if p := u.EscapedPath(); p != "" && p != "/" {
		return []string{root + p, root}
	}
	return []string{root}
}

// checkServerMetadata finds the authorization server metadata and checks what MCP clients rely on in it.
func (r *runner) checkServerMetadata(ctx context.Context) {
	const id, title = "oauth.as", "Authorization server metadata"
	if why := r.oauthSkip(); why != "" {
		r.skip(id, title, why)
		return
	}
	if e := r.opts.Endpoints; e != nil {
		r.meta = e.manualMeta()
		r.add(Result{ID: id, Title: title, Status: OK, Detail: "not discovered: set by hand, " + e.describe()})
		for _, c := range r.metadataChecks() {
			r.add(c)
		}
		return
	}
	if r.prm == nil && r.meta == nil {
		r.skip(id, title, "no protected resource metadata names an authorization server")
		return
	}
	var failed bool
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		if r.meta != nil { // found by the 2025-03-26 fallback
			res.Status, res.Detail = OK, "found at "+r.meta.MetadataURL+" (2025-03-26 fallback at the MCP server's origin)"
			return res
		}
		issuer := r.prm.AuthorizationServers[0]
		sctx, cancel := r.step(ctx)
		defer cancel()
		md, err := oauth.DiscoverServer(sctx, r.namedClient(), issuer, oauth.IsLocal(r.u))
		if err != nil {
			failed = true
			res.Status, res.Detail = Fail, textutil.OneLine(err.Error())
			var ce *oauth.ChallengeError
			switch {
			case errors.As(err, &ce):
				res.Fix = challengeFix(ce)
			case oauth.IsRateLimited(err):
				res.Fix = rateLimitFix(limitedUntil(err))
			case strings.Contains(err.Error(), "is for issuer"):
				res.ID, res.Title = "oauth.issuer", "Issuer"
				res.Fix = "the metadata's issuer must equal, character for character (trailing slash included), the authorization server named in the protected resource metadata (RFC 8414 §3.3)"
			case strings.Contains(err.Error(), "HTML page"):
				res.Fix = "the metadata URL is answered by a web page: the server's operator must serve the RFC 8414 JSON document there"
			case errors.Is(err, oauth.ErrNoServerMetadata):
				res.Fix = "the server's operator must publish RFC 8414 metadata at " + issuerWellKnown(issuer) + " (or OpenID Connect discovery)"
			case strings.Contains(err.Error(), "unusable"), strings.Contains(err.Error(), "has no "):
				res.ID, res.Title = "oauth.endpoints", "Endpoints"
				res.Fix = "every endpoint in the metadata must be an https URL (http only on loopback)"
			default:
				res.Fix = "the server's operator must fix the authorization server metadata (RFC 8414)"
			}
			return res
		}
		r.meta = md
		res.Status, res.Detail = OK, "found at "+md.MetadataURL+" ("+asSource(md.MetadataURL)+")"
		if n := len(r.prm.AuthorizationServers); n > 1 {
			res.Detail += fmt.Sprintf("; the resource names %d authorization servers, clients use the first", n)
		}
		return res
	})
	if failed {
		return
	}
	for _, c := range r.metadataChecks() {
		r.timed(func() Result { return c })
	}
}

// clientCheck judges how the bridge gets a client ID: the configured client, else what the server offers.
func (r *runner) clientCheck() Result {
	if r.opts.Client != nil {
		return r.configuredClientCheck()
	}
	md := r.meta
	res := func(st Status, detail, fix string) Result {
		return Result{ID: "oauth.client-id", Title: "Client registration", Status: st, Detail: detail, Fix: fix}
	}
	dcr, cimd := md.RegistrationEndpoint != "", md.ClientIDMetadataDocumentSupported
	switch doc := r.opts.ClientMetadataURL; {
	case cimd && doc != "":
		return res(OK, "client ID metadata documents: the bridge uses "+doc+" (--client-metadata-url) as its client_id and registers none (see Client metadata document below)", "")
	case dcr && cimd:
		return res(OK, "dynamic registration at "+md.RegistrationEndpoint+" and client ID metadata documents", "")
	case dcr && doc != "":
		return res(OK, "dynamic registration at "+md.RegistrationEndpoint+"; --client-metadata-url is not used, since the server does not support client ID metadata documents", "")
	case dcr:
		return res(OK, "dynamic registration at "+md.RegistrationEndpoint+" (no client ID metadata documents)", "")
	case cimd:
		return res(Warn, "client ID metadata documents only, no registration_endpoint: Cursor cannot register, and the bridge needs --client-id or --client-metadata-url",
			"offer RFC 7591 dynamic registration too (a registration_endpoint), or pass --client-id of a client registered there")
	case r.opts.Endpoints != nil:
		return res(Fail, "endpoints set by hand without --registration-url, and no client given: the bridge cannot get a client ID",
			"pass --static-oauth-client-info or --client-id of a client registered at the server, or --registration-url if it offers dynamic registration")
	}
	return res(Fail, "neither a registration_endpoint nor client_id_metadata_document_supported: no MCP client can get a client ID by itself (\"does not support dynamic client registration\")",
		"pass --client-id (and --client-secret) of a client registered at the server, or --static-oauth-client-info; its operator should offer dynamic registration or client ID metadata documents")
}

// issuerWellKnown is the RFC 8414 URL of an issuer.
func issuerWellKnown(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.EscapedPath(), "/")
}

// asSource names the discovery step of an authorization server metadata URL.
func asSource(where string) string {
	switch {
	case strings.Contains(where, "/.well-known/oauth-authorization-server"):
		return "RFC 8414"
	case strings.Contains(where, "/.well-known/openid-configuration/"):
		return "OpenID discovery, path insertion"
	}
	return "OpenID discovery"
}

// metadataChecks judges the metadata the clients rely on: one result per property.
func (r *runner) metadataChecks() []Result {
	md := r.meta
	var out []Result
	add := func(id, title string, st Status, detail, fix string) {
		out = append(out, Result{ID: id, Title: title, Status: st, Detail: detail, Fix: fix})
	}
	if md.Defaulted {
		return out
	}
	if r.prm != nil {
		add("oauth.issuer", "Issuer", OK, md.Issuer+" matches the protected resource metadata exactly", "")
	}
	plain := []string{}
	for _, e := range []string{md.AuthorizationEndpoint, md.TokenEndpoint, md.RegistrationEndpoint, md.RevocationEndpoint} {
		if strings.HasPrefix(e, "http://") {
			plain = append(plain, e)
		}
	}
	switch {
	case r.opts.Endpoints != nil:
		add("oauth.endpoints", "Endpoints", OK, "set by hand (--authorization-url, --token-url): https, or http on a loopback host, as checked when the flags were read", "")
	case len(plain) == 0:
		add("oauth.endpoints", "Endpoints", OK, "authorization, token and registration endpoints use https", "")
	default:
		add("oauth.endpoints", "Endpoints", OK, "plain http on a loopback host (fine for a local server): "+md.AuthorizationEndpoint, "")
	}
	if r.opts.Endpoints != nil { // nothing advertised to judge: the client is all that is left
		return append(out, r.clientCheck())
	}
	if err := md.RequirePKCE(); err != nil {
		add("oauth.pkce", "PKCE S256", Fail, textutil.OneLine(err.Error()),
			"the server's operator must support PKCE and advertise code_challenge_methods_supported: [\"S256\"]")
	} else {
		add("oauth.pkce", "PKCE S256", OK, "code_challenge_methods_supported: "+strings.Join(md.CodeChallengeMethodsSupported, ", "), "")
	}
	out = append(out, r.clientCheck())
	switch methods := md.TokenEndpointAuthMethodsSupported; {
	case r.opts.Client != nil && r.opts.Client.Secret != "":
		add("oauth.auth-none", "Public clients", Skip, "the bridge signs in as the configured client, with "+r.authMethod()+", not as a public client", "")
	case slices.Contains(methods, oauth.AuthNone):
		add("oauth.auth-none", "Public clients", OK, "token_endpoint_auth_methods_supported includes none", "")
	default:
		shown := "absent (RFC 8414 default: client_secret_basic)"
		if len(methods) > 0 {
			shown = strings.Join(methods, ", ")
		}
		add("oauth.auth-none", "Public clients", Warn, "token_endpoint_auth_methods_supported is "+shown+": desktop clients are public clients with no secret",
			"the server's operator should add \"none\" to token_endpoint_auth_methods_supported (Claude needs it without dynamic registration)")
	}
	if md.AuthorizationResponseIssParameterSupported {
		add("oauth.iss", "Issuer in the redirect (RFC 9207)", OK, "authorization_response_iss_parameter_supported: true", "")
	} else {
		add("oauth.iss", "Issuer in the redirect (RFC 9207)", Warn, "the server does not say it returns iss in the authorization response: no mix-up protection",
			"the server's operator should return iss and advertise authorization_response_iss_parameter_supported: true")
	}
	if md.RevocationEndpoint != "" {
		add("oauth.revocation", "Revocation (RFC 7009)", OK, "revocation_endpoint "+md.RevocationEndpoint+": logout ends the grant at the server", "")
	} else {
		add("oauth.revocation", "Revocation (RFC 7009)", Warn, "no revocation_endpoint: `meshai-mcp-server logout` can only forget the tokens here",
			"the server's operator should offer RFC 7009 revocation; until then, revoke access in the server's web settings")
	}
	return out
}
