//go:build unix

package e2e

// Finding, installing and running @modelcontextprotocol/server-everything, the MCP reference server that
// TestFidelityEverything drives both directly and through the bridge.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	everythingPkg     = "@modelcontextprotocol/server-everything"
	everythingVersion = "2026.8.31"
	// everythingMarker is written into the npm prefix once an install has completed; scripts/test writes the
	// same file with the same content.
	everythingMarker    = ".meshai-installed"
	everythingNodeMajor = 20
)

var (
	everythingOnce  sync.Once
	everythingEntry string // absolute path of the package's bin script
	everythingSkip  string // why the tests that need it cannot run here
	everythingErr   error
)

// needEverything returns the path of server-everything's entry script, installing the package on first use
// when scripts/test has not (MESHAI_EVERYTHING_DIR unset or empty). Without node or npm it skips the test, or
// fails it under CI, where the tests must run.
func needEverything(t *testing.T) string {
	t.Helper()
	everythingOnce.Do(func() { everythingEntry, everythingSkip, everythingErr = locateEverything() })
	if everythingErr != nil {
		t.Fatalf("%s@%s: %v", everythingPkg, everythingVersion, everythingErr)
	}
	if everythingSkip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so this is a failure: CI must run this test)", everythingSkip)
		}
		t.Skip(everythingSkip)
	}
	return everythingEntry
}

// testCacheDir mirrors scripts/test: ${MESHAI_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshai-mcp-server-test}.
func testCacheDir() (string, error) {
	if d := os.Getenv("MESHAI_TEST_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "meshai-mcp-server-test"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "meshai-mcp-server-test"), nil
}

func locateEverything() (entry, skip string, err error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", "node is not installed, so " + everythingPkg + " cannot run (scripts/test installs it)", nil
	}
	out, err := exec.Command("node", "-p", `process.versions.node.split(".")[0]`).Output()
	if err != nil {
		return "", "", fmt.Errorf("node -p: %v", err)
	}
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); major < everythingNodeMajor {
		return "", fmt.Sprintf("node %s is too old for %s (needs >= %d)", strings.TrimSpace(string(out)), everythingPkg, everythingNodeMajor), nil
	}
	dir := os.Getenv("MESHAI_EVERYTHING_DIR")
	if dir == "" {
		cache, err := testCacheDir()
		if err != nil {
			return "", "", err
		}
		dir = filepath.Join(cache, "server-everything")
	}
	if !everythingInstalled(dir) {
		if _, err := exec.LookPath("npm"); err != nil {
			return "", "npm is not installed, so " + everythingPkg + " cannot be installed (run scripts/test)", nil
		}
		if err := installEverything(dir); err != nil {
			return "", "", err
		}
	}
	entry, err = everythingBin(dir)
	return entry, "", err
}

func everythingInstalled(dir string) bool { return npmInstalled(dir, everythingPkg, everythingVersion) }

