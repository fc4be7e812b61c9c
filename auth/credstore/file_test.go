package credstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileStorePermissionsAndLayout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no mode bits: the files are private by the profile directory's ACL")
	}
	cfg := filepath.Join(t.TempDir(), "cfg")
	if err := os.MkdirAll(filepath.Join(cfg, "tokens"), 0o755); err != nil { // as if made by hand, too open
		t.Fatal(err)
	}
	s, err := newFileStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Set(ctx, "0123456789abcdef/tokens", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(cfg, "tokens"), os.ModeDir | 0o700},
		{filepath.Join(cfg, "tokens", "0123456789abcdef.tokens.json"), 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(cfg, "tokens"))
	if len(entries) != 1 {
		t.Errorf("tokens dir holds %d entries, want 1 (no temp files left)", len(entries))
	}
}

func TestFileStoreReadersNeverSeePartialValues(t *testing.T) {
	ctx := context.Background()
	s, err := newFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, b := bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 80<<10)
	if err := s.Set(ctx, "k/tokens", a); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad error
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := s.Get(ctx, "k/tokens")
				if err == nil && !bytes.Equal(v, a) && !bytes.Equal(v, b) {
					err = errors.New("read a value that is neither the old nor the new one")
				}
				if err != nil {
					mu.Lock()
					bad = err
					mu.Unlock()
					return
				}
			}
		})
	}
	for i := range 60 {
		v := a
		if i%2 == 0 {
			v = b
		}
		if err := s.Set(ctx, "k/tokens", v); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if bad != nil {
		t.Fatal(bad)
	}
}

// helperCrash writes a new value for name and exits the process halfway, after the data is written to the temp
// file but before it is synced and renamed.
func helperCrash(dir, name string) error {
	s, err := newFileStore(dir)
	if err != nil {
		return err
	}
	fileWriteHook = func(*os.File) error { os.Exit(3); return nil }
	return s.Set(context.Background(), name, bytes.Repeat([]byte("new"), 10000))
}

func TestFileStoreCrashMidWriteKeepsOldValue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := newFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k/client", []byte(`{"client_id":"old"}`)); err != nil {
		t.Fatal(err)
	}
	out, err := runHelper(t, ctx, "crash", dir, "k/client").CombinedOutput()
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper did not crash mid-write: %v: %s", err, out)
	}
	got, err := s.Get(ctx, "k/client")
	if err != nil || string(got) != `{"client_id":"old"}` {
		t.Fatalf("after a crash mid-write Get = %q, %v; want the old value", got, err)
	}
	temps, _ := filepath.Glob(filepath.Join(dir, "tokens", ".k.client.json.tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("want the crashed write's temp file left behind, found %v", temps)
	}
	// An old leftover is cleaned up by the next successful write; a fresh one (a writer may be busy) is not.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(temps[0], old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k/client", []byte(`{"client_id":"new"}`)); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tokens", ".*tmp-*")); len(left) != 0 {
		t.Fatalf("stale temp files left: %v", left)
	}
	if got, _ := s.Get(ctx, "k/client"); !strings.Contains(string(got), "new") {
		t.Fatalf("Get = %q", got)
	}
}

func TestFileStoreFailedWriteLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	s, err := newFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	fileWriteHook = func(*os.File) error { return errors.New("disk full") }
	defer func() { fileWriteHook = func(*os.File) error { return nil } }()
	err = s.Set(context.Background(), "k/tokens", []byte("v"))
	if err == nil || !strings.Contains(err.Error(), "disk is not full") {
		t.Fatalf("Set = %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tokens")); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
