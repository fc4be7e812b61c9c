package auth

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/pkg/browser"
)

var quietBrowser sync.Once

// openWithSystem is the system opener; tests replace it.
var openWithSystem = func(u string) error {
	// pkg/browser copies the opener's stdout to its Stdout, which defaults to ours: the JSON-RPC channel.
	quietBrowser.Do(func() { browser.Stdout = os.Stderr })
	return browser.OpenURL(u)
}

// NoBrowser, given as the command to OpenBrowser, prints the URL and opens nothing (--no-browser).
const NoBrowser = "-"

// OpenBrowser opens raw, after checking it with oauth.BrowserURL, in command (split into words by SplitCommand, the
// URL appended as the last argument; no shell is involved) or, when command is empty, $BROWSER (split the same way),
// else the system's browser. The URL is printed to stderr first in every case, so a user on a machine without a
// browser can copy it. stop stops the command if it still runs and returns once it has exited: a sign-in that is
// abandoned (the bridge shutting down) leaves no command of its own behind.
func OpenBrowser(raw, command string, stderr io.Writer) (stop func(), err error) {
	stop = func() {}
	u, err := oauth.BrowserURL(raw)
	if err != nil {
		return stop, err
	}
	fmt.Fprintf(stderr, "meshai-mcp-server: to sign in, open this URL in a browser:\n\n    %s\n\n", u)
	if command == NoBrowser {
		return stop, nil
	}
	if command == "" {
		command = os.Getenv("BROWSER")
	}
	if command == "" {
		if err := openWithSystem(u.String()); err != nil {
			return stop, fmt.Errorf("could not open a browser (%v): open the URL above by hand", err)
		}
		return stop, nil
	}
	args, err := browserArgv(command, u.String())
	if err != nil {
		return stop, fmt.Errorf("browser %w; open the URL above by hand", err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return stop, fmt.Errorf("browser command %q: %w; open the URL above by hand", args[0], err)
	}
	return running(cmd), nil
}

// running waits for cmd in the background and returns what stops it: a kill, then the wait for its exit (and,
// WaitDelay bounding it, for the output of what it started).
func running(cmd *exec.Cmd) (stop func()) {
	cmd.WaitDelay = time.Second
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	return func() {
		select {
		case <-exited:
			return
		default:
		}
		cmd.Process.Kill()
		<-exited
	}
}
