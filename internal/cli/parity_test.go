package cli

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// mcp-remote's command line parses to the same settings, so users switch by changing one word.
func TestMcpRemoteFlags(t *testing.T) {
	meta := filepath.Join(t.TempDir(), "meta.json")
	os.WriteFile(meta, []byte(`{"client_name":"${TEAM} bridge","logo_uri":"https://x.example/l.png"}`), 0o600)
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir(), "TEAM": "acme"})
	tests := []struct {
		name  string
		args  []string
		check func(Config) bool
	}{
		{"url then callback port", []string{"https://a.example/mcp", "3334"}, func(c Config) bool { return c.CallbackPort == 3334 && c.URL.Host == "a.example" }},
		{"auth-timeout in seconds", []string{"--auth-timeout", "60"}, func(c Config) bool { return c.AuthTimeout == time.Minute }},
		{"auth-timeout as a duration", []string{"--auth-timeout", "90s"}, func(c Config) bool { return c.AuthTimeout == 90*time.Second }},
		{"auth-timeout default", nil, func(c Config) bool { return c.AuthTimeout == 5*time.Minute && c.SignInWait == 5*time.Second }},
		{"host and callback path", []string{"--host", "localhost", "--callback-path", "/oauth/callback"}, func(c Config) bool {
			return c.CallbackHost == "localhost" && c.CallbackPath == "/oauth/callback"
		}},
		{"resource", []string{"--resource", "https://tenant.example/"}, func(c Config) bool { return c.Resource == "https://tenant.example/" }},
		{"authorize params", []string{"--authorize-param", "audience=api", "--authorize-param", "access_type=offline"}, func(c Config) bool {
			return c.AuthorizeParams.Get("audience") == "api" && c.AuthorizeParams.Get("access_type") == "offline"
		}},
		{"ignore tools", []string{"--ignore-tool", "delete_*", "--ignore-tool", "admin"}, func(c Config) bool { return strings.Join(c.IgnoreTools, ",") == "delete_*,admin" }},
		{"silent, debug, enable-proxy", []string{"--silent", "--debug", "--enable-proxy"}, func(c Config) bool { return c.Silent && c.Debug }},
		{"client metadata from a file", []string{"--static-oauth-client-metadata", "@" + meta}, func(c Config) bool {
			return strings.Contains(string(c.ClientMetadata), `"acme bridge"`)
		}},
		{"client metadata inline", []string{"--static-oauth-client-metadata", `{"scope":"read"}`}, func(c Config) bool { return string(c.ClientMetadata) == `{"scope":"read"}` }},
		{"ca files", []string{"--ca-file", "/a.pem", "--ca-file", "/b.pem"}, func(c Config) bool { return strings.Join(c.CAFiles, ",") == "/a.pem,/b.pem" }},
		{"device code", []string{"--device-code"}, func(c Config) bool { return c.DeviceCode }},
		{"transport", []string{"--transport", "sse-only"}, func(c Config) bool { return c.Mode == remote.SSEOnly }},
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

func TestMcpRemoteFlagErrors(t *testing.T) {
	getenv := env(map[string]string{config.EnvConfigDir: t.TempDir()})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"https://a.example", "99999"}, "not a callback port"},
		{[]string{"--auth-timeout", "soon"}, "give seconds"},
		{[]string{"--host", "evil.example"}, "must stay on this machine"},
		{[]string{"--callback-path", "callback"}, "expected a path"},
		{[]string{"--resource", "not a uri"}, "absolute URI"},
		{[]string{"--authorize-param", "state=x"}, "cannot be overridden"},
		{[]string{"--authorize-param", "resource=x"}, "use --resource"},
		{[]string{"--authorize-param", "Code_Challenge=x"}, "Code_Challenge is set by the bridge and cannot be overridden"},
		{[]string{"--authorize-param", "scope=x"}, "use --scope"},
		{[]string{"--authorize-param", "novalue"}, "key=value"},
		{[]string{"--static-oauth-client-metadata", `[1]`}, "JSON object"},
		{[]string{"--static-oauth-client-metadata", `{"redirect_uris":["https://evil"]}`}, "redirect_uris is set by the bridge"},
		{[]string{"--ignore-tool", " "}, "empty pattern"},
	}
	for _, tt := range tests {
		_, err := parseServe(tt.args, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// SSL_CERT_FILE and NODE_EXTRA_CA_CERTS (what mcp-remote users set for TLS-intercepting proxies) are read too.
// Each file is read once; on Linux Go's system pool already is SSL_CERT_FILE.
func TestCAFilesFromEnvironment(t *testing.T) {
	cfg, err := parseServe([]string{"--ca-file", "/c.pem"}, env(map[string]string{config.EnvConfigDir: t.TempDir(), "NODE_EXTRA_CA_CERTS": "/n.pem"}), io.Discard)
	if err != nil || strings.Join(cfg.CAFiles, ",") != "/c.pem,/n.pem" {
		t.Fatalf("CA files %v, %v", cfg.CAFiles, err)
	}
	tests := []struct {
		goos, ssl, node string
		flags           []string
		want            string
	}{
		{"linux", "/s.pem", "/n.pem", nil, "/n.pem"},
		{"linux", "/etc/ssl/b.pem", "/etc/ssl//b.pem", nil, ""},
		{"freebsd", "/s.pem", "", nil, ""},
		{"darwin", "/s.pem", "/n.pem", nil, "/s.pem,/n.pem"},
		{"darwin", "/b.pem", "/b.pem", nil, "/b.pem"},
		{"windows", `C:\b.pem`, "", nil, `C:\b.pem`},
		{"darwin", "/b.pem", "/n.pem", []string{"/n.pem"}, "/n.pem,/b.pem"},
		{"linux", "", "", []string{"/c.pem"}, "/c.pem"},
	}
	for _, tt := range tests {
		getenv := env(map[string]string{"SSL_CERT_FILE": tt.ssl, "NODE_EXTRA_CA_CERTS": tt.node})
		if got := strings.Join(caFilesFromEnv(tt.goos, getenv, tt.flags), ","); got != tt.want {
			t.Errorf("%s SSL_CERT_FILE=%q NODE_EXTRA_CA_CERTS=%q flags %v: %q, want %q", tt.goos, tt.ssl, tt.node, tt.flags, got, tt.want)
		}
	}
}

// --ca-file makes a server whose certificate a private CA signed reachable, on top of the system's CAs.
func TestCAFileTrustsAPrivateCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	if _, err := remote.NewHTTPClient().Get(srv.URL); err == nil {
		t.Fatal("a private CA must not be trusted without --ca-file")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	roots, err := rootCAs([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := remote.NewHTTPClientWithRoots(roots).Get(srv.URL)
	if err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
	resp.Body.Close()
	notPEM := filepath.Join(dir, "x.der")
	os.WriteFile(notPEM, srv.Certificate().Raw, 0o600)
	if _, err := rootCAs([]string{notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a DER file: %v", err)
	}
	if _, err := rootCAs([]string{filepath.Join(dir, "missing.pem")}); err == nil {
		t.Error("a missing CA file must be an error")
	}
}
