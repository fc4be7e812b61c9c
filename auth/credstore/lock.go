package credstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a waiting process tries the lock again.
const lockRetry = 25 * time.Millisecond

// LockSignIn takes the cross-process lock for signing in to the server resource, in <configDir>/locks, waiting until
// it is free or ctx ends, so that bridges started side by side run one sign-in. waiting, when set, is called once if
// another process holds the lock and this one has to wait. The lock file is named by ServerKey and holds nothing.
// The lock is held until unlock is called (more calls do nothing) or the process exits.
func LockSignIn(ctx context.Context, configDir, resource string, waiting func()) (unlock func(), err error) {
	return lock(ctx, configDir, ServerKey(resource), waiting)
}

// lock takes the cross-process lock for key (a storeKey) in <configDir>/locks/<key>.lock, waiting until it is free
// or ctx ends; waiting, when set, is called once if another process holds the lock and this one has to wait.
func lock(ctx context.Context, configDir, key string, waiting func()) (unlock func(), err error) {
	if !isNameSegment(key) || len(key) > maxNameLen {
		return nil, fmt.Errorf("lock: key %q must be letters, digits, '-' and '_'", key)
	}
	if configDir == "" {
		return nil, errors.New("lock: no configuration directory to keep lock files in")
	}
	dir := filepath.Join(configDir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: create %s: %w", dir, err)
	}
	if runtime.GOOS != "windows" {
		_ = os.Chmod(dir, 0o700)
	}
	fl := flock.New(filepath.Join(dir, key+".lock"), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err == nil && !ok {
		if waiting != nil {
			waiting()
		}
		ok, err = fl.TryLockContext(ctx, lockRetry)
	}
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		fl.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for another meshai-mcp-server process to finish signing in or refreshing "+
				"(lock %s): %w; try again, or end the other process", fl.Path(), err)
		}
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	var once sync.Once
	return func() { once.Do(func() { _ = fl.Close() }) }, nil
}
