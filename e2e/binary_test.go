package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped binary starts fast and stays small because of two things a harmless-looking import can undo:
// the reference server (mcp-go's server and its JSON-schema package, 13 ms of init) stays out, and nothing
// reachable calls a method by reflection (html/template does: the linker then keeps every exported method of
// every type, 2.3 MB here). scripts/bench has the figures.
func TestShippedBinaryStaysLean(t *testing.T) {
	deps, err := exec.Command("go", "list", "-deps", "../cmd/meshai-mcp-server").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range []string{"/devserver", "mcp-go/server", "mcp-go/client", "santhosh-tekuri/jsonschema"} {
		if strings.Contains(string(deps), pkg) {
			t.Errorf("cmd/meshai-mcp-server links %s; keep it in cmd/meshai-demo or the tests", pkg)
		}
	}
	out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-dumpdep", "-o",
		filepath.Join(t.TempDir(), "bridge"), "../cmd/meshai-mcp-server").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%.2000s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "<ReflectMethod>") {
			t.Errorf("a reachable function calls a method by reflection, which turns off the linker's removal of "+
				"unused methods: %s", line)
		}
	}
}

// TLS verification is always on: no code outside tests may turn it off (--ca-file is how to trust a private CA).
func TestNoCodeTurnsOffTLSVerification(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "dist" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "InsecureSkipVerify") {
			t.Errorf("%s mentions InsecureSkipVerify", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
