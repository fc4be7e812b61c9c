//go:build unix

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A client that disconnects (stdin EOF) while a sign-in is pending gets nothing more on stdout — no "the bridge is
// shutting down" advice — and the --browser-command still running is stopped.
func TestNothingAfterEOFDuringPendingSignIn(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "browser.pid")
	browser := filepath.Join(dir, "browser.sh")
	// A browser that never opens the link and never exits by itself; it writes its pid, whole, first.
	if err := os.WriteFile(browser, []byte("#!/bin/sh\necho $$ > "+pidFile+".tmp && mv "+pidFile+".tmp "+pidFile+"\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rb := startRaw(t, signInEnv(dir), "--browser-command", browser, "--sign-in-wait", "10ms", srv.URL+"/v1/mcp")
	pid := 0
	t.Cleanup(func() { // before startRaw's cleanup, which waits for the bridge's stderr: the sleep holds it open
		if pid != 0 && syscall.Kill(pid, 0) == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	rb.send(t, initLine)
	// The relay's answer to initialize, and the link once the sign-in is under way, in either order.
	for answered, linked := false, false; !answered || !linked; {
		switch m := rb.next(t); {
		case m["id"] == float64(1) && m["result"] != nil:
			answered = true
		case m["id"] == float64(1):
			t.Fatalf("initialize: %v", m)
		case m["method"] == "notifications/message" && strings.Contains(fmt.Sprint(m["params"]), "/oauth/authorize"):
			linked = true
		}
	}
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for deadline := time.Now().Add(hangGuard); pid == 0; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		} else if time.Now().After(deadline) {
			t.Fatal("the browser command never ran")
		}
	}
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`) // everything written before the EOF is read with its answer
	rb.until(t, float64(2))
	rb.stdin.Close()
	var after []string
	for line := range rb.lines { // until the bridge exits and stdout closes
		after = append(after, line)
	}
	if len(after) > 0 {
		t.Errorf("the bridge wrote %d lines after stdin closed: %q", len(after), after)
	}
	// The bridge waits for the command it stops: gone (and reaped) once the bridge has exited. The deadline only
	// guards against a reaping by init after a crash.
	for deadline := time.Now().Add(hangGuard); !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the browser command (pid %d) outlived the bridge", pid)
		}
	}
}
