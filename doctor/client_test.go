package doctor

import (
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// A pre-registered client and endpoints set by hand change what the discovery and registration checks say: the
// configured client instead of dynamic registration, the endpoints instead of the metadata.
func TestConfiguredClientAndEndpoints(t *testing.T) {
	sigil := &Client{ID: "sigil", Secret: "sigil-s3cret-value", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"}
	registered := []devserver.Client{{ID: sigil.ID, Secret: sigil.Secret, AuthMethod: sigil.AuthMethod}}
	dynamic := startDev(t, devserver.Config{OAuth: true, Clients: registered})
	bare := startDev(t, devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultNoPRM, devserver.FaultNoASMetadata}, Clients: registered})
	sigilCallback := Callback{Host: "localhost", Path: "/oauth/callback", Port: 8080} // its client.json's redirect URI
	byHand := func(r *devserver.Running, registration bool) *Endpoints {
		e := &Endpoints{Authorization: r.URL + "/oauth/authorize", Token: r.URL + "/oauth/token"}
		if registration {
			e.Registration = r.URL + "/oauth/register"
		}
		return e
	}
	for _, c := range []struct {
		name      string
		server    *devserver.Running
		client    *Client
		endpoints *Endpoints
		checks    []check
	}{
		{"client.json", dynamic, sigil, nil, []check{
			{"oauth.client-id", OK, "pre-registered client_id sigil (--static-oauth-client-info), token_endpoint_auth_method client_secret_post with a client secret (not shown), redirect URI http://localhost:8080/oauth/callback", ""},
			{"oauth.register", Skip, "a pre-registered client is configured (client_id sigil, --static-oauth-client-info)", ""},
			{"oauth.as", OK, "found at", ""},
			{"creds.stored", Warn, "not signed in", "/v1/mcp` with the same --static-oauth-client-info as the bridge now"},
		}},
		{"client-id without a secret", dynamic, &Client{ID: "neotoma", From: "--client-id"}, nil, []check{
			{"oauth.client-id", OK, "pre-registered client_id neotoma (--client-id), token_endpoint_auth_method none with no client secret, redirect URI http://127.0.0.1:", ""},
		}},
		{"client-id with a secret", dynamic, &Client{ID: "neotoma", Secret: "x", From: "--client-id"}, nil, []check{
			{"oauth.client-id", OK, "token_endpoint_auth_method client_secret_basic with a client secret", ""},
		}},
		{"no metadata, no endpoints", bare, nil, nil, []check{
			{"oauth.prm", Fail, "publishes no protected resource metadata", "must publish RFC 9728 metadata"},
		}},
		{"endpoints and client.json", bare, sigil, byHand(bare, false), []check{
			{"oauth.prm", Skip, "not needed: the authorization server's endpoints are set by hand (--authorization-url, --token-url)", ""},
			{"oauth.as", OK, "not discovered: set by hand, authorization endpoint " + bare.URL + "/oauth/authorize (--authorization-url), token endpoint " + bare.URL + "/oauth/token (--token-url), no registration endpoint", ""},
			{"oauth.endpoints", OK, "set by hand", ""},
			{"oauth.token", OK, bare.URL + "/oauth/token (--token-url) accepted the credentials of client_id sigil", ""},
			{"oauth.client-id", OK, "pre-registered client_id sigil", ""},
			{"oauth.register", Skip, "a pre-registered client is configured", ""},
			{"creds.stored", Warn, "not signed in", "/v1/mcp` with the same --static-oauth-client-info, --authorization-url, --token-url as the bridge now"},
		}},
		{"endpoints with registration", bare, nil, byHand(bare, true), []check{
			{"oauth.as", OK, "registration endpoint " + bare.URL + "/oauth/register (--registration-url)", ""},
			{"oauth.client-id", OK, "dynamic registration at " + bare.URL + "/oauth/register", ""},
			{"oauth.register", OK, "registered the bridge's redirect URIs", ""},
		}},
		{"endpoints without registration or client", bare, nil, byHand(bare, false), []check{
			{"oauth.client-id", Fail, "without --registration-url, and no client given", "pass --static-oauth-client-info or --client-id"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{URL: c.server.URL + "/v1/mcp", Client: c.client, Endpoints: c.endpoints, RegisterProbe: true}
			if c.client == sigil {
				opts.Callback = sigilCallback
			}
			rep := run(t, opts)
			for _, ch := range c.checks {
				want(t, rep, ch.id, ch.st, ch.detail, ch.fix)
			}
			for _, id := range []string{"oauth.pkce", "oauth.auth-none", "oauth.iss", "oauth.revocation"} {
				if c.endpoints != nil && rep.Find(id) != nil {
					t.Errorf("%s judged although nothing was advertised: %+v", id, rep.Find(id))
				}
			}
			var b strings.Builder
			_ = rep.WriteJSON(&b)
			if strings.Contains(b.String(), "sigil-s3cret-value") {
				t.Error("the client secret appears in the report")
			}
		})
	}
}

// The refresh goes as the stored sign-in's client, as the bridge's; a configuration that differs from it is named.
func TestConfigDrift(t *testing.T) {
	rec := &credstore.SignInRecord{Registration: credstore.Registration{ClientID: "sigil", ClientSecret: "old",
		TokenEndpointAuthMethod: oauth.AuthPost}, TokenEndpoint: "https://as.example/token"}
	for _, c := range []struct {
		name      string
		client    *Client
		endpoints *Endpoints
		want      string
	}{
		{"nothing configured", nil, nil, ""},
		{"the same client", &Client{ID: "sigil", Secret: "old", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"}, nil, ""},
		{"the same token URL", nil, &Endpoints{Token: "https://as.example/token"}, ""},
		{"another client", &Client{ID: "other", From: "--client-id"}, nil, "client_id other is configured (--client-id)"},
		{"another method", &Client{ID: "sigil", Secret: "old", AuthMethod: oauth.AuthBasic, From: "--static-oauth-client-info"}, nil, "token_endpoint_auth_method client_secret_basic is configured"},
		{"another secret", &Client{ID: "sigil", Secret: "new", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"}, nil, "another client secret is configured"},
		{"another token URL", nil, &Endpoints{Token: "https://as.example/v2/token"}, "--token-url is https://as.example/v2/token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &runner{opts: Options{Client: c.client, Endpoints: c.endpoints}, rec: rec}
			got := r.configDrift()
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("configDrift() = %q, want %q", got, c.want)
			}
			if strings.Contains(got, "old") || strings.Contains(got, "new") {
				t.Errorf("a secret appears: %q", got)
			}
		})
	}
}

// The configured client's auth method is decided as the sign-in decides it, and judged against the methods the
// server lists.
func TestConfiguredClientAuthMethod(t *testing.T) {
	for _, c := range []struct {
		name    string
		methods any // token_endpoint_auth_methods_supported; nil: absent
		client  Client
		st      Status
		detail  string
		fix     string
	}{
		{"listed", []string{"none", "client_secret_post"}, Client{ID: "c", Secret: "s", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"},
			OK, "token_endpoint_auth_method client_secret_post with a client secret", ""},
		{"not listed", []string{"none"}, Client{ID: "c", Secret: "s", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"},
			Warn, "but the server lists token_endpoint_auth_methods_supported none, not client_secret_post", "set token_endpoint_auth_method in the client.json"},
		{"absent", nil, Client{ID: "c", Secret: "s", AuthMethod: oauth.AuthPost, From: "--static-oauth-client-info"},
			OK, "client_secret_post", ""},
		{"only post listed, no method given", []string{"client_secret_post"}, Client{ID: "c", Secret: "s", From: "--client-id"},
			OK, "token_endpoint_auth_method client_secret_post with a client secret", ""},
		{"public client", []string{"none"}, Client{ID: "c", From: "--client-id"},
			OK, "token_endpoint_auth_method none with no client secret", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, oauthRoutes(map[string]route{"/.well-known/oauth-authorization-server": {200, nil,
				asMetadata(map[string]any{"token_endpoint_auth_methods_supported": c.methods})}}))
			rep := run(t, Options{URL: srv.URL + "/mcp", Client: &c.client})
			want(t, rep, "oauth.client-id", c.st, c.detail, c.fix)
			if c.client.Secret != "" {
				want(t, rep, "oauth.auth-none", Skip, "signs in as the configured client", "")
			}
		})
	}
}
