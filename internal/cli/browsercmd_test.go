package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// A --browser-command that does not split into words fails at start-up, naming the flag; one that does is kept
// as given (auth.OpenBrowser splits it when it runs).
func TestBrowserCommandFlag(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == config.EnvConfigDir {
			return dir
		}
		return ""
	}
	for _, tc := range []struct {
		name, value string
		err         []string // parts of the error; none: accepted
	}{
		{"the issue's example", `sh -c 'sleep 8; exec curl "$0"'`, nil},
		{"quoted path", `"/Applications/Google Chrome.app/x" --new-window`, nil},
		{"empty means the default", "", nil},
		{"unterminated quote", `sh -c 'sleep 8; exec curl "$0"`, []string{"-browser-command", "without closing quote", "fix the quoting"}},
		{"an expansion", `open $HOME`, []string{"-browser-command", "$HOME would need a shell", "sh -c"}},
		{"an operator", `sleep 1 && open`, []string{"-browser-command", "not a valid word"}},
		{"blank", " \t ", []string{"-browser-command", "names no program"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe([]string{"--browser-command", tc.value, "https://mcp.example.com/mcp"}, getenv, io.Discard)
			if tc.err == nil {
				if err != nil || cfg.BrowserCommand != tc.value {
					t.Fatalf("got %q, %v; want %q accepted", cfg.BrowserCommand, err, tc.value)
				}
				return
			}
			if err == nil {
				t.Fatalf("%q accepted, want an error", tc.value)
			}
			for _, want := range tc.err {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q lacks %q", err, want)
				}
			}
		})
	}
}
