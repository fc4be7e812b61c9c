package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// canned answers every request with the same status and body, without a network.
type canned struct {
	status int
	ctype  string
	body   []byte
}

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {c.ctype}}, Request: r,
		Body: io.NopCloser(bytes.NewReader(c.body))}, nil
}

// FuzzServerDocuments gives every document decoder the same hostile body — PRM, AS metadata, a registration
// answer, token and device answers — as JSON or HTML, with a success or an error status. Properties: no panic;
// what is accepted is valid (endpoints pass ValidateEndpointURL, issuer and resource checks hold); no error text
// repeats a token or secret value the body carried.
func FuzzServerDocuments(f *testing.F) {
	for _, s := range []string{
		`{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as.example.com"]}`,
		`{"issuer":"https://as.example.com","authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://as.example.com/t","code_challenge_methods_supported":["S256"]}`,
		`{"issuer":"https://as.example.com","authorization_endpoint":"https://as.example.com/a","token_endpoint":"file:///etc/passwd","response_types_supported":["code"]}`,
		`{"client_id":"c1","client_secret":"s3cr3t-value-123","token_endpoint_auth_method":"client_secret_basic"}`,
		`{"access_token":"at-secret-0123456789","token_type":"Bearer","expires_in":"soon","refresh_token":"rt-secret-0123456789"}`,
		`{"error":"invalid_grant","error_description":"refresh token rt-secret-0123456789 revoked"}`,
		`{"device_code":"dc-secret-0123456789","user_code":"ABCD-EFGH","verification_uri":"https://as.example.com/d","expires_in":600,"interval":5}`,
		`<html><title>Just a moment...</title></html>`, `[]`, `null`, `{"issuer":1}`, "\xff",
	} {
		f.Add([]byte(s), true, false)
	}
	server, _ := url.Parse("https://mcp.example.com/mcp")
	f.Fuzz(func(t *testing.T, body []byte, ok, html bool) {
		c := canned{status: 200, ctype: "application/json", body: body}
		if !ok {
			c.status = 400
		}
		if html {
			c.ctype = "text/html"
		}
		hc := &http.Client{Transport: c}
		ctx := context.Background()
		secrets := secretValues(body)
		check := func(what string, err error) {
			if err == nil {
				return
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("%s: error repeats a secret from the body: %v", what, err)
				}
			}
		}
		prm, err := DiscoverResource(ctx, hc, server, nil)
		check("PRM", err)
		if err == nil {
			if !resourceCovers(prm.Resource, server) || len(prm.AuthorizationServers) == 0 {
				t.Fatalf("accepted PRM %+v", prm)
			}
		}
		meta, err := DiscoverServer(ctx, hc, "https://as.example.com", false)
		check("AS metadata", err)
		if err == nil {
			if meta.Issuer != "https://as.example.com" {
				t.Fatalf("accepted issuer %q", meta.Issuer)
			}
			for _, e := range []string{meta.AuthorizationEndpoint, meta.TokenEndpoint, meta.RegistrationEndpoint, meta.DeviceAuthorizationEndpoint} {
				if e != "" {
					if _, verr := ValidateEndpointURL(e); verr != nil {
						t.Fatalf("accepted endpoint %q: %v", e, verr)
					}
				}
			}
		}
		dc, err := RegisterClient(ctx, hc, "https://as.example.com/register", NativeClient("http://127.0.0.1:1/callback", "", "test"))
		check("registration", err)
		if err == nil && dc.ClientID == "" {
			t.Fatal("accepted a registration without client_id")
		}
		tc := &TokenClient{TokenURL: "https://as.example.com/token", ClientID: "c", HTTP: hc}
		tok, err := tc.Refresh(ctx, "rt-old")
		check("refresh", err)
		if err == nil && tok.AccessToken == "" {
			t.Fatal("accepted a token answer without access_token")
		}
		_, err = tc.Exchange(ctx, "code", "verifier", "http://127.0.0.1:1/callback")
		check("exchange", err)
		d, err := tc.DeviceAuthorize(ctx, "https://as.example.com/device", nil, "")
		check("device", err)
		if err == nil {
			if _, verr := ValidateEndpointURL(d.VerificationURI); verr != nil {
				t.Fatalf("accepted verification URI %q", d.VerificationURI)
			}
		}
	})
}

// testURLs are the URLs the fuzz test asks for, which an error may name.
const testURLs = "https://as.example.com/.well-known/oauth-authorization-server https://as.example.com/.well-known/openid-configuration " +
	"https://mcp.example.com/.well-known/oauth-protected-resource/mcp https://as.example.com/register https://as.example.com/token " +
	"https://as.example.com/device http://127.0.0.1:1/callback"

// secretValues collects, from a JSON body, the values of fields that are secrets, when long enough to matter.
func secretValues(body []byte) []string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"access_token", "refresh_token", "client_secret", "device_code", "id_token"} {
		// Values that are part of what the test itself asked for (its URLs) are not secrets the server revealed.
		if s, ok := m[k].(string); ok && len(s) >= 8 && !strings.Contains(testURLs, s) {
			out = append(out, s)
		}
	}
	return out
}
