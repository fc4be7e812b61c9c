package oauth

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestLegacyServerMetadata(t *testing.T) {
	tests := []struct {
		name      string
		docs      map[string]doc
		wantErr   string
		defaulted bool
		wantPaths []string // nil: only the metadata
	}{
		{name: "metadata at the origin root (2025-03-26-oauth-metadata-backcompat)",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"{base}/oauth/authorize","token_endpoint":"{base}/oauth/token","registration_endpoint":"{base}/oauth/register","code_challenge_methods_supported":["S256"]}`}}},
		{name: "no metadata: default endpoints (2025-03-26-oauth-endpoint-fallback)",
			docs: map[string]doc{"/authorize": {status: 500, body: "no redirect_uri"}}, defaulted: true, wantPaths: []string{asWK, "/authorize"}},
		{name: "no metadata, no /authorize: no OAuth at all",
			docs: map[string]doc{}, wantErr: "offers no OAuth sign-in: no authorization server metadata and no default authorization endpoint ({base}" + asWK + " and {base}/authorize answered 404)",
			wantPaths: []string{asWK, "/authorize"}},
		{name: "another 4xx is not a missing document",
			docs: map[string]doc{asWK: {status: 403, body: "{}"}}, wantErr: "answered HTTP 403"},
		{name: "HTML",
			docs: map[string]doc{asWK: {body: "<html/>", contentType: "text/html"}}, wantErr: "HTML page"},
		{name: "bad endpoint",
			docs: map[string]doc{asWK: {body: `{"issuer":"{base}","authorization_endpoint":"javascript:x","token_endpoint":"{base}/t"}`}}, wantErr: "unusable authorization_endpoint"},
		{name: "no issuer",
			docs: map[string]doc{asWK: {body: `{"authorization_endpoint":"{base}/a","token_endpoint":"{base}/t"}`}}, wantErr: "has no issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDocServer(t, tt.docs)
			md, err := LegacyServerMetadata(context.Background(), s.Client(), mustURL(t, s.URL+"/mcp"))
			wantPaths := tt.wantPaths
			if wantPaths == nil {
				wantPaths = []string{asWK}
			}
			if got := s.paths(); !reflect.DeepEqual(got, wantPaths) {
				t.Errorf("requested %q, want %q (the MCP path discarded)", got, wantPaths)
			}
			if v := s.headers[0].Get("MCP-Protocol-Version"); v != "2025-03-26" {
				t.Errorf("MCP-Protocol-Version = %q", v)
			}
			if tt.wantErr != "" {
				if want := strings.ReplaceAll(tt.wantErr, "{base}", s.URL); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if md.Defaulted != tt.defaulted {
				t.Errorf("Defaulted = %v", md.Defaulted)
			}
			if err := md.RequirePKCE(); err != nil {
				t.Error(err)
			}
			if tt.defaulted {
				want := ServerMetadata{Issuer: s.URL, AuthorizationEndpoint: s.URL + "/authorize", TokenEndpoint: s.URL + "/token", RegistrationEndpoint: s.URL + "/register", Defaulted: true}
				if !reflect.DeepEqual(*md, want) {
					t.Errorf("got %+v", *md)
				}
			} else if md.AuthorizationEndpoint != s.URL+"/oauth/authorize" || md.MetadataURL != s.URL+asWK {
				t.Errorf("got %+v", *md)
			}
		})
	}
}
