package devserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// faultAnswer is what one request got from a faulty server.
type faultAnswer struct {
	status int
	header http.Header
	body   string
}

func faultRequest(t *testing.T, method, url, body string) faultAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return faultAnswer{resp.StatusCode, resp.Header, string(b)}
}

// asMetadataOf fetches the authorization server metadata as a map.
func asMetadataOf(t *testing.T, base string) map[string]any {
	t.Helper()
	a := faultRequest(t, http.MethodGet, base+asMetadataPath, "")
	var md map[string]any
	if err := json.Unmarshal([]byte(a.body), &md); err != nil {
		t.Fatalf("metadata: %d %q", a.status, a.body)
	}
	return md
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func TestFaults(t *testing.T) {
	for _, c := range []struct {
		fault Fault
		check func(t *testing.T, base string)
	}{
		{FaultNoPRM, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodGet, base+prmPath+mcpPath, ""); a.status != 404 {
				t.Errorf("PRM: %d", a.status)
			}
			a := faultRequest(t, http.MethodPost, base+mcpPath, initializeBody)
			if ch := a.header.Get("WWW-Authenticate"); a.status != 401 || !strings.HasPrefix(ch, "Bearer ") || strings.Contains(ch, "resource_metadata") {
				t.Errorf("challenge: %d %q", a.status, ch)
			}
		}},
		{FaultPRMHTML, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodGet, base+prmPath, ""); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
				t.Errorf("PRM: %d %q", a.status, a.header.Get("Content-Type"))
			}
		}},
		{FaultNoASMetadata, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodGet, base+asMetadataPath, ""); a.status != 404 {
				t.Errorf("AS metadata: %d", a.status)
			}
		}},
		{FaultASHTML, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodGet, base+asMetadataPath, ""); !strings.HasPrefix(a.body, "<!doctype html>") {
				t.Errorf("AS metadata: %q", a.body)
			}
		}},
		{FaultBadIssuer, func(t *testing.T, base string) {
			if md := asMetadataOf(t, base); md["issuer"] != base+"/" {
				t.Errorf("issuer %v", md["issuer"])
			}
		}},
		{FaultNoS256, func(t *testing.T, base string) {
			if md := asMetadataOf(t, base); !sameJSON(md["code_challenge_methods_supported"], []any{"plain"}) {
				t.Errorf("methods %v", md["code_challenge_methods_supported"])
			}
		}},
		{FaultNoPKCE, func(t *testing.T, base string) { absent(t, asMetadataOf(t, base), "code_challenge_methods_supported") }},
		{FaultNoRegistration, func(t *testing.T, base string) {
			absent(t, asMetadataOf(t, base), "registration_endpoint")
			if a := faultRequest(t, http.MethodPost, base+registerPath, `{}`); a.status != 404 {
				t.Errorf("register: %d", a.status)
			}
		}},
		{FaultNoNoneAuth, func(t *testing.T, base string) {
			if m := asMetadataOf(t, base)["token_endpoint_auth_methods_supported"]; sameJSON(m, authMethods) || strings.Contains(jsonOf(m), `"none"`) {
				t.Errorf("auth methods %v", m)
			}
		}},
		{FaultNoIss, func(t *testing.T, base string) {
			absent(t, asMetadataOf(t, base), "authorization_response_iss_parameter_supported")
		}},
		{FaultNoRevocation, func(t *testing.T, base string) { absent(t, asMetadataOf(t, base), "revocation_endpoint") }},
		{FaultBotChallenge, func(t *testing.T, base string) {
			a := faultRequest(t, http.MethodPost, base+mcpPath, initializeBody)
			if a.status != 403 || a.header.Get("Cf-Mitigated") != "challenge" || a.header.Get("Server") != "cloudflare" || !strings.Contains(a.body, "Just a moment...") {
				t.Errorf("got %d %v %q", a.status, a.header, a.body)
			}
		}},
		{FaultHTML401, func(t *testing.T, base string) {
			a := faultRequest(t, http.MethodPost, base+mcpPath, initializeBody)
			if a.status != 401 || a.header.Get("WWW-Authenticate") != "" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
				t.Errorf("got %d %v", a.status, a.header)
			}
		}},
		{FaultNoWWWAuthenticate, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodPost, base+mcpPath, initializeBody); a.status != 401 || a.header.Get("WWW-Authenticate") != "" {
				t.Errorf("got %d %v", a.status, a.header)
			}
		}},
		{FaultMCP404, func(t *testing.T, base string) {
			if a := faultRequest(t, http.MethodPost, base+mcpPath, initializeBody); a.status != 404 {
				t.Errorf("/v1/mcp: %d", a.status)
			}
			if a := faultRequest(t, http.MethodPost, base+"/mcp", initializeBody); a.status != 401 || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("/mcp: %d %v", a.status, a.header)
			}
		}},
		{FaultRegistrationRejectsRedirect, func(t *testing.T, base string) {
			a := faultRequest(t, http.MethodPost, base+registerPath, `{"redirect_uris":["http://127.0.0.1:3000/callback"],"token_endpoint_auth_method":"none"}`)
			if a.status != 400 || !strings.Contains(a.body, "invalid_redirect_uri") {
				t.Errorf("loopback: %d %q", a.status, a.body)
			}
			a = faultRequest(t, http.MethodPost, base+registerPath, `{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none"}`)
			if a.status != 201 {
				t.Errorf("https: %d %q", a.status, a.body)
			}
		}},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			r := startOAuth(t, Config{Faults: []Fault{c.fault}})
			c.check(t, r.URL)
		})
	}
}

func TestFaultsLeaveTheRestAlone(t *testing.T) {
	r := startOAuth(t, Config{Faults: []Fault{FaultNoIss}})
	if a := faultRequest(t, http.MethodGet, r.URL+prmPath+mcpPath, ""); a.status != 200 || !strings.Contains(a.body, "authorization_servers") {
		t.Errorf("PRM: %d %q", a.status, a.body)
	}
	if md := asMetadataOf(t, r.URL); md["issuer"] != r.URL || md["registration_endpoint"] == nil {
		t.Errorf("metadata %v", md)
	}
}

func TestParseFault(t *testing.T) {
	if f, err := ParseFault(" bot-challenge "); err != nil || f != FaultBotChallenge {
		t.Errorf("ParseFault = %q, %v", f, err)
	}
	if _, err := ParseFault("nope"); err == nil || !strings.Contains(err.Error(), "no-prm") {
		t.Errorf("ParseFault(nope) = %v", err)
	}
}

func absent(t *testing.T, md map[string]any, key string) {
	t.Helper()
	if _, ok := md[key]; ok {
		t.Errorf("%s present: %v", key, md[key])
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func sameJSON(a, b any) bool { return jsonOf(a) == jsonOf(b) }
