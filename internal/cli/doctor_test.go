package cli

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
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
