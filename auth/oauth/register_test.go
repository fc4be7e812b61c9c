package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRegisterClient(t *testing.T) {
	var got ClientMetadata
	tests := []struct {
		name, answer, wantMethod, wantErr string
		status                            int
		refusal                           *RegistrationError // the refusal's facts, Endpoint aside
	}{
		{"public", `{"client_id":"c1","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1:20001/callback"]}`, AuthNone, "", 201, nil},
		{"secret, method omitted", `{"client_id":"c2","client_secret":"s"}`, AuthBasic, "", 201, nil},
		{"secret post", `{"client_id":"c3","client_secret":"s","token_endpoint_auth_method":"client_secret_post"}`, AuthPost, "", 201, nil},
		{"bad redirect", `{"error":"invalid_redirect_uri","error_description":"only localhost"}`, "",
			"the authorization server refused to register the bridge: invalid_redirect_uri (only localhost)", 400,
			&RegistrationError{Status: 400, Code: "invalid_redirect_uri", Description: "only localhost", RedirectRefused: true}},
		{"bad metadata", `{"error":"invalid_client_metadata","error_description":"no such scope"}`, "",
			"refused to register the bridge: invalid_client_metadata (no such scope)", 400,
			&RegistrationError{Status: 400, Code: "invalid_client_metadata", Description: "no such scope"}},
		{"no DCR", `not found`, "", "answered HTTP 404 with no OAuth error: the server may not support dynamic registration", 404,
			&RegistrationError{Status: 404}},
		{"other redirect", `{"client_id":"c4","redirect_uris":["https://elsewhere.example/cb"]}`, "", "other redirect URIs", 201, nil},
		{"no id", `{}`, "", "without a client_id", 201, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				json.NewDecoder(r.Body).Decode(&got)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			md := NativeClient("http://127.0.0.1:20001/callback", "mcp:read mcp:execute", "1.0.0")
			dc, err := RegisterClient(context.Background(), nil, srv.URL, md)
			if got.ApplicationType != "native" || got.TokenEndpointAuthMethod != "none" || len(got.GrantTypes) != 2 || got.GrantTypes[1] != "refresh_token" {
				t.Errorf("registered with %+v", got)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var re *RegistrationError
				switch {
				case tt.refusal == nil && errors.As(err, &re):
					t.Errorf("err = %#v: not a refusal", re)
				case tt.refusal != nil && !errors.As(err, &re):
					t.Errorf("err = %v, want a *RegistrationError", err)
				case tt.refusal != nil:
					want := *tt.refusal
					want.Endpoint = srv.URL
					if *re != want {
						t.Errorf("refusal %+v, want %+v", *re, want)
					}
				}
				return
			}
			if err != nil || dc.AuthMethod != tt.wantMethod {
				t.Fatalf("got %+v, %v", dc, err)
			}
		})
	}
}
