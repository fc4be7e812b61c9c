package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"golang.org/x/oauth2"
)

// loginCmd is the command that signs in to the checked server; a login names the client and endpoint flags
// doctor was given, which it needs as serving does (without them it would register a client of its own).
func (r *runner) loginCmd(verb string) string {
	cmd := fmt.Sprintf("`meshai-mcp-server %s %s`", verb, textutil.RedactURL(r.u))
	var flags []string
	if r.opts.Client != nil {
		flags = append(flags, r.opts.Client.From)
	}
	if r.opts.Endpoints != nil {
		flags = append(flags, "--authorization-url", "--token-url")
		if r.opts.Endpoints.Registration != "" {
			flags = append(flags, "--registration-url")
		}
	}
	if verb != "login" || len(flags) == 0 {
		return cmd
	}
	return cmd + " with the same " + strings.Join(flags, ", ") + " as the bridge"
}

// checkStored reports the stored sign-in without changing it: present, expiry, scopes, refresh token.
func (r *runner) checkStored(ctx context.Context) {
	const id, title = "creds.stored", "Stored credentials"
	if key := r.opts.Getenv(config.EnvAPIKey); key != "" {
		r.credential, r.credKind = strings.TrimSpace(key), config.EnvAPIKey
		r.add(Result{ID: id, Title: title, Status: OK, Detail: config.EnvAPIKey + " is set: the bridge sends it and does not sign in"})
		return
	}
	switch {
	case r.u == nil:
		r.skip(id, title, "no usable URL")
		return
	case r.store == nil:
		r.skip(id, title, "the token store could not be opened (see above)")
		return
	case r.endpoint.open:
		r.skip(id, title, "the server needs no sign-in")
		return
	case !r.reachable: // advice to sign in to it would fail too
		r.skip(id, title, "the MCP endpoint did not answer (see above): its sign-in is checked once it does")
		return
	case r.endpoint.found != nil:
		r.skip(id, title, "no MCP endpoint at this URL (see above): run doctor with "+textutil.RedactURL(r.endpoint.found)+" to check its sign-in")
		return
	case r.endpoint.notMCP:
		r.skip(id, title, "no MCP endpoint at this URL (see above): run doctor with the right URL to check its sign-in")
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		resource := oauth.CanonicalResource(r.u)
		notSignedIn := func() Result {
			if r.noOAuth {
				res.Status = Fail
				res.Detail = "no credential: " + config.EnvAPIKey + " is not set, and the server offers no OAuth sign-in (see above), so `login` cannot help"
				res.Fix = apiKeyFix
				return res
			}
			res.Detail = fmt.Sprintf("not signed in to %s (%s store)", textutil.RedactURL(r.u), r.store.Kind())
			if r.signInBroken { // a login would fail the same way
				res.Status = Skip
				res.Detail += "; a sign-in cannot work until the OAuth failure above is fixed"
				return res
			}
			res.Status = Warn
			res.Fix = "run " + r.loginCmd("login") + " now, or let the first request from your MCP client open the sign-in"
			return res
		}
		// Reading the store (instead of calling SignIn.Status) keeps the check read-only: Status may refresh an
		// expired token while asking the userinfo endpoint.
		rec, t, err := credstore.ReadSignIn(ctx, r.store, resource)
		if rec == nil && errors.Is(err, credstore.ErrNotFound) {
			return notSignedIn()
		}
		if rec == nil && errors.Is(err, credstore.ErrUnreadable) {
			err = errors.New("the stored sign-in is unreadable")
		}
		if rec == nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("cannot read the stored sign-in from the %s store: %s", r.store.Kind(), textutil.OneLine(err.Error()))
			res.Fix = "run " + r.loginCmd("logout") + ", then " + r.loginCmd("login")
			return res
		}
		if err != nil {
			res.Status, res.Detail = Fail, textutil.OneLine(err.Error())
			res.Fix = "run " + r.loginCmd("logout") + ", then " + r.loginCmd("login")
			return res
		}
		if t == nil || t.AccessToken == "" {
			return notSignedIn()
		}
		r.rec, r.storedTok = rec, t
		return r.judgeTokens(res, t)
	})
}

