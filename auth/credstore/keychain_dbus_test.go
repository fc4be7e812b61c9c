//go:build linux

package credstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func init() { helperJobs["dbus-hang"] = func(a []string) error { return helperDBusHang(a[0]) } }

// helperDBusHang runs with DBUS_SESSION_BUS_ADDRESS pointing at a peer that never answers, as a hung Secret Service
// would: go-keyring blocks for good, and Open must give up after its timeout. An Open that did not would
// never return, and the test's deadline would end this process.
func helperDBusHang(dir string) error {
	ctx := context.Background()
	_, _, err := Open(ctx, KindKeychain, dir, 300*time.Millisecond)
	var ke *KeychainError
	if !errors.As(err, &ke) || ke.Timeout != 300*time.Millisecond || !strings.Contains(err.Error(), "did not answer within 300ms") {
		return fmt.Errorf("Open(keychain) = %v; want a *KeychainError timing out after 300ms", err)
	}
	s, warn, err := Open(ctx, KindAuto, dir, 300*time.Millisecond)
	if err != nil || s.Kind() != KindFile || !strings.Contains(warn, "did not answer") ||
		!strings.Contains(warn, "0600 files in "+filepath.Join(dir, "tokens")) || strings.Contains(warn, "\n") || strings.Contains(warn, "--") {
		return fmt.Errorf("Open(auto) = %v, %q, %v; want the file store and a one-line warning stating where, naming no flag", s, warn, err)
	}
	fmt.Println(warn)
	return nil
}

func TestKeychainThatNeverAnswers(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and say nothing, holding the connections open
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only a hang guard
	defer cancel()
	cmd := runHelper(t, ctx, "dbus-hang", dir)
	cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("auto warning: %s", strings.TrimSpace(string(out)))
}

func TestOpenStoreWithoutSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if keychainReachable() == nil {
		// A desktop's systemd user bus (/run/user/UID/bus) cannot be hidden from the process; CI has none, so
		// there this path must run.
		msg := "a systemd user bus is there: the keychain may well answer"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; on CI this test must run")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	s, warn, err := Open(context.Background(), "", dir, 0)
	if err != nil || s.Kind() != KindFile || !strings.Contains(warn, "no D-Bus session bus") || !strings.Contains(warn, filepath.Join(dir, "tokens")) {
		t.Fatalf("Open(auto) = %v, %q, %v", s, warn, err)
	}
	_, _, err = Open(context.Background(), KindKeychain, dir, 0)
	if ke := (*KeychainError)(nil); !errors.As(err, &ke) || ke.Timeout != 0 || ke.Err == nil || !strings.Contains(err.Error(), "not usable (no D-Bus session bus") {
		t.Fatalf("Open(keychain) = %v, want a *KeychainError with the reason", err)
	}
}
