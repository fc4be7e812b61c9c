package clientconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// BackupSuffix is added to a file's name for the copy kept before install or uninstall changes it: one per file,
// the state before the last change (every other key of the file is in the new version anyway). A name of our
// own, so that a backup another tool or the user made is never overwritten.
const BackupSuffix = ".meshai.bak"

// Result is what install or uninstall did, or would do, to one client.
type Result struct {
	Client string // the client's name
	Where  string // the file changed, or the command run
	Action Action
	Backup string // the backup made, "" when none
	Diff   string // the change, in dry runs
}

// changeFile applies change to the file at path: it reads it (a missing file is empty), and when change alters
// it, writes the new content atomically (a temporary file in the same directory, renamed over the old one, with
// the old one's mode) after copying the old content to path+BackupSuffix. Nothing is written when nothing
// changes or dryRun is set. A symbolic link is followed, so the file it points to is changed, not the link. A new
// file is made readable by its owner only when secret (it will hold an API key).
func changeFile(path string, dryRun, secret bool, change func(src []byte) ([]byte, Action, error)) (Result, error) {
	res := Result{Where: path}
	real := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		real = p
	}
	src, err := os.ReadFile(real)
	mode := fs.FileMode(0o644)
	if secret {
		mode = 0o600
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		src = nil
	case err != nil:
		return res, err
	default:
		if st, err := os.Stat(real); err == nil {
			mode = st.Mode().Perm()
		}
	}
	out, action, err := change(src)
	if err != nil {
		return res, fmt.Errorf("%w (the file was not changed)", err)
	}
	res.Action = action
	if bytes.Equal(out, src) {
		return res, nil
	}
	if dryRun {
		res.Diff = lineDiff(path, src, out)
		return res, nil
	}
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return res, err
	}
	if src != nil {
		res.Backup = real + BackupSuffix
		if err := writeAtomic(res.Backup, src, mode); err != nil {
			return res, fmt.Errorf("backup: %w", err)
		}
	}
	return res, writeAtomic(real, out, mode)
}

// writeAtomic replaces the file at path with b: readers see the old content or the new one, never a part.
func writeAtomic(path string, b []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
