package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

func TestHealthyReferenceServer(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true, AutoApprove: true})
	rep := run(t, Options{URL: r.URL + "/v1/mcp"})
	for _, c := range []struct {
		id     string
		st     Status
		detail string
	}{
		{"config.url", OK, "loopback"},
		{"config.proxy", OK, "no proxy variables"},
		{"config.dir", OK, "is writable"},
		{"config.store", OK, "0600 files"},
		{"net.dns", OK, "IP address"},
		{"net.tcp", OK, "accepts connections"},
		{"net.tls", Skip, "plain http"},
		{"mcp.endpoint", OK, "answered 401"},
		{"mcp.challenge", OK, `scope="mcp:read mcp:execute"`},
		{"oauth.prm", OK, "named by WWW-Authenticate"},
		{"oauth.scopes", OK, "mcp:read mcp:execute (from the server's 401 challenge)"},
		{"oauth.as", OK, "(RFC 8414)"},
		{"oauth.issuer", OK, "matches"},
		{"oauth.endpoints", OK, "loopback"},
		{"oauth.pkce", OK, "S256"},
		{"oauth.client-id", OK, "dynamic registration"},
		{"oauth.auth-none", OK, "includes none"},
		{"oauth.iss", OK, "true"},
		{"oauth.revocation", OK, "revocation_endpoint"},
		{"oauth.token", OK, `the OAuth error "invalid_client"`},
		{"oauth.register", Skip, "--register-probe"},
		{"creds.stored", Warn, "not signed in"},
		{"creds.refresh", Skip, "no stored sign-in"},
		{"session.initialize", Skip, "no credential"},
		{"session.tools", Skip, "no session"},
	} {
		want(t, rep, c.id, c.st, c.detail, "")
	}
	want(t, rep, "creds.stored", Warn, "", "meshai-mcp-server login "+r.URL+"/v1/mcp")
	if !rep.OK {
		t.Errorf("report not OK:\n%s", dump(rep))
	}
}

// TestFaults runs doctor against the reference server broken one way at a time.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		fault       devserver.Fault
		id          string
		st          Status
		detail, fix string
	}{
		{devserver.FaultNoPRM, "oauth.prm", Warn, "2025-03-26 fallback", "must publish RFC 9728 metadata"},
		{devserver.FaultNoPRM, "mcp.challenge", Warn, "without resource_metadata", "add resource_metadata"},
		{devserver.FaultPRMHTML, "oauth.prm", Fail, "HTML page", "answered by a web page"},
		{devserver.FaultNoASMetadata, "oauth.as", Fail, "publishes no metadata", "/.well-known/oauth-authorization-server"},
		{devserver.FaultASHTML, "oauth.as", Fail, "HTML page", "RFC 8414 JSON document"},
		{devserver.FaultBadIssuer, "oauth.issuer", Fail, "is for issuer", "trailing slash included"},
		{devserver.FaultNoS256, "oauth.pkce", Fail, "not S256", `code_challenge_methods_supported: ["S256"]`},
		{devserver.FaultNoPKCE, "oauth.pkce", Fail, "does not advertise PKCE", "support PKCE"},
		{devserver.FaultNoRegistration, "oauth.client-id", Fail, "does not support dynamic client registration", "--client-id"},
		{devserver.FaultNoNoneAuth, "oauth.auth-none", Warn, "client_secret_basic, client_secret_post", `add "none"`},
		{devserver.FaultNoIss, "oauth.iss", Warn, "does not say it returns iss", "authorization_response_iss_parameter_supported: true"},
		{devserver.FaultNoRevocation, "oauth.revocation", Warn, "no revocation_endpoint", "RFC 7009"},
		{devserver.FaultBotChallenge, "mcp.endpoint", Fail, "cf-mitigated: challenge", "WAF skip rule"},
		{devserver.FaultHTML401, "mcp.endpoint", OK, `401 with an HTML page titled "Sign in" and no WWW-Authenticate challenge: it needs a sign-in`, ""},
		{devserver.FaultNoWWWAuthenticate, "mcp.challenge", Warn, "no WWW-Authenticate header: the bridge finds the OAuth metadata at the well-known URIs", "RFC 9728 §5.1"},
		{devserver.FaultMCP404, "mcp.endpoint", Fail, "/mcp answers like MCP", "/mcp"},
		{devserver.FaultRegistrationRejectsRedirect, "oauth.register", Fail, "invalid_redirect_uri", "any port (RFC 8252 §7.3)"},
	} {
		t.Run(string(c.fault)+"/"+c.id, func(t *testing.T) {
			t.Parallel()
			r := startDev(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{c.fault}})
			rep := run(t, Options{URL: r.URL + "/v1/mcp", RegisterProbe: true})
			want(t, rep, c.id, c.st, c.detail, c.fix)
			if c.st == Fail && rep.OK {
				t.Error("report OK despite a failure")
			}
		})
	}
}

