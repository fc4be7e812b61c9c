package doctor

import (
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// The token endpoint probe as the configured client, at the reference server that holds the client (secret
// right, wrong, sent the wrong way, or an unknown client) and at servers whose answer cannot tell.
func TestTokenProbeAsConfiguredClient(t *testing.T) {
	const secret = "neotoma-s3cret-VALUE"
	clients := []devserver.Client{
		{ID: "neotoma", Secret: secret, AuthMethod: oauth.AuthBasic},
		{ID: "posty", Secret: secret, AuthMethod: oauth.AuthPost},
		{ID: "public"},
	}
	ref := startDev(t, devserver.Config{OAuth: true, Clients: clients, Faults: []devserver.Fault{devserver.FaultNoRegistration}})
	echo := startDev(t, devserver.Config{OAuth: true, Clients: clients, Faults: []devserver.Fault{devserver.FaultEchoSecrets}})
	const from = "--static-oauth-client-info"
	for _, c := range []struct {
		name   string
		url    string // the MCP endpoint
		client Client
		check
	}{
		{"right secret", ref.URL + "/v1/mcp", Client{ID: "neotoma", Secret: secret, AuthMethod: oauth.AuthBasic, From: from}, check{"oauth.token", OK,
			`accepted the credentials of client_id neotoma (client_secret_basic, --static-oauth-client-info) and refused only the made-up authorization code ("invalid_grant"`, ""}},
		{"wrong secret", ref.URL + "/v1/mcp", Client{ID: "neotoma", Secret: "WRONG-secret-xyz", AuthMethod: oauth.AuthBasic, From: from}, check{"oauth.token", Fail,
			`refused client_id neotoma (client_secret_basic, --static-oauth-client-info) with "invalid_client" (wrong client secret) (HTTP 401)`,
			"correct the client_secret, client_id or token_endpoint_auth_method given (--static-oauth-client-info)"}},
		{"secret sent the wrong way", ref.URL + "/v1/mcp", Client{ID: "neotoma", Secret: secret, AuthMethod: oauth.AuthPost, From: from}, check{"oauth.token", Fail,
			`"invalid_client" (the client must authenticate with client_secret_basic)`, "correct the client_secret"}},
		{"post client", ref.URL + "/v1/mcp", Client{ID: "posty", Secret: secret, AuthMethod: oauth.AuthPost, From: from}, check{"oauth.token", OK,
			"accepted the credentials of client_id posty (client_secret_post", ""}},
		{"public client", ref.URL + "/v1/mcp", Client{ID: "public", From: "--client-id"}, check{"oauth.token", OK,
			"accepted the credentials of client_id public (none, --client-id)", ""}},
		{"unknown client", ref.URL + "/v1/mcp", Client{ID: "nobody", From: "--client-id"}, check{"oauth.token", Fail,
			`refused client_id nobody (none, --client-id) with "invalid_client" (unknown client)`, "correct the client_secret, client_id"}},
		{"server echoing the secret", echo.URL + "/v1/mcp", Client{ID: "neotoma", Secret: secret, AuthMethod: oauth.AuthBasic, From: from}, check{"oauth.token", OK,
			"but also as a client_id no server registered: it judges the grant before the client, so this probe cannot tell", ""}},
		{"invalid_grant to everyone", fakeToken(t, route{400, nil, `{"error":"invalid_grant"}`}), Client{ID: "c", Secret: secret, From: from}, check{"oauth.token", OK,
			"cannot tell whether it accepts the client's credentials (the first sign-in will)", ""}},
		{"invalid_request", fakeToken(t, route{400, nil, `{"error":"invalid_request"}`}), Client{ID: "c", Secret: secret, From: from}, check{"oauth.token", OK,
			`answered "invalid_request" as client_id c (client_secret_basic, --static-oauth-client-info), in JSON as clients expect; that answer does not say whether it accepts the client's credentials`, ""}},
		{"no code grant for the client", fakeToken(t, route{400, nil, `{"error":"unauthorized_client"}`}), Client{ID: "c", Secret: secret, From: from}, check{"oauth.token", Fail,
			"may not use the authorization_code grant the browser sign-in ends with", "allow the authorization_code grant for client_id c"}},
		{"login page", fakeToken(t, route{200, map[string]string{"Content-Type": "text/html"}, "<!doctype html><title>Sign in</title>"}), Client{ID: "c", Secret: secret, From: from},
			check{"oauth.token", Fail, `HTML page titled "Sign in"`, "serve OAuth JSON at the token endpoint"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, Options{URL: c.url, Client: &c.client})
			want(t, rep, c.id, c.st, c.detail, c.fix)
			if got := (c.st != Fail); got != rep.OK {
				t.Errorf("report OK = %v, want %v:\n%s", rep.OK, got, dump(rep))
			}
			var b strings.Builder
			_ = rep.WriteText(&b)
			_ = rep.WriteJSON(&b)
			if strings.Contains(b.String(), secret) || strings.Contains(b.String(), "WRONG-secret-xyz") {
				t.Errorf("a client secret appears in the report:\n%s", b.String())
			}
		})
	}
}

// A device-grant client may not redeem codes: that answer says nothing against it.
func TestTokenProbeDeviceClient(t *testing.T) {
	url := fakeToken(t, route{400, nil, `{"error":"unauthorized_client"}`})
	rep := run(t, Options{URL: url, Client: &Client{ID: "tv", From: "--client-id"}, DeviceCode: true})
	want(t, rep, "oauth.token", OK, `answered "unauthorized_client" as client_id tv (none, --client-id) to an authorization code: the client may not use the code grant, as a device-grant client (--device-code) may not; this probe cannot tell more`, "")
}

// fakeToken is a well-behaved OAuth server whose token endpoint always gives answer; it returns its MCP URL.
func fakeToken(t *testing.T, answer route) string {
	t.Helper()
	return fake(t, oauthRoutes(map[string]route{"POST /token": answer})).URL + "/mcp"
}
