package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServeURL(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"default", nil, nil, config.DefaultURL, ""},
		{"env", nil, map[string]string{config.EnvURL: "https://x.example/mcp"}, "https://x.example/mcp", ""},
		{"empty env (an MCP Bundle's cleared setting)", nil, map[string]string{config.EnvURL: ""}, config.DefaultURL, ""},
		{"argument beats env", []string{"https://a.example/mcp"}, map[string]string{config.EnvURL: "https://x.example/mcp"}, "https://a.example/mcp", ""},
		{"loopback http", []string{"http://127.0.0.1:8080/mcp"}, nil, "http://127.0.0.1:8080/mcp", ""},
		{"localhost http", []string{"http://localhost:8080/mcp"}, nil, "http://localhost:8080/mcp", ""},
		{"ipv6 loopback", []string{"http://[::1]:8080/mcp"}, nil, "http://[::1]:8080/mcp", ""},
		{"remote http refused", []string{"http://mcp.example.com/mcp"}, nil, "", "refusing plain http"},
		{"remote http allowed", []string{"--allow-http", "http://mcp.example.com/mcp"}, nil, "http://mcp.example.com/mcp", ""},
		{"flags after the URL", []string{"http://mcp.example.com/mcp", "--allow-http", "--debug"}, nil, "http://mcp.example.com/mcp", ""},
		{"not a URL", []string{"mcp.example.com"}, nil, "", "not an http(s) URL"},
		{"other scheme", []string{"file:///etc/passwd"}, nil, "", "not an http(s) URL"},
		{"two URLs", []string{"https://a.example", "https://b.example"}, nil, "", "not a callback port"},
		{"three positionals", []string{"https://a.example", "3334", "x"}, nil, "", "at most a callback port"},
		{"bad transport", []string{"--transport", "ws"}, nil, "", "unknown transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{config.EnvConfigDir: t.TempDir()}
			for k, v := range tt.env {
				e[k] = v
			}
			cfg, err := parseServe(tt.args, env(e), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.URL.String() != tt.want {
				t.Errorf("URL = %s, want %s", cfg.URL, tt.want)
			}
		})
	}
}

func TestParseServeDefaults(t *testing.T) {
	cfg, err := parseServe([]string{"--transport", "sse-only", "--debug"}, env(map[string]string{config.EnvConfigDir: "/tmp/x"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != remote.SSEOnly || !cfg.Debug || cfg.ConfigDir != "/tmp/x" {
		t.Errorf("got %+v", cfg)
	}
	cfg, _ = parseServe(nil, env(map[string]string{config.EnvConfigDir: "/tmp/x"}), io.Discard)
	if cfg.Mode != remote.HTTPFirst {
		t.Errorf("default transport = %s", cfg.Mode)
	}
}

func TestHeaders(t *testing.T) {
	file := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(file, []byte("# a comment\n\nX-Tenant: ${TENANT}\nX-Trace: on\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"TOKEN": "abc123", "TENANT": "acme"})
	h, err := buildHeaders([]string{"Authorization: Bearer ${TOKEN}", "X-Multi: 1", "X-Multi: 2"}, file, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Authorization") != "Bearer abc123" || h.Get("X-Tenant") != "acme" || h.Get("X-Trace") != "on" || len(h.Values("X-Multi")) != 2 {
		t.Errorf("headers = %v", h)
	}
	bad := []struct{ in, want string }{
		{"NoColon", "expected"},
		{"Bad Name: x", "expected"},
		{"X-Key: ${MISSING}", "${MISSING} not set"},
	}
	for _, b := range bad {
		_, err := buildHeaders([]string{b.in}, "", getenv)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: err = %v, want %q", b.in, err, b.want)
		}
	}
	if _, err := buildHeaders(nil, "/nonexistent/file", getenv); err == nil {
		t.Error("a missing header file must be an error")
	}
}

func TestHeaderErrorHidesValue(t *testing.T) {
	_, err := buildHeaders([]string{"Authorization Bearer sk-very-secret"}, "", env(nil))
	if err == nil || strings.Contains(err.Error(), "sk-very-secret") {
		t.Fatalf("error must not echo a header value: %v", err)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out strings.Builder
		code := Main(Env{Args: args, Getenv: env(nil), Stdout: &out, Stderr: io.Discard})
		if code != 0 || out.String() != "meshai-mcp-server "+Version+"\n" {
			t.Errorf("%v: code %d, out %q", args, code, out.String())
		}
	}
}

func TestBadFlagExitCode(t *testing.T) {
	var errOut strings.Builder
	code := Main(Env{Args: []string{"--no-such-flag"}, Getenv: env(nil), Stdout: io.Discard, Stderr: &errOut})
	if code != 2 || !strings.Contains(errOut.String(), "no-such-flag") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}

func TestStaticClientInfo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(file, []byte(`{"client_id":"file-id","client_secret":"${SECRET}"}`), 0o600)
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir(), "SECRET": "s3"})
	for _, tc := range []struct{ arg, id, secret string }{
		{`{"client_id":"inline"}`, "inline", ""},
		{"@" + file, "file-id", "s3"},
	} {
		cfg, err := parseServe([]string{"--static-oauth-client-info", tc.arg}, getenv, io.Discard)
		if err != nil || cfg.ClientID != tc.id || cfg.ClientSecret != tc.secret {
			t.Errorf("%s: %+v %v", tc.arg, cfg, err)
		}
	}
	if _, err := parseServe([]string{"--static-oauth-client-info", `{"nope":1}`}, getenv, io.Discard); err == nil {
		t.Error("client info without client_id must be refused")
	}
}
