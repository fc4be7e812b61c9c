package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeBytes is the buffer asked for a stdio pipe: Linux's default for an unprivileged process's largest
// (/proc/sys/fs/pipe-max-size).
const pipeBytes = 1 << 20

// growPipe asks the kernel for a 1 MiB buffer on f when it is a pipe. A pipe holds 64 KiB by default, so a 20 MB
// answer crossed it in ~300 turns of writer and reader; with 1 MiB, 20, and the crossing took about half as long
// (scripts/bench, 20 MB rows). Failure (not a pipe; over the size or the per-user total the system allows) leaves
// the pipe as it was.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < pipeBytes {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeBytes)
		}
	})
}
