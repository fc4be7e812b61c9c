//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckPrivate(t *testing.T) {
	for _, c := range []struct {
		mode os.FileMode
		want string // a word of the refusal; "" = accepted
	}{
		{0o700, ""},
		{0o755, ""},
		{0o777, "every user can write"},
		{0o1777, "every user can write"}, // sticky, as /tmp: others still plant new names
		{0o703, "every user can write"},
	} {
		dir := filepath.Join(t.TempDir(), "cfg")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, c.mode); err != nil {
			t.Fatal(err)
		}
		err := CheckPrivate(dir)
		var ue *UnsafeDirError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("mode %o: %v, want it accepted", c.mode, err)
		case c.want != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir)):
			t.Errorf("mode %o: %v, want an *UnsafeDirError naming %s and saying %q", c.mode, err, dir, c.want)
		}
	}
	if err := CheckPrivate(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("a directory not created yet: %v", err)
	}
	// A group-writable directory is fine when the group is the user's own (Debian's user-private groups).
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(dir)
	if int(st.Sys().(*syscall.Stat_t).Gid) != os.Getgid() {
		t.Fatalf("the test directory's group is not the user's own: cannot check it")
	}
	if err := CheckPrivate(dir); err != nil {
		t.Errorf("group-writable, the user's own group: %v", err)
	}
	// One that belongs to another user: only root can make one.
	if os.Getuid() == 0 {
		other := t.TempDir()
		if err := os.Chown(other, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if err := CheckPrivate(other); err == nil || !strings.Contains(err.Error(), "another user (uid 4242)") {
			t.Errorf("a directory of uid 4242: %v", err)
		}
	}
}
