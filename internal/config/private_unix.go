//go:build unix

package config

import (
	"fmt"
	"os"
	"syscall"
)

// CheckPrivate returns an *UnsafeDirError when dir belongs to another user, when others can write to it, or when
// its group can and the group is not the user's own (a user-private group, as Debian and Ubuntu make, is fine).
// A directory that does not exist yet is fine: the bridge creates it with mode 0700.
func CheckPrivate(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return nil // missing: created private; unreadable: the first use says so
	}
	mode := st.Mode().Perm()
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case ok && int(sys.Uid) != os.Getuid():
		return &UnsafeDirError{Dir: dir, Why: fmt.Sprintf("it belongs to another user (uid %d)", sys.Uid)}
	case mode&0o002 != 0:
		return &UnsafeDirError{Dir: dir, Why: fmt.Sprintf("every user can write to it (mode %04o)", mode)}
	case mode&0o020 != 0 && ok && int(sys.Gid) != os.Getgid():
		return &UnsafeDirError{Dir: dir, Why: fmt.Sprintf("its group (gid %d) can write to it (mode %04o)", sys.Gid, mode)}
	}
	return nil
}
