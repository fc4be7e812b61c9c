// Package e2e drives the built binaries the way a desktop client would: over stdio, against real servers.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// bridgeBin and devServerBin are the binaries under test, and fetchBin the sign-in tests' "browser", built once
// by TestMain.
var bridgeBin, devServerBin, demoBin, fetchBin string

// buildDir is TestMain's temp dir, removed when the tests end: what they build once goes there.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meshai-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		os.Exit(2)
	}
	buildDir = dir
	bridgeBin, err = build(dir, "meshai-mcp-server")
	if err == nil {
		devServerBin, err = build(dir, "meshai-dev-server")
	}
	if err == nil {
		demoBin, err = build(dir, "meshai-demo")
	}
	if err == nil {
		fetchBin, err = buildPkg(dir, "fetchurl", "./fetchurl")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ./cmd/<name> into dir, with the race detector when the tests themselves run with it.
func build(dir, name string) (string, error) { return buildPkg(dir, name, "../cmd/"+name) }

func buildPkg(dir, name, pkg string) (string, error) {
	out := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		out += ".exe" // what Windows runs; the Windows CI job runs the relay tests
	}
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	return out, nil
}
