//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// The official MCPB toolkit, pinned as in scripts/test (MCPB_VERSION): its CLI unpacks the bundle, and its
// getMcpConfigForManifest, the code Claude Desktop runs, turns the manifest's mcp_config into a command line.
const (
	mcpbPkg     = "@anthropic-ai/mcpb"
	mcpbVersion = "2.1.2"
)

var (
	bundleOnce            sync.Once
	bundleFile, mcpbDir   string
	bundleSkip, bundleErr string
)

// needBundle returns the .mcpb under test and the npm prefix holding the official toolkit. scripts/test builds
// the bundle once and exports MESHAI_MCPB_FILE and MESHAI_MCPB_DIR; without them the test builds this machine's
// bundle with scripts/build-mcpb --host and installs the toolkit into the test cache. Without node or npm it
// skips (fails under CI).
func needBundle(t *testing.T) (file, toolkit string) {
	t.Helper()
	bundleOnce.Do(func() { bundleFile, mcpbDir, bundleSkip, bundleErr = locateBundle() })
	if bundleErr != "" {
		t.Fatal(bundleErr)
	}
	if bundleSkip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so this is a failure: CI must run this test)", bundleSkip)
		}
		t.Skip(bundleSkip)
	}
	return bundleFile, mcpbDir
}

func locateBundle() (file, toolkit, skip, fail string) {
	for _, c := range []string{"node", "npm"} {
		if _, err := exec.LookPath(c); err != nil {
			return "", "", c + " is not installed: the bundle test needs " + mcpbPkg + " (scripts/test installs both)", ""
		}
	}
	toolkit = os.Getenv("MESHAI_MCPB_DIR")
	if toolkit == "" {
		cache, err := testCacheDir()
		if err != nil {
			return "", "", "", err.Error()
		}
		toolkit = filepath.Join(cache, "mcpb")
	}
	if !npmInstalled(toolkit, mcpbPkg, mcpbVersion) {
		if err := npmInstall(toolkit, mcpbPkg, mcpbVersion); err != nil {
			return "", "", "", mcpbPkg + "@" + mcpbVersion + ": " + err.Error()
		}
	}
	file = os.Getenv("MESHAI_MCPB_FILE")
	if file == "" {
		cmd := exec.Command("bash", "../scripts/build-mcpb", "--host", "--out", filepath.Join(buildDir, "mcpb"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return "", "", "", "scripts/build-mcpb --host: " + err.Error() + "\n" + stderr.String()
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		file = lines[len(lines)-1]
	}
	return file, toolkit, "", ""
}

// manifest is the part of manifest.json the test reads.
type manifest struct {
	ManifestVersion string `json:"manifest_version"`
	Name, Version   string
	License         string
	Icon            string
	Server          struct {
		Type       string
		EntryPoint string `json:"entry_point"`
		MCPConfig  struct {
			Command           string
			Args              []string
			Env               map[string]string
			PlatformOverrides map[string]struct{ Command string } `json:"platform_overrides"`
		} `json:"mcp_config"`
	}
	Tools          []struct{ Name, Description string }
	ToolsGenerated bool `json:"tools_generated"`
	Compatibility  struct{ Platforms []string }
	UserConfig     map[string]struct {
		Type      string
		Sensitive bool
		Required  bool
		Default   *string
	} `json:"user_config"`
}

// unpackBundle unpacks the bundle with the official CLI (which restores the Unix modes, as the host does) into a
// new directory and returns it with the manifest.
func unpackBundle(t *testing.T, file, toolkit string) (string, manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	cli := filepath.Join(toolkit, "node_modules", ".bin", "mcpb")
	if out, err := exec.Command(cli, "unpack", file, dir).CombinedOutput(); err != nil {
		t.Fatalf("mcpb unpack %s: %v\n%s", file, err, out)
	}
	var m manifest
	if err := readJSONFile(filepath.Join(dir, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// hostConfig is a resolved mcp_config: what the host runs.
type hostConfig struct {
	Command string
	Args    []string
	Env     map[string]string
}

// resolveConfig runs the official getMcpConfigForManifest on the unpacked bundle with the user's settings, as
// Claude Desktop does: ${__dirname} becomes the bundle's directory, ${user_config.X} the setting or its default.
func resolveConfig(t *testing.T, toolkit, dir string, userConfig map[string]string) hostConfig {
	t.Helper()
	const script = `
const [index, dir, settings] = process.argv.slice(1)
import(index).then(async (mcpb) => {
  const fs = await import('node:fs')
  const manifest = JSON.parse(fs.readFileSync(dir + '/manifest.json', 'utf8'))
  const cfg = await mcpb.getMcpConfigForManifest({
    manifest, extensionPath: dir, systemDirs: { HOME: process.env.HOME }, userConfig: JSON.parse(settings),
    pathSeparator: require('node:path').sep,
  })
  process.stdout.write(JSON.stringify(cfg === undefined ? null : cfg))
})`
	settings, _ := json.Marshal(userConfig)
	index := filepath.Join(toolkit, "node_modules", mcpbPkg, "dist", "index.js")
	out, err := exec.Command("node", "-e", script, index, dir, string(settings)).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("getMcpConfigForManifest: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatal(err)
	}
	var cfg *hostConfig
	if err := json.Unmarshal(out, &cfg); err != nil || cfg == nil {
		t.Fatalf("getMcpConfigForManifest gave %s (%v): the host would not start the server", out, err)
	}
	return *cfg
}

// TestBundleManifest checks what a host reads before it starts anything: the manifest says what issue 14 asks,
// each platform it claims has its command in the bundle, and the host substitutes the settings into the
// environment the binary reads, an empty API key and URL staying empty (OAuth sign-in, MeshAI's endpoint).
func TestBundleManifest(t *testing.T) {
	file, toolkit := needBundle(t)
	dir, m := unpackBundle(t, file, toolkit)
	if m.Server.Type != "binary" || m.License != "MIT" || m.Name != "meshai-mcp-server" || m.Icon != "icon.png" {
		t.Errorf("server.type %q license %q name %q icon %q, want binary, MIT, meshai-mcp-server, icon.png", m.Server.Type, m.License, m.Name, m.Icon)
	}
	if want := filepath.Base(file); want != "meshai-mcp-server-"+m.Version+".mcpb" {
		t.Errorf("the bundle is named %s, but its manifest says version %s", want, m.Version)
	}
	key, url := m.UserConfig["api_key"], m.UserConfig["server_url"]
	if key.Type != "string" || !key.Sensitive || key.Required || key.Default == nil || *key.Default != "" {
		t.Errorf("user_config.api_key %+v: want an optional sensitive string defaulting to \"\"", key)
	}
	if url.Type != "string" || url.Sensitive || url.Required || url.Default == nil || *url.Default != "https://auth.meshai.dev/v1/mcp" {
		t.Errorf("user_config.server_url %+v: want an optional string defaulting to MeshAI's endpoint", url)
	}
	if !slices.Contains(m.Compatibility.Platforms, runtime.GOOS) {
		t.Fatalf("compatibility.platforms %v lacks this machine's %s", m.Compatibility.Platforms, runtime.GOOS)
	}
	// The command each claimed platform runs is in the bundle and executable.
	for _, p := range m.Compatibility.Platforms {
		cmd := m.Server.MCPConfig.Command
		if o, ok := m.Server.MCPConfig.PlatformOverrides[p]; ok && o.Command != "" {
			cmd = o.Command
		}
		rel, ok := strings.CutPrefix(cmd, "${__dirname}/")
		if !ok {
			t.Errorf("%s: command %q is not inside the bundle (${__dirname}/...)", p, cmd)
			continue
		}
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || (p != "win32" && info.Mode().Perm()&0o111 == 0) {
			t.Errorf("%s: command %s: %v, mode %v", p, rel, err, info)
		}
	}
	tests := []struct {
		name     string
		settings map[string]string
		key, url string
	}{
		{"untouched: OAuth sign-in to MeshAI", map[string]string{}, "", "https://auth.meshai.dev/v1/mcp"},
		{"an API key", map[string]string{"api_key": "k-123"}, "k-123", "https://auth.meshai.dev/v1/mcp"},
		{"both cleared", map[string]string{"api_key": "", "server_url": ""}, "", ""},
		{"another server", map[string]string{"server_url": "https://mcp.example.com/mcp"}, "", "https://mcp.example.com/mcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := resolveConfig(t, toolkit, dir, tt.settings)
			if cfg.Command != filepath.Join(dir, "server", "meshai-mcp-server") || len(cfg.Args) != 0 {
				t.Errorf("command %q args %q, want the bundle's launcher and no arguments", cfg.Command, cfg.Args)
			}
			want := map[string]string{"MESHAI_API_KEY": tt.key, "MESHAI_MCP_URL": tt.url}
			if !mapsEqual(cfg.Env, want) {
				t.Errorf("env %v, want %v", cfg.Env, want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestBundleServes launches the server exactly as the unpacked bundle's manifest says and the host resolves it,
// then drives initialize, tools/list and a call against the reference server: with the API key setting, and
// without it (empty: OAuth sign-in through the browser stand-in).
func TestBundleServes(t *testing.T) {
	file, toolkit := needBundle(t)
	dir, m := unpackBundle(t, file, toolkit)
	tests := []struct {
		name  string
		oauth bool
	}{
		{"api key", false},
		{"oauth sign-in", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			home := t.TempDir()
			// The host's own environment: a fresh home and config dir, file token store, and a browser that
			// follows the sign-in link (the reference server approves at once).
			env := append(signInEnv(filepath.Join(home, "config")), "HOME="+home, "BROWSER="+fetchBin)
			settings := map[string]string{"api_key": testKey}
			srvURL := ""
			if tt.oauth {
				srv := startOAuthServer(t, time.Hour)
				srvURL = srv.URL
				settings = map[string]string{} // the key left empty
			} else {
				srvURL = startServer(t, "127.0.0.1:0").URL
			}
			settings["server_url"] = srvURL + "/v1/mcp"
			cfg := resolveConfig(t, toolkit, dir, settings)
			for k, v := range cfg.Env {
				env = append(env, k+"="+v)
			}
			stderr := &syncBuffer{}
			tr := transport.NewStdioWithOptions(cfg.Command, env, cfg.Args, transport.WithCommandStderrWriter(stderr))
			c := client.NewClient(tr)
			if err := c.Start(ctx); err != nil {
				t.Fatalf("start %s: %v", cfg.Command, err)
			}
			t.Cleanup(func() {
				c.Close()
				assertNoSecrets(t, env, stderr.String())
				if t.Failed() {
					t.Logf("server stderr:\n%s", stderr.String())
				}
			})
			changed := make(chan struct{}, 8)
			c.OnNotification(func(n mcp.JSONRPCNotification) {
				if n.Method == "notifications/tools/list_changed" {
					changed <- struct{}{}
				}
			})
			init := initialize(t, ctx, c, "")
			if init.ServerInfo.Name == "" {
				t.Fatalf("initialize: no serverInfo: %+v", init)
			}
			tools := listServerTools(t, ctx, c, changed, stderr)
			checkDisplayedTools(t, m, tools)
			r, err := callTool(ctx, c, "list_agents", nil, nil)
			if err != nil || r.IsError || !strings.Contains(text(r), "agent") {
				t.Fatalf("tools/call list_agents: %v %+v", err, r)
			}
			signedIn := strings.Contains(stderr.String(), "/oauth/authorize?")
			if signedIn != tt.oauth {
				t.Errorf("sign-in through the browser: %v, want %v (API key set: %v)", signedIn, tt.oauth, !tt.oauth)
			}
		})
	}
}

// listServerTools lists the tools; while the sign-in is not done the bridge offers only its own meshai_sign_in
// and announces list_changed once it is, so it waits for that and lists again.
func listServerTools(t *testing.T, ctx context.Context, c *client.Client, changed <-chan struct{}, stderr *syncBuffer) []mcp.Tool {
	t.Helper()
	for {
		res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		if len(res.Tools) != 1 || res.Tools[0].Name != "meshai_sign_in" {
			return res.Tools
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("still signing in when the hang guard ran out:\n%s", stderr.String())
		}
	}
}

// checkDisplayedTools checks the manifest's tool list (what the host shows before install) against the server's:
// the same names, each description the start of the server's.
func checkDisplayedTools(t *testing.T, m manifest, tools []mcp.Tool) {
	t.Helper()
	live := map[string]string{}
	var names []string
	for _, tool := range tools {
		live[tool.Name] = tool.Description
		names = append(names, tool.Name)
	}
	var shown []string
	for _, tool := range m.Tools {
		shown = append(shown, tool.Name)
		d, ok := live[tool.Name]
		if ok && !strings.HasPrefix(d, strings.TrimSuffix(tool.Description, ".")) {
			t.Errorf("manifest tool %s: description %q is not the start of the server's %q", tool.Name, tool.Description, d)
		}
	}
	slices.Sort(names)
	slices.Sort(shown)
	if !slices.Equal(names, shown) {
		t.Errorf("the manifest lists tools %v, the server offers %v", shown, names)
	}
	if !m.ToolsGenerated {
		t.Error("tools_generated must be true: the tools are the remote server's, which may add more")
	}
}

// TestBundleLauncherWithoutBinary runs the launcher (the macOS and Linux command) of a bundle that lacks this
// machine's binary: it says so on stderr, prints nothing on stdout and exits 1.
func TestBundleLauncherWithoutBinary(t *testing.T) {
	file, toolkit := needBundle(t)
	dir, _ := unpackBundle(t, file, toolkit)
	entries, err := filepath.Glob(filepath.Join(dir, "server", runtime.GOOS+"-*"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no %s binary in the bundle: %v", runtime.GOOS, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(e); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "server", "meshai-mcp-server"), "--version")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("launcher without a binary: %v, want exit status 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("the launcher wrote to stdout: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "this bundle holds no binary for "+runtime.GOOS+"-") ||
		!strings.Contains(stderr.String(), "npx -y meshai-mcp-server") {
		t.Errorf("stderr lacks the cause and the fix: %q", stderr.String())
	}
}

// TestBundleLauncherBecomesTheBridge starts the launcher as the host does and checks that, once the bridge
// answers, the process the host started is the bridge itself (the script exec'd it: no shell in between), so a
// SIGTERM from the host reaches it and its exit status comes back.
func TestBundleLauncherBecomesTheBridge(t *testing.T) {
	file, toolkit := needBundle(t)
	dir, _ := unpackBundle(t, file, toolkit)
	srv := startServer(t, "127.0.0.1:0")
	cfg := resolveConfig(t, toolkit, dir, map[string]string{"api_key": testKey, "server_url": srv.URL + "/v1/mcp"})
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Env = signInEnv(t.TempDir())
	for k, v := range cfg.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Were the shell left in between, the bridge would outlive it holding stderr open: Wait must not block on
	// that pipe then (the test fails either way; this only lets it end).
	cmd.WaitDelay = time.Second
	rb := startRawCmd(t, cmd)
	rb.send(t, initLine)
	if m := rb.until(t, float64(1)); m["result"] == nil {
		t.Fatalf("initialize through the launcher: %v", m)
	}
	// Its command line: the shell's names the script (sh .../server/meshai-mcp-server), the bridge's its binary.
	// (Not ps -o comm: for a script that is the script's name too.)
	args, err := exec.Command("ps", "-o", "args=", "-p", strconv.Itoa(cmd.Process.Pid)).Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	if got := strings.TrimSpace(string(args)); !strings.HasPrefix(got, filepath.Join(dir, "server", runtime.GOOS+"-")) {
		t.Fatalf("the host's child runs %q, want the bridge's binary in server/%s-*/: the launcher did not exec it", got, runtime.GOOS)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM the bridge exited with %v, want status 0", err)
	}
}
