package doctor

import (
	"testing"
)

// A client that cannot use the browser sign-in, --device-code and --client-metadata-url are judged against what
// the server offers, each failure with the one thing that fixes it.
func TestSignInMethod(t *testing.T) {
	const redirect = "http://127.0.0.1:8080/oauth/callback"
	cb := Callback{Host: "127.0.0.1", Port: 8080, Path: "/oauth/callback"}
	webOnly := &Client{ID: "web-app", From: "--static-oauth-client-info", NoLoopback: []string{"https://app.example/cb"}}
	device := map[string]any{"device_authorization_endpoint": "{{URL}}/device"}
	cimd := map[string]any{"client_id_metadata_document_supported": true}
	document := func(body string) map[string]route {
		return map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(cimd)}, "/client.json": {200, nil, body}}
	}
	for _, c := range []struct {
		name   string
		routes map[string]route
		opts   Options // URL set by the test; Callback is cb
		doc    bool    // ClientMetadataURL is the server's /client.json
		checks []check
		absent []string // checks that must not be reported
	}{
		{"web-only client, device grant offered", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(device)}},
			Options{Client: webOnly}, false, []check{
				{"oauth.client-id", Fail, "none of its redirect URIs (https://app.example/cb) is a loopback http URI", "run the bridge with --device-code: the server offers the device grant"},
			}, []string{"oauth.device"}},
		{"web-only client, no device grant", oauthRoutes(nil), Options{Client: webOnly}, false, []check{
			{"oauth.client-id", Fail, "and the server offers no device grant", "register the redirect URI " + redirect + " for this client at the server"},
		}, nil},
		{"web-only client with --device-code", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(device)}},
			Options{Client: webOnly, DeviceCode: true}, false, []check{
				{"oauth.client-id", OK, "it signs in with the device grant at", ""},
				{"oauth.device", Skip, "judged with the configured client", ""},
			}, nil},
		{"web-only client with --device-code, no device grant", oauthRoutes(nil), Options{Client: webOnly, DeviceCode: true}, false, []check{
			{"oauth.client-id", Fail, "--device-code is set, but the server offers no device_authorization_endpoint", "register the redirect URI " + redirect},
		}, nil},
		{"--device-code, device grant offered", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(device)}},
			Options{DeviceCode: true}, false, []check{
				{"oauth.device", OK, "the server offers the device grant at", ""},
			}, nil},
		{"--device-code, no device grant", oauthRoutes(nil), Options{DeviceCode: true}, false, []check{
			{"oauth.device", Fail, "the server offers no device_authorization_endpoint", "drop --device-code to sign in with a browser"},
		}, nil},
		{"no --device-code", oauthRoutes(nil), Options{}, false, nil, []string{"oauth.device", "oauth.client-metadata"}},
		{"metadata document", document(`{"client_id":"{{URL}}/client.json","redirect_uris":["` + redirect + `"],"token_endpoint_auth_method":"none"}`),
			Options{RegisterProbe: true}, true, []check{
				{"oauth.client-id", OK, "client ID metadata documents: the bridge uses", ""},
				{"oauth.register", Skip, "registers none", ""},
				{"oauth.client-metadata", OK, "names itself as client_id and lists " + redirect, ""},
			}, nil},
		{"metadata document listing the loopback URI without a port", document(`{"client_id":"{{URL}}/client.json","redirect_uris":["http://127.0.0.1/oauth/callback"]}`),
			Options{}, true, []check{{"oauth.client-metadata", OK, "names itself as client_id", ""}}, nil},
		{"metadata document of another client_id", document(`{"client_id":"https://other.example/client.json","redirect_uris":["` + redirect + `"]}`),
			Options{}, true, []check{{"oauth.client-metadata", Fail, `says client_id "https://other.example/client.json"`, "set client_id in the document to"}}, nil},
		{"metadata document without the redirect URI", document(`{"client_id":"{{URL}}/client.json","redirect_uris":["http://127.0.0.1:9999/cb"]}`),
			Options{}, true, []check{{"oauth.client-metadata", Fail, "do not include " + redirect, "add " + redirect + " to the document's redirect_uris"}}, nil},
		{"metadata document with a secret method", document(`{"client_id":"{{URL}}/client.json","redirect_uris":["` + redirect + `"],"token_endpoint_auth_method":"client_secret_basic"}`),
			Options{}, true, []check{{"oauth.client-metadata", Warn, "token_endpoint_auth_method client_secret_basic", "set token_endpoint_auth_method in the document to none"}}, nil},
		{"metadata document missing", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(cimd)}},
			Options{}, true, []check{{"oauth.client-metadata", Fail, "answered HTTP 404", "serve the client's metadata document as JSON at"}}, nil},
		{"metadata document not JSON", document(`<html>hello</html>`),
			Options{}, true, []check{{"oauth.client-metadata", Fail, "is not a JSON object of client metadata", "serve the client's metadata document"}}, nil},
		{"metadata document, server without them", oauthRoutes(nil), Options{}, true, []check{
			{"oauth.client-id", OK, "--client-metadata-url is not used, since the server does not support client ID metadata documents", ""},
		}, []string{"oauth.client-metadata"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, oauthRoutes(c.routes))
			opts := c.opts
			opts.URL, opts.Callback = srv.URL+"/mcp", cb
			if c.doc {
				opts.ClientMetadataURL = srv.URL + "/client.json"
			}
			rep := run(t, opts)
			for _, ch := range c.checks {
				want(t, rep, ch.id, ch.st, ch.detail, ch.fix)
			}
			for _, id := range c.absent {
				if got := rep.Find(id); got != nil {
					t.Errorf("%s reported: %+v", id, *got)
				}
			}
		})
	}
}
