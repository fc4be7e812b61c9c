package clientconfig

import (
	"strings"
	"testing"
)

// Every client's file on each OS, from the documented locations (see the comments on the clients).
func TestPaths(t *testing.T) {
	mac := Env{OS: "darwin", Home: "/Users/ann"}
	win := Env{OS: "windows", Home: `C:\Users\ann`, AppData: `C:\Users\ann\AppData\Roaming`}
	linux := Env{OS: "linux", Home: "/home/ann"}
	xdg := Env{OS: "linux", Home: "/home/ann", XDGConfigHome: "/cfg"}
	relXDG := Env{OS: "linux", Home: "/home/ann", XDGConfigHome: "cfg"} // relative: ignored, as Electron does
	tests := []struct {
		client fileClient
		env    Env
		want   string
	}{
		{claudeDesktop, mac, "/Users/ann/Library/Application Support/Claude/claude_desktop_config.json"},
		{claudeDesktop, win, `C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`},
		{claudeDesktop, linux, "/home/ann/.config/Claude/claude_desktop_config.json"},
		{claudeDesktop, xdg, "/cfg/Claude/claude_desktop_config.json"},
		{claudeDesktop, relXDG, "/home/ann/.config/Claude/claude_desktop_config.json"},
		{cursor, mac, "/Users/ann/.cursor/mcp.json"},
		{cursor, win, `C:\Users\ann\.cursor\mcp.json`},
		{cursor, linux, "/home/ann/.cursor/mcp.json"},
		{vscodeClient, mac, "/Users/ann/Library/Application Support/Code/User/mcp.json"},
		{vscodeClient, win, `C:\Users\ann\AppData\Roaming\Code\User\mcp.json`},
		{vscodeClient, linux, "/home/ann/.config/Code/User/mcp.json"},
		{vscodeClient, xdg, "/cfg/Code/User/mcp.json"},
		{windsurf, mac, "/Users/ann/.codeium/windsurf/mcp_config.json"},
		{windsurf, win, `C:\Users\ann\.codeium\windsurf\mcp_config.json`},
		{windsurf, linux, "/home/ann/.codeium/windsurf/mcp_config.json"},
		{claudeCodeFile, mac, "/Users/ann/.claude.json"},
		{claudeCodeFile, win, `C:\Users\ann\.claude.json`},
		{claudeCodeFile, linux, "/home/ann/.claude.json"},
		{claudeCodeFile, Env{OS: "linux", Home: "/home/ann", ClaudeConfigDir: "/home/ann/.claude-work"}, "/home/ann/.claude-work/.claude.json"},
	}
	for _, tt := range tests {
		got, err := tt.client.file(tt.env)
		if err != nil || got != tt.want {
			t.Errorf("%s on %s: %q, %v; want %q", tt.client.name, tt.env.OS, got, err, tt.want)
		}
	}
}

// A missing variable is an error that names it, not a path relative to the working directory.
func TestPathsNeedTheirVariables(t *testing.T) {
	tests := []struct {
		client fileClient
		env    Env
		want   string
	}{
		{claudeDesktop, Env{OS: "windows", Home: `C:\Users\ann`}, "%APPDATA% is not set"},
		{vscodeClient, Env{OS: "darwin"}, "$HOME is not set"},
		{cursor, Env{OS: "windows", AppData: `C:\x`}, "%USERPROFILE% is not set"},
		{windsurf, Env{OS: "linux", XDGConfigHome: "/cfg"}, "$HOME is not set"},
	}
	for _, tt := range tests {
		if got, err := tt.client.file(tt.env); err == nil || err.Error() != tt.want {
			t.Errorf("%s on %s: %q, %v; want the error %q", tt.client.name, tt.env.OS, got, err, tt.want)
		}
	}
}

func TestEnvFor(t *testing.T) {
	vars := map[string]string{"CLAUDE_CONFIG_DIR": "/cc", "HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg", "USERPROFILE": `C:\Users\ann`, "APPDATA": `C:\Users\ann\AppData\Roaming`}
	getenv := func(k string) string { return vars[k] }
	if got, want := EnvFor("linux", getenv), (Env{OS: "linux", Home: "/home/ann", XDGConfigHome: "/cfg"}); got.OS != want.OS || got.Home != want.Home || got.XDGConfigHome != want.XDGConfigHome || got.AppData != "" || got.ClaudeConfigDir != "/cc" {
		t.Errorf("linux: %+v", got)
	}
	vars["LOCALAPPDATA"] = `C:\Users\ann\AppData\Local`
	if got := EnvFor("windows", getenv); got.LocalAppData != `C:\Users\ann\AppData\Local` || got.Home != `C:\Users\ann` || got.AppData != `C:\Users\ann\AppData\Roaming` || got.XDGConfigHome != "" {
		t.Errorf("windows: %+v", got)
	}
}

// On Windows, Claude Desktop installed as an MSIX package reads its package's copy of %APPDATA%: that file is
// the one changed when the package is there; with two packages, the one that has a config file; else an error.
func TestClaudeDesktopMSIX(t *testing.T) {
	const (
		local   = `C:\Users\ann\AppData\Local`
		pkg     = local + `\Packages\Claude_pzs8sxrjxfjjc`
		other   = local + `\Packages\Claude_otherpublisher`
		inPkg   = pkg + `\LocalCache\Roaming\Claude\claude_desktop_config.json`
		inOther = other + `\LocalCache\Roaming\Claude\claude_desktop_config.json`
	)
	tests := []struct {
		name    string
		present []string // what Glob finds
		want    string   // "" for an error
	}{
		{"no package", nil, `C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`},
		{"package", []string{pkg}, inPkg},
		{"two packages, one with a config", []string{pkg, other, inOther}, inOther},
		{"two packages, no config", []string{pkg, other}, ""},
	}
	for _, tt := range tests {
		env := Env{OS: "windows", Home: `C:\Users\ann`, AppData: `C:\Users\ann\AppData\Roaming`, LocalAppData: local,
			Glob: func(pattern string) ([]string, error) {
				var m []string
				for _, p := range tt.present {
					if p == pattern || (strings.HasSuffix(pattern, `\Claude_*`) && strings.HasPrefix(p, strings.TrimSuffix(pattern, "*")) && !strings.Contains(p[len(pattern)-1:], `\`)) {
						m = append(m, p)
					}
				}
				return m, nil
			}}
		got, err := claudeDesktop.file(env)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "several Claude Desktop packages") {
				t.Errorf("%s: %q, %v; want an error", tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
