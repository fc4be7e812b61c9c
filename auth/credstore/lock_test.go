package credstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// envStoreHelper makes the test binary act as a helper process: the test that reads it (TestStoreHelperProcess)
// does one job and exits, so tests can check what holds across real, separate processes.
const envStoreHelper = "MESHAI_AUTH_STORE_HELPER"

// runHelper starts the test binary as a helper process doing job with args.
func runHelper(t *testing.T, ctx context.Context, job string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStoreHelperProcess$")
	cmd.Env = append(os.Environ(), envStoreHelper+"="+job, "MESHAI_AUTH_HELPER_ARGS="+strings.Join(args, "\x1f"))
	return cmd
}

// helperJobs are what helper processes can do; platform-specific test files add theirs in init.
var helperJobs = map[string]func(args []string) error{
	"count": func(a []string) error { return helperCount(a[0], a[1]) },
	"crash": func(a []string) error { return helperCrash(a[0], a[1]) },
}

// TestStoreHelperProcess is not a test: it is the body of the helper processes (see runHelper).
func TestStoreHelperProcess(t *testing.T) {
	job := os.Getenv(envStoreHelper)
	if job == "" {
		t.Skip("helper process only")
	}
	args := strings.Split(os.Getenv("MESHAI_AUTH_HELPER_ARGS"), "\x1f")
	run, ok := helperJobs[job]
	if !ok {
		run = func([]string) error { return fmt.Errorf("unknown helper job %q", job) }
	}
	if err := run(args); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// helperCount increments the number in <dir>/counter n times, each time under the lock, slowly enough that
// an unlocked read-modify-write would lose updates.
func helperCount(dir, times string) error {
	n, _ := strconv.Atoi(times)
	path := filepath.Join(dir, "counter")
	for range n {
		unlock, err := lock(context.Background(), dir, "0123456789abcdef", nil)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		c, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(time.Millisecond)
		if err := os.WriteFile(path, []byte(strconv.Itoa(c+1)), 0o600); err != nil {
			return err
		}
		unlock()
	}
	return nil
}

func TestLockAcrossProcesses(t *testing.T) {
	const procs, times = 8, 20
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		cmd := runHelper(t, ctx, "count", dir, strconv.Itoa(times))
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%v: %s", err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(procs*times) {
		t.Fatalf("counter = %s after %d processes × %d locked increments, want %d", got, procs, times, procs*times)
	}
	t.Logf("%d processes × %d locked increments = %s", procs, times, b)
	fi, err := os.Stat(filepath.Join(dir, "locks", "0123456789abcdef.lock"))
	if err != nil || fi.Size() != 0 {
		t.Fatalf("lock file: %v, size %d; want an empty file", err, fi.Size())
	}
}

// lock waits for the holder in this process too, and an unlock lets a waiter in. On the fake clock, the waiter is
// seen sleeping between two tries (synctest.Wait) before the lock is released, so the waiting path is the one run.
func TestLockInProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		unlock, err := lock(context.Background(), dir, "key", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := lock(ctx, dir, "key", nil); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another meshai-mcp-server") {
			t.Fatalf("second Lock while held: %v", err)
		}
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Errorf("second Lock gave up after %v; want its context's 100ms", waited)
		}
		other, err := lock(context.Background(), dir, "other-key", nil)
		if err != nil {
			t.Fatalf("a different key waits: %v", err)
		}
		other()
		got := make(chan error, 1)
		go func() {
			u, err := lock(context.Background(), dir, "key", nil)
			if err == nil {
				u()
			}
			got <- err
		}()
		synctest.Wait() // the waiter has tried, found the lock held, and sleeps until its next try
		select {
		case err := <-got:
			t.Fatalf("the waiter returned while the lock was held: %v", err)
		default:
		}
		unlock()
		unlock() // a second call does nothing
		if err := <-got; err != nil {
			t.Fatal(err)
		}
	})
}

func TestLockRefuses(t *testing.T) {
	for _, tc := range []struct{ name, dir, key string }{
		{"path in key", t.TempDir(), "../x"},
		{"slash in key", t.TempDir(), "a/b"},
		{"empty key", t.TempDir(), ""},
		{"no dir", "", "key"},
	} {
		if _, err := lock(context.Background(), tc.dir, tc.key, nil); err == nil {
			t.Errorf("%s: Lock succeeded", tc.name)
		}
	}
}

// The lock file is an empty 0600 file in a 0700 directory, named by the store key (a hash, never a URL or a
// token): it holds nothing to steal.
func TestLockFileHoldsNothing(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockSignIn(context.Background(), dir, "https://mcp.example.com/v1/mcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	entries, err := os.ReadDir(filepath.Join(dir, "locks"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("locks dir: %v %v", entries, err)
	}
	fi, err := entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 || strings.Contains(fi.Name(), "example") {
		t.Errorf("lock file %s holds %d bytes", fi.Name(), fi.Size())
	}
	if runtime.GOOS != "windows" {
		di, _ := os.Stat(filepath.Join(dir, "locks"))
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
			t.Errorf("modes: file %v, dir %v", fi.Mode().Perm(), di.Mode().Perm())
		}
	}
}
