package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/doctor"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// doctorMain runs `meshai-mcp-server doctor args...` in-process and returns the exit code, stdout and stderr.
func doctorMain(t *testing.T, e map[string]string, args ...string) (int, string, string) {
	t.Helper()
	m := map[string]string{config.EnvConfigDir: t.TempDir(), "MESHAI_TOKEN_STORE": "file"}
	for k, v := range e {
		m[k] = v
	}
	var out, errOut strings.Builder
	code := Main(Env{Args: append([]string{"doctor"}, args...), Getenv: env(m), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestDoctorCommand(t *testing.T) {
	r, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mcpURL := r.URL + "/v1/mcp"

	code, out, _ := doctorMain(t, nil, mcpURL, "--json", "--timeout", "3s")
	var rep struct {
		URL    string `json:"url"`
		OK     bool   `json:"ok"`
		Checks []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if code != 0 || !rep.OK || rep.URL != mcpURL || len(rep.Checks) < 20 {
		t.Errorf("exit %d, report %+v", code, rep)
	}

	code, out, _ = doctorMain(t, map[string]string{config.EnvURL: mcpURL}, "--register-probe", "--check-clients")
	if code != 0 || !strings.Contains(out, "meshai-mcp-server doctor: "+mcpURL) || !strings.Contains(out, "✓ Registration as Cursor") {
		t.Errorf("exit %d (the reference server accepts Cursor's cursor:// redirect URI):\n%s", code, out)
	}
	broken, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultRegistrationRejectsRedirect}})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	code, out, _ = doctorMain(t, nil, "--register-probe", broken.URL+"/v1/mcp")
	if code != 1 || !strings.Contains(out, "✗ Dynamic registration probe") {
		t.Errorf("exit %d (the server refuses loopback redirect URIs):\n%s", code, out)
	}

	code, out, _ = doctorMain(t, nil, "--token-store", "vault", mcpURL)
	if code != 1 || !strings.Contains(out, `"vault" (--token-store) is not a token store`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDoctorFailureExitCode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	code, out, _ := doctorMain(t, map[string]string{config.EnvURL: "http://" + addr + "/mcp"})
	if code != 1 || !strings.Contains(out, "✗ TCP connection: connection refused by "+addr+" (ECONNREFUSED)") || !strings.Contains(out, "fix: ") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--help"}, 0, "meshai-mcp-server doctor checks"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"https://a.example/mcp", "https://b.example/mcp"}, 2, "expected at most one URL"},
	} {
		code, _, stderr := doctorMain(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("doctor %v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}

// doctor reads the client and endpoint flags with serving's own code: a client.json's loopback redirect sets the
// callback, and the same mistakes are refused with the same words.
func TestDoctorClientFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.json")
	if err := os.WriteFile(file, []byte(`{"client_id":"sigil","client_secret":"${SECRET}","redirect_uris":["http://localhost:8080/oauth/callback"],"token_endpoint_auth_method":"client_secret_post"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		args      []string
		client    *doctor.Client
		endpoints *doctor.Endpoints
		callback  doctor.Callback // zero: the defaults, 127.0.0.1 and /callback
		device    bool
		document  string
		err       string
	}{
		{name: "none", args: nil},
		{name: "client.json", args: []string{"--static-oauth-client-info", "@" + file},
			client:   &doctor.Client{ID: "sigil", Secret: "s3cret", AuthMethod: "client_secret_post", From: "--static-oauth-client-info"},
			callback: doctor.Callback{Host: "localhost", Path: "/oauth/callback", Port: 8080}},
		{name: "client.json and --callback-port", args: []string{"--static-oauth-client-info", "@" + file, "--callback-port", "9000"},
			client:   &doctor.Client{ID: "sigil", Secret: "s3cret", AuthMethod: "client_secret_post", From: "--static-oauth-client-info"},
			callback: doctor.Callback{Host: "localhost", Path: "/oauth/callback", Port: 9000}},
		{name: "sign-in flags", args: []string{"--host", "localhost", "--callback-port", "33418", "--callback-path", "/oauth/callback", "--device-code",
			"--client-metadata-url", "https://app.example/oauth/client.json"},
			callback: doctor.Callback{Host: "localhost", Path: "/oauth/callback", Port: 33418}, device: true, document: "https://app.example/oauth/client.json"},
		{name: "bad host", args: []string{"--host", "example.com"}, err: "the sign-in redirect must stay on this machine"},
		{name: "bad callback port", args: []string{"--callback-port", "70000"}, err: "--callback-port 70000: expected a port"},
		{name: "metadata URL over http", args: []string{"--client-metadata-url", "http://app.example/client.json"}, err: "expected an https URL with a path"},
		{name: "metadata URL without a path", args: []string{"--client-metadata-url", "https://app.example"}, err: "expected an https URL with a path"},
		{name: "client-id", args: []string{"--client-id", "neotoma", "--client-secret", "x"},
			client: &doctor.Client{ID: "neotoma", Secret: "x", From: "--client-id"}},
		{name: "endpoints", args: []string{"--authorization-url", "https://as.example/authorize", "--token-url", "https://as.example/token"},
			endpoints: &doctor.Endpoints{Authorization: "https://as.example/authorize", Token: "https://as.example/token"}},
		{name: "token-url alone", args: []string{"--token-url", "https://as.example/token"}, err: "--authorization-url and --token-url go together"},
		{name: "http endpoint", args: []string{"--authorization-url", "http://as.example/a", "--token-url", "https://as.example/t"}, err: "uses plain http"},
		{name: "bad method", args: []string{"--static-oauth-client-info", `{"client_id":"a","token_endpoint_auth_method":"private_key_jwt"}`}, err: "is not supported"},
		// Serving refuses it; doctor reports it (Client registration), with what the server offers.
		{name: "no loopback redirect", args: []string{"--static-oauth-client-info", `{"client_id":"a","redirect_uris":["https://app.example/cb"]}`},
			client: &doctor.Client{ID: "a", From: "--static-oauth-client-info", NoLoopback: []string{"https://app.example/cb"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var (
				opts   doctor.Options
				client Config
				js     bool
			)
			var stderr strings.Builder
			fs := doctorFlagSet(&opts, &client, &js, env(map[string]string{"SECRET": "s3cret"}), &stderr)
			_, err := parseInterleaved(fs, c.args)
			if err == nil {
				err = doctorClient(&opts, &client, flagsSet(fs))
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error()+stderr.String(), c.err) {
					t.Fatalf("error %v, stderr %q: want %q", err, stderr.String(), c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opts.Client, c.client) || !reflect.DeepEqual(opts.Endpoints, c.endpoints) {
				t.Errorf("client %+v, endpoints %+v; want %+v, %+v", opts.Client, opts.Endpoints, c.client, c.endpoints)
			}
			cb := c.callback
			if cb == (doctor.Callback{}) {
				cb = doctor.Callback{Host: "127.0.0.1", Path: auth.CallbackPath}
			}
			if opts.Callback != cb || opts.DeviceCode != c.device || opts.ClientMetadataURL != c.document {
				t.Errorf("callback %+v, device %v, document %q; want %+v, %v, %q", opts.Callback, opts.DeviceCode, opts.ClientMetadataURL, cb, c.device, c.document)
			}
		})
	}
}
