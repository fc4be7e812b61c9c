package credstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// fileStore keeps each name in its own file, <dir>/<name with '/' as '.'>.json, directory 0700 and files 0600.
// One file per name (not one per key) because tokens are rewritten on every refresh while the client registration
// is written once: a refresh never rewrites the client secret, and the layout matches the keychain item for item.
// On Windows the mode bits mean little; the files are private because they live in the user's profile.
type fileStore struct{ dir string }

func newFileStore(configDir string) (*fileStore, error) {
	if configDir == "" {
		return nil, errors.New("token store: no configuration directory to keep tokens in")
	}
	dir := filepath.Join(configDir, "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token store: create %s: %w", dir, err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(dir, 0o700); err != nil { // an older or hand-made directory may be readable by others
			return nil, fmt.Errorf("token store: make %s private: %w", dir, err)
		}
	}
	return &fileStore{dir: dir}, nil
}

// Kind reports KindFile.
func (f *fileStore) Kind() string { return KindFile }

func (f *fileStore) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, strings.ReplaceAll(name, "/", ".")+".json"), nil
}

// Get reads the file for name.
func (f *fileStore) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("token store: read %s: %w", p, err)
	}
	return b, nil
}

// Set replaces the file for name atomically: a reader sees the old value or the new one, never part of one.
func (f *fileStore) Set(ctx context.Context, name string, value []byte) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil { // the config dir may have been deleted while the bridge ran
		return fmt.Errorf("token store: create %s: %w", f.dir, err)
	}
	if err := writeFileAtomic(p, value); err != nil {
		return fmt.Errorf("token store: write %s: %w (check that the directory is yours and the disk is not full)", p, err)
	}
	removeStaleTemps(p)
	return nil
}

// Delete removes the file for name; a missing file is not an error.
func (f *fileStore) Delete(ctx context.Context, name string) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token store: delete %s: %w", p, err)
	}
	return nil
}

// writeFileAtomic writes a temp file in the same directory, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = fileWriteHook(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = renameReplace(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// fileWriteHook runs after the data is written and before it is synced and renamed; tests use it to crash there.
var fileWriteHook = func(*os.File) error { return nil }

// renameReplace renames over an existing file. On Windows that fails while another process has the target open
// (a reader, an antivirus scan), so it retries for a short while.
func renameReplace(from, to string) error {
	err := os.Rename(from, to)
	for i := 0; err != nil && runtime.GOOS == "windows" && i < 20; i++ {
		time.Sleep(50 * time.Millisecond)
		err = os.Rename(from, to)
	}
	return err
}

// syncDir makes a rename durable where the platform allows it; Windows cannot open a directory for syncing.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// removeStaleTemps removes temp files a crashed write left behind for path, once they are old enough that no
// writer can still be using them.
func removeStaleTemps(path string) {
	olds, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	for _, o := range olds {
		if fi, err := os.Stat(o); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			os.Remove(o)
		}
	}
}
