package oauth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	asWK   = "/.well-known/oauth-authorization-server"
	oidcWK = "/.well-known/openid-configuration"
)

// asDoc is a complete metadata document for issuer (with "{base}").
func asDoc(issuer string) string {
	return `{"issuer":"` + issuer + `","authorization_endpoint":"{base}/authorize","token_endpoint":"{base}/token",
		"registration_endpoint":"{base}/register","revocation_endpoint":"{base}/revoke","introspection_endpoint":"{base}/introspect",
		"userinfo_endpoint":"{base}/userinfo","scopes_supported":["openid","offline_access"],"response_types_supported":["code"],
		"grant_types_supported":["authorization_code","refresh_token"],"code_challenge_methods_supported":["S256"],
		"token_endpoint_auth_methods_supported":["none","client_secret_basic"],"client_id_metadata_document_supported":true,
		"authorization_response_iss_parameter_supported":true,"jwks_uri":"{base}/jwks","extra":{"nested":[1,2]}}`
}

func TestDiscoverServer(t *testing.T) {
	tests := []struct {
		name      string
		docs      map[string]doc
		issuer    string // "{base}" replaced
		wantPaths []string
		wantErr   string
		noMeta    bool
	}{
		{name: "path issuer: RFC 8414 path insertion first (metadata-var2)",
			docs: map[string]doc{asWK + "/tenant1": {body: asDoc("{base}/tenant1")}, asWK: {body: asDoc("{base}")}}, issuer: "{base}/tenant1",
			wantPaths: []string{asWK + "/tenant1"}},
		{name: "path issuer: OIDC path insertion second",
			docs: map[string]doc{oidcWK + "/tenant1": {body: asDoc("{base}/tenant1")}}, issuer: "{base}/tenant1",
			wantPaths: []string{asWK + "/tenant1", oidcWK + "/tenant1"}},
		{name: "path issuer: OIDC path appending last, root never requested (metadata-var3)",
			docs: map[string]doc{"/tenant1" + oidcWK: {body: asDoc("{base}/tenant1")}, asWK: {body: asDoc("{base}")}, oidcWK: {body: asDoc("{base}")}}, issuer: "{base}/tenant1",
			wantPaths: []string{asWK + "/tenant1", oidcWK + "/tenant1", "/tenant1" + oidcWK}},
		{name: "path issuer with a trailing slash",
			docs: map[string]doc{asWK + "/tenant1": {body: asDoc("{base}/tenant1/")}}, issuer: "{base}/tenant1/",
			wantPaths: []string{asWK + "/tenant1"}},
		{name: "path issuer without metadata: never the root",
			docs: map[string]doc{asWK: {body: asDoc("{base}")}, oidcWK: {body: asDoc("{base}")}}, issuer: "{base}/tenant1",
			wantPaths: []string{asWK + "/tenant1", oidcWK + "/tenant1", "/tenant1" + oidcWK}, wantErr: "publishes no metadata", noMeta: true},
		{name: "root issuer: RFC 8414 first (metadata-default)",
			docs: map[string]doc{asWK: {body: asDoc("{base}")}, oidcWK: {body: asDoc("{base}")}}, issuer: "{base}",
			wantPaths: []string{asWK}},
		{name: "root issuer: OIDC second (metadata-var1)",
			docs: map[string]doc{oidcWK: {body: asDoc("{base}")}}, issuer: "{base}",
			wantPaths: []string{asWK, oidcWK}},
		{name: "root issuer without metadata",
			docs: map[string]doc{}, issuer: "{base}",
			wantPaths: []string{asWK, oidcWK}, wantErr: "publishes no metadata", noMeta: true},
		{name: "issuer must be identical",
			docs: map[string]doc{asWK: {body: asDoc("{base}/")}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "refusing to use it"},
		{name: "issuer of another server",
			docs: map[string]doc{asWK + "/tenant1": {body: asDoc("https://evil.example.com/tenant1")}}, issuer: "{base}/tenant1",
			wantPaths: []string{asWK + "/tenant1"}, wantErr: `"https://evil.example.com/tenant1"`},
		{name: "javascript: authorization endpoint",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"javascript:alert(1)","token_endpoint":"{base}/token"}`}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "unusable authorization_endpoint"},
		{name: "shell text in the authorization endpoint",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"https://x\"; rm -rf ~","token_endpoint":"{base}/token"}`}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "unusable authorization_endpoint"},
		{name: "plain-http token endpoint on another host",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"{base}/a","token_endpoint":"http://as.example.com/token"}`}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "unusable token_endpoint"},
		{name: "file: registration endpoint",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"{base}/a","token_endpoint":"{base}/t","registration_endpoint":"file:///etc/passwd"}`}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "unusable registration_endpoint"},
		{name: "no token endpoint",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"{base}/a"}`}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "has no token_endpoint"},
		{name: "HTML login page",
			docs: map[string]doc{asWK: {body: "<html>please log in</html>", contentType: "text/html; charset=utf-8"}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "answered with an HTML page, not JSON: a login page or bot protection"},
		{name: "server error stops discovery",
			docs: map[string]doc{asWK: {status: 503, body: "{}"}, oidcWK: {body: asDoc("{base}")}}, issuer: "{base}",
			wantPaths: []string{asWK}, wantErr: "HTTP 503"},
		{name: "plain-http issuer on another host is never fetched",
			docs: map[string]doc{}, issuer: "http://as.example.com",
			wantPaths: nil, wantErr: "only https"},
		{name: "issuer with a query",
			docs: map[string]doc{}, issuer: "{base}?x=1",
			wantPaths: nil, wantErr: "has a query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDocServer(t, tt.docs)
			issuer := strings.ReplaceAll(tt.issuer, "{base}", s.URL)
			md, err := DiscoverServer(context.Background(), s.Client(), issuer, true)
			if got := s.paths(); !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("requested %q, want %q", got, tt.wantPaths)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrNoServerMetadata) != tt.noMeta {
					t.Errorf("errors.Is(err, ErrNoServerMetadata) = %v, want %v", !tt.noMeta, tt.noMeta)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if md.Issuer != issuer || md.MetadataURL != s.URL+tt.wantPaths[len(tt.wantPaths)-1] {
				t.Errorf("got issuer %q from %q", md.Issuer, md.MetadataURL)
			}
		})
	}
}

func TestDiscoverServerFields(t *testing.T) {
	s := newDocServer(t, map[string]doc{asWK: {body: asDoc("{base}")}})
	md, err := DiscoverServer(context.Background(), s.Client(), s.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	b := s.URL
	want := ServerMetadata{
		Issuer: b, AuthorizationEndpoint: b + "/authorize", TokenEndpoint: b + "/token", RegistrationEndpoint: b + "/register",
		RevocationEndpoint: b + "/revoke", IntrospectionEndpoint: b + "/introspect", UserinfoEndpoint: b + "/userinfo",
		ScopesSupported: []string{"openid", "offline_access"}, ResponseTypesSupported: []string{"code"},
		GrantTypesSupported: []string{"authorization_code", "refresh_token"}, CodeChallengeMethodsSupported: []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_basic"}, ClientIDMetadataDocumentSupported: true,
		AuthorizationResponseIssParameterSupported: true, MetadataURL: b + asWK,
	}
	if !reflect.DeepEqual(*md, want) {
		t.Errorf("got  %+v\nwant %+v", *md, want)
	}
}

func TestRequirePKCE(t *testing.T) {
	tests := []struct {
		name    string
		md      ServerMetadata
		wantErr string
	}{
		{"S256", ServerMetadata{CodeChallengeMethodsSupported: []string{"plain", "S256"}}, ""},
		{"absent", ServerMetadata{Issuer: "https://as"}, "does not advertise PKCE (code_challenge_methods_supported): MCP clients must refuse it"},
		{"plain only", ServerMetadata{Issuer: "https://as", CodeChallengeMethodsSupported: []string{"plain"}}, "not S256"},
		{"case matters", ServerMetadata{CodeChallengeMethodsSupported: []string{"s256"}}, "not S256"},
		{"2025-03-26 defaults", ServerMetadata{Defaulted: true}, ""},
	}
	for _, tt := range tests {
		err := tt.md.RequirePKCE()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
