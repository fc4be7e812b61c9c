package clientconfig

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tailscale/hujson"
)

// noClaude is a LookPath that finds no claude command: Claude Code is configured through its file.
func noClaude(string) (string, error) { return "", exec.ErrNotFound }

// seeds are files as users have them: other servers, other keys, and in VS Code's JSONC comments and trailing
// commas.
var seeds = map[string]string{
	"claude-desktop": `{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/ann/Desktop"]
    }
  },
  "globalShortcut": "Ctrl+Space"
}
`,
	"cursor": `{"mcpServers":{"github":{"url":"https://api.githubcopilot.com/mcp/"}}}`,
	"vscode": `{
	// Servers I use every day.
	"servers": {
		"fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"]}, // keep me
		/* "old": {"command": "x"}, */
	},
	"inputs": [
		{"type": "promptString", "id": "gh-token", "password": true},
	],
}
`,
	"windsurf": `{
    "mcpServers": {
        "sqlite": {"command": "uvx", "args": ["mcp-server-sqlite"], "disabled": false}
    }
}
`,
	"claude-code": `{"numStartups": 12, "projects": {"/work": {"mcpServers": {}}}, "mcpServers": {"context7": {"type": "stdio", "command": "npx", "args": ["-y", "@upstash/context7-mcp"], "env": {}}}, "userID": "abc"}
`,
}

// serversKey is where each client keeps its servers.
func serversKey(client string) string {
	if client == "vscode" {
		return "servers"
	}
	return "mcpServers"
}

// readJSON is the file at path as standard JSON.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	std, err := hujson.Standardize(b)
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	var m map[string]any
	if err := json.Unmarshal(std, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Each client, in a fake home directory laid out as on Linux and as on macOS: install adds the entry and keeps
// everything else, a second install changes nothing and makes no backup, a dry run writes nothing, uninstall
// gives back the file as it was, byte for byte.
func TestInstallEachClient(t *testing.T) {
	entry := NewEntry(EntryOptions{OS: "linux", URL: "https://mcp.example.com/mcp"})
	for _, goos := range []string{"linux", "darwin"} {
		for _, c := range Clients() {
			t.Run(goos+"/"+c.Name(), func(t *testing.T) {
				env := Env{OS: goos, Home: t.TempDir(), LookPath: noClaude}
				path, err := fileOf(c)(env)
				if err != nil {
					t.Fatal(err)
				}
				seed := seeds[c.Name()]
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(seed), 0o640); err != nil {
					t.Fatal(err)
				}
				if !c.Found(env) {
					t.Fatalf("not found with %s in place", path)
				}
				ctx := context.Background()

				res, err := c.Install(ctx, env, entry, true)
				if err != nil || res.Action != Added || !strings.Contains(res.Diff, `+`) || !strings.Contains(res.Diff, "mcp.example.com") {
					t.Fatalf("dry run: %+v, %v", res, err)
				}
				assertFile(t, path, seed)
				if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("the dry run made a backup: %v", err)
				}

				res, err = c.Install(ctx, env, entry, false)
				if err != nil || res.Action != Added || res.Where != path || res.Backup != path+BackupSuffix {
					t.Fatalf("install: %+v, %v", res, err)
				}
				assertFile(t, res.Backup, seed)
				if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
					t.Errorf("the file's mode is not kept: %v, %v", st.Mode(), err)
				}
				got := readJSON(t, path)
				servers := got[serversKey(c.Name())].(map[string]any)
				if len(servers) != len(readSeed(t, seed)[serversKey(c.Name())].(map[string]any))+1 {
					t.Errorf("other servers lost or added: %v", servers)
				}
				ours, _ := json.Marshal(servers[Name])
				var e Entry
				if err := json.Unmarshal(ours, &e); err != nil || !e.Equal(entry) {
					t.Errorf("the entry is %s, want %+v", ours, entry)
				}
				for k, v := range readSeed(t, seed) {
					if k != serversKey(c.Name()) && !jsonEqual(got[k], v) {
						t.Errorf("%s changed: %v, was %v", k, got[k], v)
					}
				}
				if c.Name() == "vscode" {
					b, _ := os.ReadFile(path)
					for _, keep := range []string{"// Servers I use every day.", "// keep me", `/* "old": {"command": "x"}, */`} {
						if !strings.Contains(string(b), keep) {
							t.Errorf("lost the comment %q:\n%s", keep, b)
						}
					}
					if servers[Name].(map[string]any)["type"] != "stdio" {
						t.Errorf("VS Code's entry has no type stdio: %v", servers[Name])
					}
				}

				installed, _ := os.ReadFile(path)
				os.Remove(res.Backup)
				res, err = c.Install(ctx, env, entry, false)
				if err != nil || res.Action != Unchanged || res.Backup != "" {
					t.Fatalf("second install: %+v, %v", res, err)
				}
				assertFile(t, path, string(installed))
				if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the second install made a backup: %v", err)
				}

				res, err = c.Uninstall(ctx, env, true)
				if err != nil || res.Action != Removed || !strings.Contains(res.Diff, "-") {
					t.Fatalf("dry-run uninstall: %+v, %v", res, err)
				}
				assertFile(t, path, string(installed))

				res, err = c.Uninstall(ctx, env, false)
				if err != nil || res.Action != Removed {
					t.Fatalf("uninstall: %+v, %v", res, err)
				}
				assertFile(t, path, seed)
				assertFile(t, res.Backup, string(installed))
				if res, err = c.Uninstall(ctx, env, false); err != nil || res.Action != Absent {
					t.Errorf("second uninstall: %+v, %v", res, err)
				}
			})
		}
	}
}

