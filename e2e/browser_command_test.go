package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserCommandQuoted: issue 16's --browser-command, `sh -c 'sleep 8; exec curl "$0"'` with fetchurl for
// curl, splits as a shell splits it (three words, the URL appended as $0) and signs in; the same command with a
// quote missing fails at start-up, naming the flag, before any sign-in starts.
func TestBrowserCommandQuoted(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	url := srv.URL + "/v1/mcp"
	dir := t.TempDir()
	// fetchurl as "curl", found on PATH by the shell the command itself starts.
	bin := t.TempDir()
	if err := os.Symlink(fetchBin, filepath.Join(bin, "curl")); err != nil {
		t.Fatal(err)
	}
	env := append(signInEnv(dir), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	// As the issue's, with `true` for its `sleep 8`: the quoted ";" and "$0" must reach sh as they are.
	const command = `sh -c 'true; exec curl "$0"'`

	login := exec.Command(bridgeBin, "login", "--browser-command", command, "--auth-timeout", hangGuard.String(), url)
	login.Env = env
	out, err := login.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signed in to") {
		t.Fatalf("login with --browser-command %s: %v\n%s", command, err, out)
	}

	broken := exec.Command(bridgeBin, "login", "--browser-command", strings.TrimSuffix(command, "'"), url)
	broken.Env = signInEnv(t.TempDir())
	out, err = broken.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("an unterminated quote: %v, want exit status 2\n%s", err, out)
	}
	for _, want := range []string{"-browser-command", "without closing quote"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("an unterminated quote: the output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "/oauth/authorize") {
		t.Errorf("an unterminated quote: a sign-in started:\n%s", out)
	}
}
