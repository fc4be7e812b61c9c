package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// needChromium returns the node_modules directory holding playwright-core and the Chromium binary, which
// scripts/test installs; without them the test fails in CI and is skipped elsewhere.
func needChromium(t *testing.T) (string, string) {
	t.Helper()
	pw := os.Getenv("MESHAI_PLAYWRIGHT_DIR")
	chromium := "/usr/bin/chromium"
	_, errPW := os.Stat(filepath.Join(pw, "node_modules", "playwright-core"))
	_, errCR := os.Stat(chromium)
	if pw == "" || errPW != nil || errCR != nil {
		msg := "needs Chromium and playwright-core (scripts/test installs them; MESHAI_PLAYWRIGHT_DIR unset or incomplete)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(pw, "node_modules"), chromium
}

// The sign-in through the reference server's real login and consent page, in headless Chromium: a wrong
// password first, then the right one, Approve, and the bridge's own "Signed in" page.
func TestSignInWithChromium(t *testing.T) {
	nodePath, chromium := needChromium(t)
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AccessTokenTTL: time.Hour, Step: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	script, _ := filepath.Abs("chromium/login.cjs")
	wrapper := filepath.Join(dir, "browser.sh")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec node "+script+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "signin.png")
	env := append(signInEnv(dir), "NODE_PATH="+nodePath, "MESHAI_CHROMIUM="+chromium, "MESHAI_SIGNIN_SCREENSHOT="+shot)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	// initialize waits for the sign-in in the browser however long it takes (--sign-in-wait): once, on a busy
	// machine, it outlasted the default 5 s and the test called a tool before it was signed in.
	c, stderr := mcpClient(t, env, []string{"--browser-command", wrapper, "--auth-timeout", hangGuard.String(),
		"--sign-in-wait", hangGuard.String(), srv.URL + "/v1/mcp"},
		client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after the browser sign-in: %v %+v\n%s", err, r, stderr.String())
	}
	if n := srv.Stats().Authorizations; n != 1 {
		t.Errorf("%d authorization requests, want 1", n)
	}
	// The browser writes its screenshot after the redirect, which the bridge may have acted on already; login.cjs
	// renames it into place once written, so it is there whole or not at all.
	var png []byte
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if png, err = os.ReadFile(shot); err == nil {
			break
		}
	}
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no screenshot of the bridge's page: %v\n%s", err, stderr.String())
	}
	if out := os.Getenv("MESHAI_SIGNIN_SCREENSHOT_KEEP"); out != "" {
		_ = os.WriteFile(out, png, 0o644)
	}
}