// fileOf is the configuration file of a client that is configured by one (Claude Code without its command).
func fileOf(c Client) func(Env) (string, error) {
	switch c := c.(type) {
	case fileClient:
		return c.file
	case claudeCode:
		return c.file.file
	}
	panic("unknown client")
}

func readSeed(t *testing.T, seed string) map[string]any {
	t.Helper()
	std, err := hujson.Standardize([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(std, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonEqual reports whether a and b marshal to the same JSON, key order aside.
func jsonEqual(a, b any) bool {
	var x, y any
	bx, _ := json.Marshal(a)
	by, _ := json.Marshal(b)
	json.Unmarshal(bx, &x)
	json.Unmarshal(by, &y)
	return reflect.DeepEqual(x, y)
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Fatalf("%s: %v\n%s\nwant\n%s", path, err, b, want)
	}
}

// A file that does not exist yet is made (with its directory) when the client is named; a dry run makes
// nothing; an entry that differs is updated; the new file is the owner's alone when it holds an API key.
func TestInstallNewFileAndUpdate(t *testing.T) {
	ctx := context.Background()
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
	path, _ := cursor.file(env)
	keyed := NewEntry(EntryOptions{OS: "linux", APIKey: "sk-secret"})
	res, err := cursor.Install(ctx, env, keyed, true)
	if err != nil || res.Action != Added {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dry run made %s: %v", filepath.Dir(path), err)
	}
	if res, err = cursor.Install(ctx, env, keyed, false); err != nil || res.Action != Added || res.Backup != "" {
		t.Fatalf("install: %+v, %v", res, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("a new file with a key: mode %v, %v", st.Mode(), err)
	}
	plain := NewEntry(EntryOptions{OS: "linux"})
	if res, err = cursor.Install(ctx, env, plain, false); err != nil || res.Action != Updated || res.Backup == "" {
		t.Fatalf("update: %+v, %v", res, err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "sk-secret") {
		t.Errorf("the key is still there after an install without one:\n%s", b)
	}
}

// VS Code never gets the key itself: an input prompt with password true, referred to in env; installing without
// a key takes the prompt out again.
func TestVSCodeKeyIsAPrompt(t *testing.T) {
	ctx := context.Background()
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
	path, _ := vscodeClient.file(env)
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(seeds["vscode"]), 0o644)
	if res, err := vscodeClient.Install(ctx, env, NewEntry(EntryOptions{APIKey: "sk-secret"}), false); err != nil || res.Action != Added {
		t.Fatalf("install: %+v, %v", res, err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "sk-secret") {
		t.Fatalf("the key is in VS Code's file:\n%s", b)
	}
	got := readJSON(t, path)
	env0 := got["servers"].(map[string]any)[Name].(map[string]any)["env"].(map[string]any)
	if env0["MESHAI_API_KEY"] != "${input:"+InputID+"}" {
		t.Errorf("env: %v", env0)
	}
	inputs := got["inputs"].([]any)
	if len(inputs) != 2 || !jsonEqual(inputs[1], apiKeyInput) {
		t.Errorf("inputs: %v", inputs)
	}
	if res, err := vscodeClient.Install(ctx, env, NewEntry(EntryOptions{APIKey: PromptedKey}), false); err != nil || res.Action != Unchanged {
		t.Errorf("the prompt stands for the key: %+v, %v", res, err)
	}
	if res, err := vscodeClient.Install(ctx, env, NewEntry(EntryOptions{}), false); err != nil || res.Action != Updated {
		t.Fatalf("install without a key: %+v, %v", res, err)
	}
	if got := readJSON(t, path); len(got["inputs"].([]any)) != 1 {
		t.Errorf("the prompt was not taken out: %v", got["inputs"])
	}
}

// A file that does not parse, or holds something else where the servers go, is left alone, and the error
// names the file and the line.
func TestBrokenFileIsNotTouched(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, content, want string
	}{
		{"syntax", "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\"}}\n    \"b\": 1\n}\n", "line 4"},
		{"servers not an object", "{\n  \"theme\": 1,\n  \"mcpServers\": [\"a\"]\n}\n", `line 3: "mcpServers" holds an array, not an object`},
		{"not an object", "[1, 2]\n", "line 1: the file holds an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
			path, _ := windsurf.file(env)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, []byte(tt.content), 0o644)
			for _, run := range []func() (Result, error){
				func() (Result, error) { return windsurf.Install(ctx, env, NewEntry(EntryOptions{}), false) },
				func() (Result, error) { return windsurf.Uninstall(ctx, env, false) },
			} {
				_, err := run()
				if err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v; want %s and %q", err, path, tt.want)
				}
				assertFile(t, path, tt.content)
				if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a backup was made: %v", err)
				}
			}
		})
	}
}

