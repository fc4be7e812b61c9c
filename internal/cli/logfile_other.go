//go:build !unix

package cli

import (
	"fmt"
	"os"
)

// openLogFile opens the log file for appending, creating it 0600, and refuses one that is a symbolic link (or
// another reparse point): checked before opening, and the file opened checked to be the one looked at.
func openLogFile(path string) (*os.File, error) {
	before, err := os.Lstat(path)
	if err == nil && !before.Mode().IsRegular() {
		return nil, fmt.Errorf("the log file %s is a link or not a regular file: refusing to follow it (delete it; the bridge makes a new file)", path)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	after, err := os.Lstat(path)
	if st, serr := f.Stat(); err != nil || serr != nil || !after.Mode().IsRegular() || !os.SameFile(st, after) {
		f.Close()
		return nil, fmt.Errorf("the log file %s changed while it was opened (a link put in its place?): refusing it", path)
	}
	return f, nil
}