// npmInstalled reports whether dir holds pkg@version as npmInstall left it (its marker file and package.json).
func npmInstalled(dir, pkg, version string) bool {
	b, err := os.ReadFile(filepath.Join(dir, everythingMarker))
	if err != nil || strings.TrimSpace(string(b)) != pkg+"@"+version {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json"))
	return err == nil
}

// installEverything installs the pinned version with npm beside dir, then moves it into place, as scripts/test does.
func installEverything(dir string) error { return npmInstall(dir, everythingPkg, everythingVersion) }

// npmInstall installs pkg@version with npm beside dir, then moves it into place with a marker file naming it.
func npmInstall(dir, pkg, version string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte("{\"private\": true}\n"), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error",
		pkg+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm install: %v\n%s", err, out)
	}
	var got struct{ Version string }
	if err := readJSONFile(filepath.Join(tmp, "node_modules", pkg, "package.json"), &got); err != nil {
		return err
	}
	if got.Version != version {
		return fmt.Errorf("npm installed %s %s, want %s", pkg, got.Version, version)
	}
	if err := os.WriteFile(filepath.Join(tmp, everythingMarker), []byte(pkg+"@"+version+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// everythingBin reads the package's bin entry (dist/index.js in 2026.8.31) from its package.json.
func everythingBin(dir string) (string, error) {
	pkgDir := filepath.Join(dir, "node_modules", everythingPkg)
	var pkg struct {
		Version string
		Bin     json.RawMessage
	}
	if err := readJSONFile(filepath.Join(pkgDir, "package.json"), &pkg); err != nil {
		return "", err
	}
	if pkg.Version != everythingVersion {
		return "", fmt.Errorf("%s holds version %s, want %s", pkgDir, pkg.Version, everythingVersion)
	}
	var bin string
	if err := json.Unmarshal(pkg.Bin, &bin); err != nil {
		var bins map[string]string
		if err := json.Unmarshal(pkg.Bin, &bins); err != nil || len(bins) != 1 {
			return "", fmt.Errorf("%s: unexpected bin field %s", pkgDir, pkg.Bin)
		}
		for _, b := range bins {
			bin = b
		}
	}
	entry := filepath.Join(pkgDir, bin)
	if _, err := os.Stat(entry); err != nil {
		return "", err
	}
	return entry, nil
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// everythingLoopback is preloaded into node (--require) so that the server listens on 127.0.0.1 only:
// server-everything calls app.listen(PORT) with no host, which would bind every interface, and offers no
// option to choose one. It adds the host argument to a listen(port) call that has none.
const everythingLoopback = `"use strict";
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const port = args[0];
  if ((typeof port === "number" || (typeof port === "string" && /^[0-9]+$/.test(port))) && typeof args[1] !== "string") {
    args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
`

// everythingServer is one running server-everything process.
type everythingServer struct {
	URL    string // its MCP endpoint, http://127.0.0.1:PORT/mcp (or /sse)
	output *fidBuffer
}

// everythingModes are server-everything's HTTP transports: the argument that selects one, what it prints once
// listening, and the path of its endpoint.
var everythingModes = map[string]struct{ ready, path string }{
	"streamableHttp": {"listening on port %d", "/mcp"},
	"sse":            {"running on port %d", "/sse"}, // legacy HTTP+SSE (2024-11-05)
}

// startEverything runs `node --require loopback.cjs <entry> <mode>` with PORT set to a free port, waits for the
// line it prints on stderr once listening, and kills its process group when the test ends.
func startEverything(t *testing.T, entry, mode string) *everythingServer {
	t.Helper()
	preload := filepath.Join(t.TempDir(), "loopback.cjs")
	if err := os.WriteFile(preload, []byte(everythingLoopback), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := tryStartEverything(t, entry, preload, mode)
		if err == nil {
			return srv
		}
		lastErr = err
		if !strings.Contains(err.Error(), "EADDRINUSE") && !strings.Contains(err.Error(), "already in use") {
			break
		}
	}
	t.Fatalf("start %s: %v", everythingPkg, lastErr)
	return nil
}

func tryStartEverything(t *testing.T, entry, preload, mode string) (*everythingServer, error) {
	m := everythingModes[mode]
	port, err := fidFreePort()
	if err != nil {
		return nil, err
	}
	out := &fidBuffer{}
	ready := out.watch(fmt.Sprintf(m.ready, port))
	cmd := exec.Command("node", "--require", preload, entry, mode)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	cmd.Dir = t.TempDir()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	select {
	case <-ready:
	case err := <-exited:
		return nil, fmt.Errorf("exited before listening (%v):\n%s", err, out.String())
	case <-time.After(hangGuard):
		stop()
		return nil, fmt.Errorf("not listening after %s:\n%s", hangGuard, out.String())
	}
	srv := &everythingServer{URL: fmt.Sprintf("http://127.0.0.1:%d%s", port, m.path), output: out}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			// Leave out the line it prints for every request.
			var kept []string
			for _, l := range strings.Split(out.String(), "\n") {
				if l != "Received MCP POST request" && l != "Received MCP GET request" {
					kept = append(kept, l)
				}
			}
			t.Logf("%s output (%s):\n%s", everythingPkg, srv.URL, fidTail(strings.Join(kept, "\n"), 4000))
		}
	})
	return srv, nil
}

// fidFreePort asks the kernel for a free loopback port. Another process may take it before node binds it;
// startEverything retries then.
func fidFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// fidBuffer collects a process's output and can signal when a string first appears in it.
type fidBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	needle  string
	matched chan struct{}
}

func (s *fidBuffer) watch(needle string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.needle, s.matched = needle, make(chan struct{})
	return s.matched
}

func (s *fidBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.matched != nil && bytes.Contains(s.b.Bytes(), []byte(s.needle)) {
		close(s.matched)
		s.matched = nil
	}
	return n, err
}

func (s *fidBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func fidTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