// judgeTokens describes stored tokens and picks the access token for the round trip when it is still valid.
func (r *runner) judgeTokens(res Result, t *credstore.Tokens) Result {
	scopes := "no scopes recorded"
	if t.Scope != "" {
		scopes = "scopes " + t.Scope
	}
	refresh := "no refresh token"
	if t.RefreshToken != "" {
		refresh = "refresh token kept"
	}
	base := fmt.Sprintf("signed in at %s (%s store), %s, %s", r.rec.Issuer, r.store.Kind(), scopes, refresh)
	now := time.Now()
	switch {
	case !t.Expiry.IsZero() && !now.Before(t.Expiry) && t.RefreshToken == "":
		res.Status = Fail
		res.Detail = base + fmt.Sprintf("; the access token expired %s ago", now.Sub(t.Expiry).Round(time.Second))
		res.Fix = "run " + r.loginCmd("login") + " (the server gave no refresh token, so every expiry needs a new sign-in)"
	case !t.Expiry.IsZero() && !now.Before(t.Expiry):
		res.Status = Warn
		res.Detail = base + fmt.Sprintf("; the access token expired %s ago: the next request refreshes it", now.Sub(t.Expiry).Round(time.Second))
		res.Fix = "run `meshai-mcp-server doctor --refresh` to try the refresh now"
	default:
		res.Status = OK
		if t.Expiry.IsZero() {
			res.Detail = base + "; the access token does not expire"
		} else {
			res.Detail = base + fmt.Sprintf("; the access token expires in %s (%s)", time.Until(t.Expiry).Round(time.Second), t.Expiry.UTC().Format(time.RFC3339))
		}
		r.credential, r.credKind = t.AccessToken, "stored sign-in"
	}
	if r.meta != nil && !r.meta.Defaulted && r.meta.Issuer != r.rec.Issuer && res.Status != Fail {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; but the server now names the authorization server %s: the bridge will sign in again", r.meta.Issuer)
		res.Fix = "run " + r.loginCmd("login")
	}
	return res
}