// A configuration file that is a symbolic link (a dotfiles repository) stays a link: the file it points to is
// changed.
func TestSymlinkIsFollowed(t *testing.T) {
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
	target := filepath.Join(t.TempDir(), "mcp.json")
	os.WriteFile(target, []byte(seeds["cursor"]), 0o644)
	path, _ := cursor.file(env)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.Symlink(target, path); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if res, err := cursor.Install(context.Background(), env, NewEntry(EntryOptions{}), false); err != nil || res.Action != Added {
		t.Fatalf("%+v, %v", res, err)
	}
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", st.Mode(), err)
	}
	if got := readJSON(t, target); got["mcpServers"].(map[string]any)[Name] == nil {
		t.Errorf("the target has no entry: %v", got)
	}
}

// A file written on Windows (a byte-order mark, CRLF line ends) keeps both: what install adds has CRLF too, and
// uninstall gives the file back byte for byte.
func TestWindowsStyleFile(t *testing.T) {
	ctx := context.Background()
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
	path, _ := claudeDesktop.file(env)
	seed := "\ufeff{\r\n  \"mcpServers\": {\r\n    \"a\": {\"command\": \"x\"}\r\n  }\r\n}\r\n"
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(seed), 0o644)
	if res, err := claudeDesktop.Install(ctx, env, NewEntry(EntryOptions{}), false); err != nil || res.Action != Added {
		t.Fatalf("%+v, %v", res, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "\ufeff{") || strings.Count(string(b), "\n") != strings.Count(string(b), "\r\n") || !strings.Contains(string(b), `"meshai"`) {
		t.Errorf("installed:\n%q", b)
	}
	if res, err := claudeDesktop.Install(ctx, env, NewEntry(EntryOptions{}), false); err != nil || res.Action != Unchanged {
		t.Errorf("again: %+v, %v", res, err)
	}
	if res, err := claudeDesktop.Uninstall(ctx, env, false); err != nil || res.Action != Removed {
		t.Fatalf("%+v, %v", res, err)
	}
	assertFile(t, path, seed)
}