func TestFaultMCP404NamesTheWorkingURL(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultMCP404}})
	rep := run(t, Options{URL: r.URL + "/v1/mcp"})
	want(t, rep, "mcp.endpoint", Fail, "404 Not Found", "use "+r.URL+"/mcp")
	want(t, rep, "session.initialize", Skip, "does not answer like MCP", "")
}

func TestRegisterProbeAndHostClients(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true})
	rep := run(t, Options{URL: r.URL + "/v1/mcp", RegisterProbe: true, CheckClients: true})
	want(t, rep, "oauth.register", OK, "http://127.0.0.1:", "")
	want(t, rep, "oauth.register.claude", OK, "https://claude.ai/api/mcp/auth_callback", "")
	want(t, rep, "oauth.register.chatgpt", OK, "https://chatgpt.com/connector_platform_oauth_redirect", "")
	// The reference server accepts native apps' private-use schemes (RFC 8252 §7.1), as Cursor needs.
	want(t, rep, "oauth.register.cursor", OK, "cursor://anysphere.cursor-mcp/oauth/callback", "")
}

func TestOpenServerNeedsNoSignIn(t *testing.T) {
	r := startDev(t, devserver.Config{})
	rep := run(t, Options{URL: r.URL + "/v1/mcp"})
	want(t, rep, "mcp.endpoint", OK, "no sign-in needed", "")
	want(t, rep, "mcp.challenge", Skip, "needs no sign-in", "")
	want(t, rep, "oauth.prm", Skip, "needs no sign-in", "")
	want(t, rep, "oauth.register", Skip, "needs no sign-in", "")
	want(t, rep, "creds.stored", Skip, "needs no sign-in", "")
	want(t, rep, "session.initialize", OK, "protocol 2025-11-25", "")
	want(t, rep, "session.tools", OK, "7 tools", "")
}

// The round trip goes through the bridge's own transport, so a legacy HTTP+SSE endpoint gets a session as the
// bridge would open one, not a POST of initialize to the stream's URL.
func TestLegacyEndpointRoundTrip(t *testing.T) {
	r := startDev(t, devserver.Config{})
	rep := run(t, Options{URL: r.URL + "/v1/sse"})
	want(t, rep, "mcp.endpoint", Warn, "legacy HTTP+SSE endpoint", "Streamable HTTP")
	want(t, rep, "session.initialize", OK, "with no credential", "")
	want(t, rep, "session.tools", OK, "7 tools", "")
}

func TestSignedIn(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true, AutoApprove: true})
	si := signIn(t, r)
	rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
	want(t, rep, "creds.stored", OK, "scopes mcp:read mcp:execute, refresh token kept; the access token expires in", "")
	want(t, rep, "creds.refresh", Skip, "doctor --refresh", "")
	want(t, rep, "session.initialize", OK, "with stored sign-in", "")
	want(t, rep, "session.initialize", OK, "meshai 0.1.0-dev, protocol 2025-11-25", "")
	want(t, rep, "session.tools", OK, "7 tools", "")
	want(t, rep, "session.tools", OK, "mesh_execute", "")
	if !rep.OK {
		t.Errorf("not OK:\n%s", dump(rep))
	}
	for _, secret := range []string{si.tokens.AccessToken, si.tokens.RefreshToken} {
		var b strings.Builder
		_ = rep.WriteText(&b)
		_ = rep.WriteJSON(&b)
		if strings.Contains(b.String(), secret) {
			t.Error("a token appears in the report")
		}
	}
}

func TestExpiredTokenRefresh(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true, AutoApprove: true})
	si := signIn(t, r)
	si.tokens.Expiry = time.Now().Add(-time.Minute)
	si.save(t)
	oldRefresh := si.tokens.RefreshToken

	rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
	want(t, rep, "creds.stored", Warn, "expired", "doctor --refresh")
	want(t, rep, "session.initialize", Skip, "no credential", "")
	if t2 := si.stored(t); t2.RefreshToken != oldRefresh {
		t.Fatal("doctor without --refresh changed the stored tokens")
	}

	rep = run(t, Options{URL: si.resource, Getenv: si.getenv, Refresh: true})
	want(t, rep, "creds.refresh", OK, "rotated and the new one saved", "")
	want(t, rep, "session.initialize", OK, "protocol 2025-11-25", "")
	if t3 := si.stored(t); t3.RefreshToken == oldRefresh || t3.Scope != "mcp:read mcp:execute" || t3.ExpiresIn == 0 {
		t.Errorf("the refreshed tokens were not saved with their scope and lifetime: %v", t3)
	}

	// The old refresh token again: the server detects the reuse and revokes the grant.
	si.tokens.RefreshToken = oldRefresh
	si.save(t)
	rep = run(t, Options{URL: si.resource, Getenv: si.getenv, Refresh: true})
	want(t, rep, "creds.refresh", Fail, "token refresh failed: the server refused the refresh token", "meshai-mcp-server login")
}

