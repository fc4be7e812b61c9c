//go:build unix

package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// A symbolic link planted where the log file goes is not followed: the file it names is left as it was, and the
// bridge logs to stderr alone, saying why.
func TestLogRefusesSymlink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	victim := filepath.Join(elsewhere, "victim")
	if err := os.WriteFile(victim, []byte("untouched\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, LogFileName)); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	log, closeLog := openLog(dir, false, false, &stderr)
	log.Info("a line that must not reach the victim")
	closeLog()
	if b, _ := os.ReadFile(victim); string(b) != "untouched\n" {
		t.Errorf("the file the link names was written: %q", b)
	}
	if !strings.Contains(stderr.String(), "is a symbolic link: refusing to follow it") || !strings.Contains(stderr.String(), "a line that must not reach the victim") {
		t.Errorf("stderr should say why there is no log file, and carry the log:\n%s", stderr.String())
	}
}

// A config directory every user can write to is refused before anything is opened in it, with the directory and
// the fix; nothing is created there.
func TestMainRefusesSharedConfigDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"http://127.0.0.1:1/mcp"}, {"login", "http://127.0.0.1:1/mcp"}} {
		var errOut strings.Builder
		code := Main(Env{Args: args, Getenv: env(map[string]string{config.EnvConfigDir: dir}), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut})
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2", args, code)
		}
		for _, want := range []string{"the config directory " + dir + " is not private: every user can write to it (mode 0777)", "chmod 700 " + dir, "MESHAI_CONFIG_DIR"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, errOut.String())
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files were created in the refused directory", len(entries))
	}
}
