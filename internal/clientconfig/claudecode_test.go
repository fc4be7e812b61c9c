package clientconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeClaude puts a claude command on a PATH of its own that appends its arguments, one line per call, to the
// file it returns.
func fakeClaude(t *testing.T) (lookPath func(string) (string, error), calls string) {
	t.Helper()
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "claude"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return func(name string) (string, error) {
		return filepath.Join(dir, name), nil
	}, calls
}

// readCalls is what the fake claude was called with, one call a line.
func readCalls(t *testing.T, calls string) []string {
	t.Helper()
	b, err := os.ReadFile(calls)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// With claude on PATH, Claude Code is changed through `claude mcp add|remove -s user`; ~/.claude.json is only
// read, to tell added from updated from unchanged.
func TestClaudeCodeThroughItsCommand(t *testing.T) {
	ctx := context.Background()
	c := claudeCode{file: claudeCodeFile}
	tests := []struct {
		name       string
		claudeJSON string // "" for no file
		entry      Entry
		action     Action
		calls      []string
	}{
		{"new", "", NewEntry(EntryOptions{}), Added, []string{"mcp add -s user -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server"}},
		{"same", `{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}}}`,
			NewEntry(EntryOptions{}), Unchanged, nil},
		{"other URL", `{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"]}}}`,
			NewEntry(EntryOptions{URL: "https://mcp.example.com/mcp"}), Updated,
			[]string{"mcp remove -s user meshai", "mcp add -s user -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server https://mcp.example.com/mcp"}},
		{"key", `{"projects": {}}`, NewEntry(EntryOptions{APIKey: "sk-secret"}), Added,
			[]string{"mcp add -s user -e MESHAI_API_KEY=sk-secret -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server"}},
		{"the user's variables stay, the key goes", `{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"MESHAI_API_KEY": "old", "HTTPS_PROXY": "p"}}}}`,
			NewEntry(EntryOptions{}), Updated,
			[]string{"mcp remove -s user meshai", "mcp add -s user -e HTTPS_PROXY=p -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server"}},
		{"the user's variables only: unchanged", `{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"HTTPS_PROXY": "p", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}}}`,
			NewEntry(EntryOptions{}), Unchanged, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookPath, calls := fakeClaude(t)
			env := Env{OS: "linux", Home: t.TempDir(), LookPath: lookPath}
			if tt.claudeJSON != "" {
				os.WriteFile(filepath.Join(env.Home, ".claude.json"), []byte(tt.claudeJSON), 0o600)
			}
			if !c.Found(env) {
				t.Error("not found with claude on PATH")
			}
			res, err := c.Install(ctx, env, tt.entry, true)
			if err != nil || res.Action != tt.action || len(readCalls(t, calls)) != 0 {
				t.Fatalf("dry run: %+v, %v, calls %q", res, err, readCalls(t, calls))
			}
			if res, err = c.Install(ctx, env, tt.entry, false); err != nil || res.Action != tt.action {
				t.Fatalf("install: %+v, %v", res, err)
			}
			if got := readCalls(t, calls); strings.Join(got, "\n") != strings.Join(tt.calls, "\n") {
				t.Errorf("claude was called with\n%q\nwant\n%q", got, tt.calls)
			}
			if strings.Contains(res.Where, "sk-secret") || strings.Contains(res.Diff, "sk-secret") {
				t.Errorf("the key is shown: %+v", res)
			}
			if tt.claudeJSON != "" {
				assertFile(t, filepath.Join(env.Home, ".claude.json"), tt.claudeJSON)
			}
		})
	}
}

func TestClaudeCodeUninstall(t *testing.T) {
	ctx := context.Background()
	c := claudeCode{file: claudeCodeFile}
	lookPath, calls := fakeClaude(t)
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: lookPath}
	if res, err := c.Uninstall(ctx, env, false); err != nil || res.Action != Absent || readCalls(t, calls) != nil {
		t.Fatalf("nothing to remove: %+v, %v, %q", res, err, readCalls(t, calls))
	}
	os.WriteFile(filepath.Join(env.Home, ".claude.json"), []byte(`{"mcpServers": {"meshai": {"command": "npx"}, "other": {"command": "x"}}}`), 0o600)
	if res, err := c.Uninstall(ctx, env, false); err != nil || res.Action != Removed {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := readCalls(t, calls); len(got) != 1 || got[0] != "mcp remove -s user meshai" {
		t.Errorf("calls %q", got)
	}
}

// A claude that fails: the error says which command and what it printed, with the key hidden.
func TestClaudeCodeCommandFails(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "claude"), []byte("#!/bin/sh\necho \"cannot add: $*\" >&2\nexit 3\n"), 0o755)
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: func(n string) (string, error) { return filepath.Join(dir, n), nil }}
	_, err := claudeCode{file: claudeCodeFile}.Install(context.Background(), env, NewEntry(EntryOptions{APIKey: "sk-secret"}), false)
	if err == nil || !strings.Contains(err.Error(), "claude mcp add -s user -e MESHAI_API_KEY=*** -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai") || !strings.Contains(err.Error(), "cannot add") || strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("error: %v", err)
	}
}

// An update is a remove and an add; when the add fails, the old entry is put back.
func TestClaudeCodeFailedUpdatePutsTheOldEntryBack(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\ncase \"$*\" in *mcp.example.com*) echo 'no network' >&2; exit 1;; esac\n"
	os.WriteFile(filepath.Join(dir, "claude"), []byte(script), 0o755)
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: func(n string) (string, error) { return filepath.Join(dir, n), nil }}
	os.WriteFile(filepath.Join(env.Home, ".claude.json"), []byte(`{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"]}}}`), 0o600)
	_, err := claudeCode{file: claudeCodeFile}.Install(context.Background(), env, NewEntry(EntryOptions{URL: "https://mcp.example.com/mcp"}), false)
	if err == nil || !strings.Contains(err.Error(), "no network") || !strings.Contains(err.Error(), "the previous entry was put back") {
		t.Errorf("error: %v", err)
	}
	want := []string{
		"mcp remove -s user meshai",
		"mcp add -s user -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server https://mcp.example.com/mcp",
		"mcp add -s user meshai -- npx -y meshai-mcp-server", // the old entry, as it was
	}
	if got := readCalls(t, calls); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
}
