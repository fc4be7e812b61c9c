package auth

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/pkg/browser"
)

// BrowserURL checks a URL before any opener sees it: absolute http(s), no user info, no whitespace or control
// characters, and plain http only for a loopback host. A crafted authorization_endpoint with another scheme
// (file:, javascript:) or shell text never reaches a browser or a command.
func BrowserURL(raw string) (*url.URL, error) {
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '`' || r == '\\' }) >= 0 {
		return nil, errors.New("refusing to open a URL with spaces, quotes or control characters; the authorization server's metadata looks wrong")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("refusing to open something that is not an absolute http(s) URL; the authorization server's metadata looks wrong")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("refusing to open a %q URL: only https (or http on loopback) is allowed", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("refusing to open a URL with user info in it")
	}
	return u, nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

var quietBrowser sync.Once

// openWithSystem is the system opener; tests replace it.
var openWithSystem = func(u string) error {
	// pkg/browser copies the opener's stdout to its Stdout, which defaults to ours: the JSON-RPC channel.
	quietBrowser.Do(func() { browser.Stdout = os.Stderr })
	return browser.OpenURL(u)
}

// OpenBrowser opens raw, after checking it with BrowserURL, in command (the URL appended as its last argument;
// no shell is involved) or, when command is empty, $BROWSER, else the system's browser. The URL is printed to
// stderr first in every case, so a user on a machine without a browser can copy it.
func OpenBrowser(raw, command string, stderr io.Writer) error {
	u, err := BrowserURL(raw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "meshai-mcp-server: to sign in, open this URL in a browser:\n\n    %s\n\n", u)
	if command == "" {
		command = os.Getenv("BROWSER")
	}
	if command == "" {
		if err := openWithSystem(u.String()); err != nil {
			return fmt.Errorf("could not open a browser (%v): open the URL above by hand", err)
		}
		return nil
	}
	args := strings.Fields(command)
	cmd := exec.Command(args[0], append(args[1:], u.String())...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("browser command %q: %w; open the URL above by hand", args[0], err)
	}
	go cmd.Wait()
	return nil
}
