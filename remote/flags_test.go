package remote_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/cli"
)

// cliFlags returns the flags of the command line (serving and doctor), from their help.
func cliFlags(t *testing.T) map[string]bool {
	t.Helper()
	flags := map[string]bool{}
	line := regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]*)`)
	for _, args := range [][]string{{"--help"}, {"doctor", "--help"}} {
		var out bytes.Buffer
		cli.Main(cli.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out})
		for _, m := range line.FindAllStringSubmatch(out.String(), -1) {
			flags[m[1]] = true
		}
	}
	if !flags["header"] {
		t.Fatalf("no flags read from the help: %v", flags)
	}
	return flags
}

// Every flag this package names, in its messages or its comments, exists.
func TestNamedFlagsExist(t *testing.T) {
	flags := cliFlags(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`(?:^|[^-\w])--([a-z][a-z0-9-]*)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(src), -1) {
			if !flags[m[1]] {
				t.Errorf("%s names --%s, which is not a flag", f, m[1])
			}
		}
	}
}
