package cli

import (
	"runtime"
	"strings"
	"testing"
)

// installMain runs `meshai-mcp-server args...` in-process with HOME at a fresh directory holding ~/.cursor.
func installMain(t *testing.T, e map[string]string, args ...string) (int, string, string) {
	t.Helper()
	home := t.TempDir()
	m := map[string]string{"HOME": home, "PATH": t.TempDir()}
	for k, v := range e {
		m[k] = v
	}
	t.Setenv("PATH", m["PATH"]) // no claude command
	var out, errOut strings.Builder
	code := Main(Env{Args: args, Getenv: env(m), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// Bad input to install is refused before anything is written, with what to do.
func TestInstallRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown client", nil, []string{"install", "--client", "zed"}, `no client "zed": the clients are claude-desktop, cursor, vscode, windsurf, claude-code, or all`},
		{"bad command", nil, []string{"install", "--client", "cursor", "--command", "node"}, `--command "node": use npx or self`},
		{"not a URL", nil, []string{"install", "--client", "cursor", "mcp.example.com"}, `"mcp.example.com" is not an http(s) URL`},
		{"two URLs", nil, []string{"install", "--client", "cursor", "https://a.example", "https://b.example"}, "unexpected arguments"},
		{"uninstall takes no URL", nil, []string{"uninstall", "https://a.example"}, "unexpected arguments"},
		{"key flag without key", nil, []string{"install", "--client", "cursor", "--api-key-env"}, "MESHAI_API_KEY is not set"},
		{"nothing found", nil, []string{"install"}, "name one with --client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := installMain(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

// VS Code alone needs no key for --api-key-env: it asks the user for it.
func TestInstallAPIKeyEnvVSCodeAlone(t *testing.T) {
	code, out, errOut := installMain(t, nil, "install", "--client", "vscode", "--api-key-env", "--dry-run")
	if code != 0 || !strings.Contains(out, `"MESHAI_API_KEY": "${input:meshai-api-key}"`) || !strings.Contains(out, `"password": true`) {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// uninstall on a machine without any client has nothing to do, and says so.
func TestUninstallNothingFound(t *testing.T) {
	code, out, errOut := installMain(t, nil, "uninstall")
	if code != 0 || !strings.Contains(out, "nothing to remove") || errOut != "" {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// The clients' directories come from the environment the command is given: $XDG_CONFIG_HOME on Linux.
func TestInstallReadsXDGConfigHome(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("$XDG_CONFIG_HOME places clients' files on Linux only")
	}
	xdg := t.TempDir()
	code, out, errOut := installMain(t, map[string]string{"XDG_CONFIG_HOME": xdg}, "install", "--client", "vscode,claude-desktop")
	if code != 0 || !strings.Contains(out, "vscode          added      "+xdg+"/Code/User/mcp.json") ||
		!strings.Contains(out, "claude-desktop  added      "+xdg+"/Claude/claude_desktop_config.json") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}
