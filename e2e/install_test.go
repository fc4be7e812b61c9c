package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// installRun runs the real binary's install or uninstall with HOME set to home and PATH to path only (so that a
// claude command is found only where the test puts one); it returns the exit code, stdout and stderr.
func installRun(t *testing.T, home, path string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bridgeBin, args...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + path, "MESHAI_API_KEY=sk-e2e-secret"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// writeFile writes content at path, making its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// install and uninstall through the real binary in a fake home directory: the clients found are changed (and
// only they), a second run changes nothing, a dry run writes nothing, uninstall gives the files back as they
// were, Claude Code is changed through its claude command, and a broken file is named with its line.
func TestInstallCommand(t *testing.T) {
	home := t.TempDir()
	cursorFile := filepath.Join(home, ".cursor", "mcp.json")
	vscodeFile := filepath.Join(home, ".config", "Code", "User", "mcp.json")
	cursorSeed := "{\n  \"mcpServers\": {\n    \"github\": {\"url\": \"https://api.githubcopilot.com/mcp/\"}\n  }\n}\n"
	vscodeSeed := "{\n\t// mine\n\t\"servers\": {\n\t\t\"fetch\": {\"type\": \"stdio\", \"command\": \"uvx\"}, // keep\n\t},\n}\n"
	writeFile(t, cursorFile, cursorSeed)
	writeFile(t, vscodeFile, vscodeSeed)
	noClaude := t.TempDir()

	code, out, errOut := installRun(t, home, noClaude, "install")
	line := func(client, action, file string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^` + client + ` +` + action + ` +` + regexp.QuoteMeta(file))
	}
	if code != 0 || !line("cursor", "added", cursorFile).MatchString(out) || !line("vscode", "added", vscodeFile).MatchString(out) ||
		strings.Contains(out, "claude-desktop") || strings.Contains(out, "windsurf") {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	installedVSCode := readFile(t, vscodeFile)
	if !strings.Contains(installedVSCode, "// keep") || !strings.Contains(installedVSCode, `"meshai"`) || strings.Contains(installedVSCode+readFile(t, cursorFile), "sk-e2e-secret") {
		t.Errorf("VS Code's file after install:\n%s", installedVSCode)
	}
	if readFile(t, cursorFile+".meshai.bak") != cursorSeed {
		t.Error("no backup of Cursor's file")
	}
	os.Remove(cursorFile + ".meshai.bak")

	code, out, _ = installRun(t, home, noClaude, "install")
	if code != 0 || !line("cursor", "unchanged", cursorFile).MatchString(out) || !line("vscode", "unchanged", vscodeFile).MatchString(out) {
		t.Errorf("second install: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(cursorFile + ".meshai.bak"); err == nil {
		t.Error("the second install made a backup")
	}

	windsurfFile := filepath.Join(home, ".codeium", "windsurf", "mcp_config.json")
	code, out, _ = installRun(t, home, noClaude, "install", "--client", "windsurf", "--dry-run", "https://mcp.example.com/mcp")
	if code != 0 || !line("windsurf", "would be added", windsurfFile).MatchString(out) || !strings.Contains(out, `+        "https://mcp.example.com/mcp"`) {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Dir(windsurfFile)); err == nil {
		t.Error("the dry run made Windsurf's directory")
	}

	claudeDir := t.TempDir()
	calls := filepath.Join(claudeDir, "calls")
	writeFile(t, filepath.Join(claudeDir, "claude"), "#!/bin/sh\necho \"$*\" >> '"+calls+"'\n")
	os.Chmod(filepath.Join(claudeDir, "claude"), 0o755)
	code, out, errOut = installRun(t, home, claudeDir, "install", "--client", "claude-code", "--api-key-env")
	if code != 0 || !strings.Contains(out, "claude-code     added      claude mcp add -s user -e MESHAI_API_KEY=*** -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server") || strings.Contains(out+errOut, "sk-e2e-secret") {
		t.Errorf("claude-code: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := readFile(t, calls); got != "mcp add -s user -e MESHAI_API_KEY=sk-e2e-secret -e npm_config_fetch_retries=0 -e npm_config_fetch_timeout=5000 meshai -- npx -y meshai-mcp-server\n" {
		t.Errorf("claude was called with %q", got)
	}

	code, out, _ = installRun(t, home, noClaude, "uninstall")
	if code != 0 || !line("cursor", "removed", cursorFile).MatchString(out) || !line("vscode", "removed", vscodeFile).MatchString(out) {
		t.Errorf("uninstall: exit %d\n%s", code, out)
	}
	if readFile(t, cursorFile) != cursorSeed || readFile(t, vscodeFile) != vscodeSeed {
		t.Errorf("uninstall did not give the files back:\n%s\n%s", readFile(t, cursorFile), readFile(t, vscodeFile))
	}

	writeFile(t, cursorFile, "{\n  \"mcpServers\": {\n    \"a\": 1,\n  ]\n}\n")
	code, _, errOut = installRun(t, home, noClaude, "install", "--client", "cursor")
	if code != 1 || !strings.Contains(errOut, cursorFile+": line 4") || !strings.Contains(errOut, "was not changed") {
		t.Errorf("broken file: exit %d\n%s", code, errOut)
	}

	code, _, errOut = installRun(t, t.TempDir(), noClaude, "install")
	if code != 2 || !strings.Contains(errOut, "--client") {
		t.Errorf("no client found: exit %d\n%s", code, errOut)
	}
}

// --command self writes this binary's own absolute path, and refuses when npx runs it from its cache.
func TestInstallCommandSelf(t *testing.T) {
	home, noClaude := t.TempDir(), t.TempDir()
	bin, err := filepath.EvalSymlinks(bridgeBin)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := installRun(t, home, noClaude, "install", "--client", "cursor", "--command", "self")
	if code != 0 || !strings.Contains(out, "cursor          added") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := readFile(t, filepath.Join(home, ".cursor", "mcp.json")); !strings.Contains(got, `"command": "`+bin+`"`) || strings.Contains(got, "npx") {
		t.Errorf("the entry does not start %s:\n%s", bin, got)
	}

	cached := filepath.Join(t.TempDir(), "_npx", "0123abcd", "node_modules", "@meshai", "mcp-server-linux-x64", "bin", "meshai-mcp-server")
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bridgeBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cached, "install", "--client", "cursor", "--command", "self")
	cmd.Env = []string{"HOME=" + home, "PATH=" + noClaude}
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "runs from npx's cache") || !strings.Contains(string(out2), "npm i -g meshai-mcp-server") {
		t.Errorf("from npx's cache: %v\n%s", err, out2)
	}
}
