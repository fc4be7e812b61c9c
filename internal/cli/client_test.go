package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// A client.json (--static-oauth-client-info) sets the client, its token endpoint auth method and, from its
// loopback redirect URI, the callback's host, port and path; flags given explicitly win.
func TestClientJSON(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+strings.Repeat("x", len(body)%7)+".json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return "@" + p
	}
	sigil := `{"client_id":"sigil","client_secret":"${SIGIL_SECRET}","redirect_uris":["https://app.example/cb","http://localhost:8080/oauth/callback"],` +
		`"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code","refresh_token"],"client_name":"Sigil"}`
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir(), "SIGIL_SECRET": "s3cret"})
	tests := []struct {
		name  string
		args  []string
		check func(Config) bool
	}{
		{"everything from the file", []string{"--static-oauth-client-info", file(sigil)}, func(c Config) bool {
			return c.ClientID == "sigil" && c.ClientSecret == "s3cret" && c.ClientAuthMethod == oauth.AuthPost &&
				c.CallbackHost == "localhost" && c.CallbackPort == 8080 && c.CallbackPath == "/oauth/callback"
		}},
		{"inline JSON", []string{"--static-oauth-client-info", sigil}, func(c Config) bool { return c.CallbackPort == 8080 && c.ClientSecret == "s3cret" }},
		{"explicit flags win, before or after", []string{"--callback-port", "9000", "--static-oauth-client-info", file(sigil), "--host", "127.0.0.1"}, func(c Config) bool {
			return c.CallbackHost == "127.0.0.1" && c.CallbackPort == 9000 && c.CallbackPath == "/oauth/callback"
		}},
		{"the positional port wins", []string{"--static-oauth-client-info", file(sigil), "https://a.example/mcp", "7777"}, func(c Config) bool { return c.CallbackPort == 7777 }},
		{"a redirect without a port leaves the port to the sign-in", []string{"--static-oauth-client-info", `{"client_id":"a","redirect_uris":["http://127.0.0.1/cb"]}`}, func(c Config) bool {
			return c.CallbackPort == 0 && c.CallbackHost == "127.0.0.1" && c.CallbackPath == "/cb" && c.ClientAuthMethod == ""
		}},
		{"IPv6 loopback", []string{"--static-oauth-client-info", `{"client_id":"a","redirect_uris":["http://[::1]:5000/x"]}`}, func(c Config) bool {
			return c.CallbackHost == "::1" && c.CallbackPort == 5000 && c.CallbackPath == "/x"
		}},
		{"no redirect_uris: the defaults", []string{"--static-oauth-client-info", `{"client_id":"a","client_secret":"b"}`}, func(c Config) bool {
			return c.CallbackHost == "127.0.0.1" && c.CallbackPort == 0 && c.CallbackPath == "/callback" && c.ClientAuthMethod == ""
		}},
		{"web-only redirects with the device grant", []string{"--device-code", "--static-oauth-client-info", `{"client_id":"a","redirect_uris":["https://x.example/cb"]}`}, func(c Config) bool {
			return c.ClientID == "a" && c.CallbackPort == 0
		}},
		{"public client", []string{"--static-oauth-client-info", `{"client_id":"a","token_endpoint_auth_method":"none"}`}, func(c Config) bool { return c.ClientAuthMethod == oauth.AuthNone }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServe(tt.args, getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("%v parsed to %+v", tt.args, cfg)
			}
		})
	}
}

func TestClientJSONErrors(t *testing.T) {
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir()})
	tests := []struct {
		info, want string
	}{
		{`{"client_secret":"x"}`, `expected {"client_id"`},
		{`{"client_id":"a","client_secret":"x","token_endpoint_auth_method":"private_key_jwt"}`, "not supported: use none, client_secret_basic or client_secret_post"},
		{`{"client_id":"a","client_secret":"x","token_endpoint_auth_method":"none"}`, "none goes with no client_secret"},
		{`{"client_id":"a","token_endpoint_auth_method":"client_secret_post"}`, "client_secret_post needs the client_secret"},
		{`{"client_id":"a","redirect_uris":["https://app.example/cb","http://evil.example:80/cb"]}`, "none of its redirect_uris (https://app.example/cb, http://evil.example:80/cb) is a loopback http URI"},
	}
	for _, tt := range tests {
		_, err := parseServe([]string{"--static-oauth-client-info", tt.info}, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.info, err, tt.want)
		}
	}
}

// --authorization-url and --token-url set the endpoints by hand; --registration-url only with them.
func TestManualEndpoints(t *testing.T) {
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir()})
	ok := []string{"--authorization-url", "https://as.example/authorize", "--token-url", "https://as.example/token", "--registration-url", "https://as.example/register"}
	cfg, err := parseServe(ok, getenv, io.Discard)
	if err != nil || cfg.AuthorizationURL != ok[1] || cfg.TokenURL != ok[3] || cfg.RegistrationURL != ok[5] {
		t.Fatalf("%+v, %v", cfg, err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--authorization-url", "https://as.example/a"}, "--authorization-url and --token-url go together"},
		{[]string{"--registration-url", "https://as.example/r"}, "go together"},
		{[]string{"--authorization-url", "http://as.example/a", "--token-url", "https://as.example/t"}, "--authorization-url: \"http://as.example/a\" uses plain http"},
		{[]string{"--authorization-url", "https://as.example/a", "--token-url", "https://as.example/t#x"}, "--token-url"},
	}
	for _, tt := range tests {
		_, err := parseServe(tt.args, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// --scope replaces the choice; MeshAI's own hosts prefer its documented scopes; the rule is the same for doctor.
func TestScopeFlagAndRule(t *testing.T) {
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir()})
	tests := []struct {
		args          []string
		wantFixed     []string
		wantPreferred []string
	}{
		{nil, nil, config.MeshAIScopes}, // the default URL is MeshAI's
		{[]string{"https://eu.meshai.dev/v1/mcp"}, nil, config.MeshAIScopes},
		{[]string{"https://mcp.example.com/mcp"}, nil, nil},
		{[]string{"--scope", " mcp:read  mcp:manage mcp:read ", "https://mcp.example.com/mcp"}, []string{"mcp:read", "mcp:manage"}, nil},
	}
	for _, tt := range tests {
		cfg, err := parseServe(tt.args, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		r := scopeRule(cfg)
		if !slices.Equal(r.Fixed, tt.wantFixed) || !slices.Equal(r.Preferred, tt.wantPreferred) {
			t.Errorf("%v: rule %+v", tt.args, r)
		}
	}
	for _, bad := range []string{"", "   ", `a"b`} {
		if _, err := parseServe([]string{"--scope", bad}, getenv, io.Discard); err == nil {
			t.Errorf("--scope %q accepted", bad)
		}
	}
}