func TestStoredCredentialProblems(t *testing.T) {
	r := startDev(t, devserver.Config{OAuth: true, AutoApprove: true})
	t.Run("expired without refresh token", func(t *testing.T) {
		si := signIn(t, r)
		si.tokens.Expiry, si.tokens.RefreshToken = time.Now().Add(-time.Hour), ""
		si.save(t)
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
		want(t, rep, "creds.stored", Fail, "expired", "meshai-mcp-server login")
		want(t, rep, "creds.refresh", Skip, "no refresh token", "")
	})
	t.Run("unknown client", func(t *testing.T) {
		si := signIn(t, r)
		si.rec.ClientID, si.tokens.Expiry = "gone", time.Now().Add(-time.Hour)
		si.save(t)
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv, Refresh: true})
		want(t, rep, "creds.refresh", Fail, "no longer knows the client", "to register again")
	})
	t.Run("revoked access token", func(t *testing.T) {
		si := signIn(t, r)
		si.tokens.AccessToken = "not-a-token-the-server-issued"
		si.save(t)
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
		want(t, rep, "session.initialize", Fail, "refused the stored access token (401)", "meshai-mcp-server login")
	})
	t.Run("unreadable tokens", func(t *testing.T) {
		si := signIn(t, r)
		_ = si.store.Set(context.Background(), si.tokensAt, []byte("{"))
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
		want(t, rep, "creds.stored", Fail, "cannot be read", "meshai-mcp-server logout")
	})
	t.Run("token endpoint unreachable", func(t *testing.T) {
		si := signIn(t, r)
		si.rec.TokenEndpoint, si.tokens.Expiry = "http://"+closedPort(t)+"/oauth/token", time.Now().Add(-time.Hour)
		si.save(t)
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv, Refresh: true})
		want(t, rep, "creds.refresh", Fail, "token refresh failed", "check the network and run doctor again")
	})
	t.Run("unreadable record", func(t *testing.T) {
		si := signIn(t, r)
		_ = si.store.Set(context.Background(), si.recordAt, []byte("{"))
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
		want(t, rep, "creds.stored", Fail, "unreadable", "meshai-mcp-server logout")
	})
	t.Run("other authorization server", func(t *testing.T) {
		si := signIn(t, r)
		si.rec.Issuer = "https://old-issuer.example"
		si.save(t)
		rep := run(t, Options{URL: si.resource, Getenv: si.getenv})
		want(t, rep, "creds.stored", Warn, "the bridge will sign in again", "meshai-mcp-server login")
	})
}

func TestAPIKey(t *testing.T) {
	r := startDev(t, devserver.Config{APIKey: "right-key"})
	rep := run(t, Options{URL: r.URL + "/v1/mcp", Getenv: testEnv(t, config.EnvAPIKey, "right-key")})
	want(t, rep, "creds.stored", OK, "MESHAI_API_KEY is set", "")
	want(t, rep, "creds.refresh", Skip, "MESHAI_API_KEY", "")
	want(t, rep, "session.initialize", OK, "with MESHAI_API_KEY", "")
	want(t, rep, "session.tools", OK, "7 tools", "")
	// The API-key server's challenge has no resource_metadata and it publishes none.
	want(t, rep, "oauth.prm", OK, "none needed, since MESHAI_API_KEY is set", "")
	if !rep.OK {
		t.Errorf("OAuth problems fail the report although an API key is used:\n%s", dump(rep))
	}

	rep = run(t, Options{URL: r.URL + "/v1/mcp", Getenv: testEnv(t, config.EnvAPIKey, "wrong-key")})
	want(t, rep, "session.initialize", Fail, "refused MESHAI_API_KEY (401)", "check MESHAI_API_KEY")
	var b strings.Builder
	_ = rep.WriteJSON(&b)
	if strings.Contains(b.String(), "wrong-key") {
		t.Error("the API key appears in the report")
	}
}

