package cli

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// growPipe gives a pipe the 1 MiB buffer (or the most the system allows an unprivileged process), whichever end
// it is handed, and leaves what is not a pipe alone.
func TestGrowPipe(t *testing.T) {
	want := pipeBytes
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < want && os.Geteuid() != 0 {
			want = n
		}
	}
	for _, end := range []string{"read", "write"} {
		t.Run(end, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			f := w
			if end == "read" {
				f = r
			}
			growPipe(f)
			n, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n < want {
				t.Errorf("pipe buffer %d bytes after growPipe, want at least %d", n, want)
			}
			if _, err := w.Write([]byte("still a pipe\n")); err != nil {
				t.Fatal(err)
			}
		})
	}
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	growPipe(f) // not a pipe: nothing happens, nothing fails
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
}
