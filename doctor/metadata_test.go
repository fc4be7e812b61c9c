package doctor

import (
	"strings"
	"testing"
)

func TestMetadata(t *testing.T) {
	plain401 := route{401, map[string]string{"WWW-Authenticate": `Bearer scope="read"`}, ""}
	for _, c := range []struct {
		name        string
		overrides   map[string]route
		id          string
		st          Status
		detail, fix string
	}{
		{"root PRM only", map[string]route{"POST /mcp": plain401,
			"/.well-known/oauth-protected-resource/mcp": {404, nil, ""},
			"/.well-known/oauth-protected-resource":     {200, nil, `{"resource":"{{URL}}","authorization_servers":["{{URL}}"]}`}},
			"oauth.prm", OK, "(root well-known URI)", ""},
		{"path-aware PRM", map[string]route{"POST /mcp": plain401}, "oauth.prm", OK, "(path-aware well-known URI)", ""},
		{"PRM for another resource", map[string]route{"/.well-known/oauth-protected-resource/mcp": {200, nil, `{"resource":"https://elsewhere.example/mcp","authorization_servers":["{{URL}}"]}`}},
			"oauth.prm", Fail, "is for resource", "must name this MCP endpoint"},
		{"PRM without authorization servers", map[string]route{"/.well-known/oauth-protected-resource/mcp": {200, nil, `{"resource":"{{URL}}/mcp"}`}},
			"oauth.prm", Fail, "lists no authorization_servers", "must fix the protected resource metadata"},
		{"nothing published", map[string]route{"POST /mcp": plain401, "/.well-known/oauth-protected-resource/mcp": {404, nil, ""},
			"/.well-known/oauth-authorization-server": {404, nil, ""}},
			"oauth.prm", Fail, "publishes no protected resource metadata", "must publish RFC 9728 metadata at {{URL}}"},
		{"several authorization servers", map[string]route{"/.well-known/oauth-protected-resource/mcp": {200, nil, `{"resource":"{{URL}}/mcp","authorization_servers":["{{URL}}","https://other.example"]}`}},
			"oauth.as", OK, "names 2 authorization servers", ""},
		{"OpenID discovery", map[string]route{"/.well-known/oauth-authorization-server": {404, nil, ""}, "/.well-known/openid-configuration": {200, nil, asMetadata(nil)}},
			"oauth.as", OK, "(OpenID discovery)", ""},
		{"metadata server error", map[string]route{"/.well-known/oauth-authorization-server": {500, nil, "oops"}},
			"oauth.as", Fail, "answered HTTP 500", "must fix the authorization server metadata"},
		{"http token endpoint", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(map[string]any{"token_endpoint": "http://auth.example.com/token"})}},
			"oauth.endpoints", Fail, "unusable token_endpoint", "must be an https URL"},
		{"client ID metadata documents only", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(map[string]any{"registration_endpoint": nil, "client_id_metadata_document_supported": true})}},
			"oauth.client-id", Warn, "client ID metadata documents only", "offer RFC 7591 dynamic registration"},
		{"both registrations", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(map[string]any{"client_id_metadata_document_supported": true})}},
			"oauth.client-id", OK, "and client ID metadata documents", ""},
		{"auth methods absent", map[string]route{"/.well-known/oauth-authorization-server": {200, nil, asMetadata(map[string]any{"token_endpoint_auth_methods_supported": nil})}},
			"oauth.auth-none", Warn, "absent (RFC 8414 default: client_secret_basic)", `add "none"`},
		{"registration issues a secret", map[string]route{"POST /register": {201, nil, `{"client_id":"c","client_secret":"s3cr3t-value","redirect_uris":[]}`}},
			"oauth.register", Warn, "issued a client secret", `honour token_endpoint_auth_method "none"`},
		{"registration broken", map[string]route{"POST /register": {500, map[string]string{"Content-Type": "text/html"}, "<html>error</html>"}},
			"oauth.register", Fail, "answered HTTP 500", "must fix dynamic registration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, oauthRoutes(c.overrides))
			rep := run(t, Options{URL: srv.URL + "/mcp", RegisterProbe: true})
			want(t, rep, c.id, c.st, strings.ReplaceAll(c.detail, "{{URL}}", srv.URL), strings.ReplaceAll(c.fix, "{{URL}}", srv.URL))
			if c.name == "registration issues a secret" && strings.Contains(dump(rep), "s3cr3t-value") {
				t.Error("the client secret shows")
			}
		})
	}
}