// A 401 web page without a challenge: the bridge signs in anyway when the well-known URIs hold the metadata, so
// doctor warns about the missing challenge only; without metadata it is a login proxy no MCP client gets past.
func TestLoginPage401(t *testing.T) {
	html := map[string]string{"Content-Type": "text/html"}
	loginPage := route{401, html, "<!doctype html><title>Sign in</title><form></form>"}
	dev := startDev(t, devserver.Config{OAuth: true, AutoApprove: true, Faults: []devserver.Fault{devserver.FaultHTML401}})
	proxy := fake(t, map[string]route{"POST /mcp": loginPage})
	behindProxy := fake(t, oauthRoutes(map[string]route{"POST /mcp": loginPage, "POST /token": {400, nil, `{"error":"invalid_request"}`}}))
	for _, c := range []struct {
		name   string
		url    string
		ok     bool // the report has no failure
		checks []check
	}{
		{"reference server", dev.URL + "/v1/mcp", true, []check{
			{"mcp.endpoint", OK, `answered 401 with an HTML page titled "Sign in" and no WWW-Authenticate challenge: it needs a sign-in, and the bridge looks for its OAuth metadata at the well-known URIs`, ""},
			{"mcp.challenge", Warn, "no WWW-Authenticate header", "WWW-Authenticate: Bearer resource_metadata"},
			{"oauth.prm", OK, "(path-aware well-known URI)", ""},
			{"oauth.token", OK, "invalid_client", ""},
		}},
		{"metadata at the well-known URIs", behindProxy.URL + "/mcp", true, []check{
			{"mcp.endpoint", OK, "it needs a sign-in", ""},
			{"oauth.prm", OK, "(path-aware well-known URI)", ""},
		}},
		{"login proxy without metadata", proxy.URL + "/mcp", false, []check{
			{"mcp.endpoint", OK, "it needs a sign-in", ""},
			{"oauth.prm", Fail, "a login page or single sign-on proxy is in front of it", "MCP clients cannot sign in through a web page: the server's operator must exempt the MCP path"},
			{"oauth.as", Skip, "", ""},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, Options{URL: c.url})
			for _, ch := range c.checks {
				want(t, rep, ch.id, ch.st, ch.detail, ch.fix)
			}
			if rep.OK != c.ok {
				t.Errorf("report OK = %v, want %v:\n%s", rep.OK, c.ok, dump(rep))
			}
		})
	}
}

// Where the URL is wrong, nothing answers, or no client can sign in, the stored-credentials check does not send
// the user to sign in to that URL: it names the corrected URL when one was found, and no line says to log in.
func TestNoSignInAdviceWhereLoginFails(t *testing.T) {
	moved := startDev(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultMCP404}})
	noRegistration := startDev(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultNoRegistration}})
	site := fake(t, map[string]route{"/app": {200, map[string]string{"Content-Type": "text/html"}, "<!doctype html><title>Home</title>"}})
	for _, c := range []struct {
		name string
		url  string
		want []check
	}{
		{"wrong path, right one found", moved.URL + "/v1/mcp", []check{
			{"mcp.endpoint", Fail, "no MCP endpoint at " + moved.URL + "/v1/mcp", "use " + moved.URL + "/mcp"},
			{"creds.stored", Skip, "no MCP endpoint at this URL (see above): run doctor with " + moved.URL + "/mcp to check its sign-in", ""},
		}},
		{"a web site", site.URL + "/app", []check{
			{"mcp.endpoint", Fail, "no MCP endpoint at " + site.URL + "/app", "check the path"},
			{"creds.stored", Skip, "no MCP endpoint at this URL (see above): run doctor with the right URL", ""},
		}},
		{"no registration and no client", noRegistration.URL + "/v1/mcp", []check{
			{"oauth.client-id", Fail, "does not support dynamic client registration", "--static-oauth-client-info"},
			{"creds.stored", Skip, "not signed in to " + noRegistration.URL + "/v1/mcp (file store); a sign-in cannot work until the OAuth failure above is fixed", ""},
			{"session.initialize", Skip, "no credential: a sign-in cannot work until the OAuth failure above is fixed", ""},
		}},
		{"nothing listening", "http://" + closedPort(t) + "/v1/mcp", []check{
			{"net.tcp", Fail, "connection refused", "start the local server"},
			{"creds.stored", Skip, "the MCP endpoint did not answer (see above)", ""},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, Options{URL: c.url})
			for _, ch := range c.want {
				want(t, rep, ch.id, ch.st, ch.detail, ch.fix)
			}
			for _, res := range rep.Checks {
				if strings.Contains(res.Fix, "login") || strings.Contains(res.Detail, "login") {
					t.Errorf("%s advises logging in: %s / %s", res.ID, res.Detail, res.Fix)
				}
			}
		})
	}
}
