//go:build unix

package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop ends a browser command that still runs, and has waited for it when it returns; after the command has
// exited by itself it does nothing.
func TestOpenBrowserStopEndsTheCommand(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		running    bool
	}{
		{"still running", "exec sleep 600", true},
		{"exited already", "exit 0", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			script := filepath.Join(dir, "open.sh")
			if err := os.WriteFile(script, []byte("#!/bin/sh\necho $$ > "+pidFile+".tmp && mv "+pidFile+".tmp "+pidFile+"\n"+tt.body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			stop, err := OpenBrowser("https://auth.example.com/authorize", script, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			pid := readPID(t, pidFile)
			t.Cleanup(func() {
				if t.Failed() { // do not leave a sleep behind
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if !tt.running {
				waitGone(t, pid) // exited by itself; stop must not touch the pid
			}
			stop()
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("the browser command (pid %d) is still there after stop: %v", pid, err)
			}
			stop() // twice is harmless
		})
	}
}

// readPID waits for the command to write its pid; the deadline only guards against a command that never runs.
func readPID(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser command never ran")
		}
	}
}

// waitGone waits until pid has exited and been reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never exited", pid)
		}
	}
}