// checkRefresh refreshes the stored access token (--refresh), saving the new pair as the bridge does.
func (r *runner) checkRefresh(ctx context.Context) {
	const id, title = "creds.refresh", "Token refresh"
	switch {
	case r.credKind == config.EnvAPIKey:
		r.skip(id, title, config.EnvAPIKey+" is used")
		return
	case r.storedTok == nil:
		r.skip(id, title, "no stored sign-in")
		return
	case r.storedTok.RefreshToken == "":
		r.skip(id, title, "no refresh token is kept")
		return
	case !r.opts.Refresh:
		r.skip(id, title, "not run, since it spends the refresh token (the new one is saved): run `meshai-mcp-server doctor --refresh`")
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		resource := oauth.CanonicalResource(r.u)
		dir, _, _ := r.configDir()
		grant := &credstore.Grant{Store: r.store, Resource: resource, Record: *r.rec}
		src := &auth.Source{
			Store:   grant,
			Lock:    func(ctx context.Context) (func(), error) { return grant.Lock(ctx, dir) },
			Client:  r.refreshClient(resource),
			Timeout: r.opts.Timeout,
		}
		sctx, cancel := r.step(ctx)
		defer cancel()
		tok, err := src.Invalidate(sctx, &oauth2.Token{AccessToken: r.storedTok.AccessToken})
		switch {
		case err == nil:
			rotated := "the refresh token was kept"
			if tok.RefreshToken != "" && tok.RefreshToken != r.storedTok.RefreshToken {
				rotated = "the refresh token was rotated and the new one saved"
			}
			expiry := "does not expire"
			if !tok.Expiry.IsZero() {
				expiry = "expires in " + time.Until(tok.Expiry).Round(time.Second).String()
			}
			res.Status, res.Detail = OK, fmt.Sprintf("refreshed at %s as client_id %s (%s): the new access token %s; %s",
				src.Client.TokenURL, src.Client.ClientID, src.Client.AuthMethod, expiry, rotated)
			r.credential, r.credKind = tok.AccessToken, "stored sign-in"
			if drift := r.configDrift(); drift != "" {
				res.Status, res.Detail = Warn, res.Detail+"; "+drift
				res.Fix = "run " + r.loginCmd("login") + " to sign in as the configured client"
			}
		case oauth.IsRateLimited(err):
			res.Status, res.Detail = Fail, "token refresh was not done: "+textutil.OneLine(err.Error())+"; the sign-in is kept"
			res.Fix = rateLimitFix(limitedUntil(err))
		case oauth.IsInvalidClient(err) && r.opts.Client != nil:
			res.Status, res.Detail = Fail, "token refresh failed: the server refused client_id "+src.Client.ClientID+" with "+src.Client.AuthMethod+" ("+textutil.OneLine(err.Error())+")"
			res.Fix = "check the client_id, client_secret and token_endpoint_auth_method given (" + r.opts.Client.From + ") against the client's registration at the server, then run " + r.loginCmd("login")
		case oauth.IsInvalidClient(err):
			res.Status, res.Detail = Fail, "token refresh failed: the server no longer knows the client ("+textutil.OneLine(err.Error())+")"
			res.Fix = "run " + r.loginCmd("logout") + ", then " + r.loginCmd("login") + " to register again"
		case errors.Is(err, auth.ErrSignInRequired):
			res.Status = Fail
			res.Detail = "token refresh failed: the server refused the refresh token (" + textutil.OneLine(strings.TrimPrefix(err.Error(), auth.ErrSignInRequired.Error())) + "): the grant was revoked or expired, or its refresh token was used already"
			res.Fix = "run " + r.loginCmd("login")
		default:
			res.Status, res.Detail = Fail, "token refresh failed: "+textutil.OneLine(err.Error())
			res.Fix = "check the network and run doctor again; if it keeps failing, run " + r.loginCmd("login")
		}
		return res
	})
}

// refreshClient is the token client of the refresh, as the bridge's (auth.SignIn refreshes with the stored
// sign-in's registration): its token endpoint, client_id, secret and auth method, so a client_secret_post client
// refreshes with client_secret_post.
func (r *runner) refreshClient(resource string) *oauth.TokenClient {
	return &oauth.TokenClient{TokenURL: r.rec.TokenEndpoint, ClientID: r.rec.ClientID, ClientSecret: r.rec.ClientSecret,
		AuthMethod: r.rec.TokenEndpointAuthMethod, Resource: resource, HTTP: r.namedClient()}
}

// configDrift says how the configured client and token endpoint differ from the stored sign-in's, which the
// bridge keeps refreshing with until the next sign-in; "" when they agree or none is configured.
func (r *runner) configDrift() string {
	var diffs []string
	if c := r.opts.Client; c != nil {
		switch {
		case c.ID != r.rec.ClientID:
			diffs = append(diffs, "client_id "+c.ID+" is configured ("+c.From+")")
		case r.authMethod() != r.rec.TokenEndpointAuthMethod:
			diffs = append(diffs, "token_endpoint_auth_method "+r.authMethod()+" is configured ("+c.From+")")
		case c.Secret != r.rec.ClientSecret:
			diffs = append(diffs, "another client secret is configured ("+c.From+")")
		}
	}
	if e := r.opts.Endpoints; e != nil && e.Token != r.rec.TokenEndpoint {
		diffs = append(diffs, "--token-url is "+textutil.RedactRawURL(e.Token))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprintf("the stored sign-in is of client_id %s (%s) at %s, but %s: the bridge refreshes as stored until the next sign-in",
		r.rec.ClientID, r.rec.TokenEndpointAuthMethod, textutil.RedactRawURL(r.rec.TokenEndpoint), strings.Join(diffs, " and "))
}
