//go:build unix

package cli

import (
	"io"
	"os"
	"syscall"
	"time"
)

// pollableStdio returns stdin and stdout, when they are pipes or sockets, as Files that wait in Go's network
// poller instead of a blocked thread. A blocking read parks an OS thread; when the client writes, that thread must
// win back a processor before the message moves on, which cost a relayed call ~0.2 ms on a 2-vCPU VM
// (scripts/bench). Terminals and files are left alone (a terminal's non-blocking flag is shared with the shell
// that started us), and so is anything that is not an *os.File or is also stderr. Stdin and stdout on one socket
// share one File.
func pollableStdio(in io.Reader, out io.Writer) (io.Reader, io.Writer) {
	fout, outIsFile := out.(*os.File)
	if fin, ok := in.(*os.File); ok {
		p := pollableFile(fin)
		if p != fin && outIsFile && sameFile(fin, fout) {
			return p, p
		}
		in = p
	}
	if outIsFile {
		out = pollableFile(fout)
	}
	return in, out
}

// pollableFile switches a pipe or socket to non-blocking mode and returns a pollable File on it; anything else,
// one that is also stderr (whose plain File would then fail with EAGAIN), or any failure, returns f.
func pollableFile(f *os.File) *os.File {
	if sameFile(f, os.Stderr) || f.SetDeadline(time.Time{}) == nil { // also stderr, or already in the poller
		return f
	}
	fd := int(f.Fd())
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return f
	}
	if kind := st.Mode & syscall.S_IFMT; kind != syscall.S_IFIFO && kind != syscall.S_IFSOCK {
		return f
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f
	}
	p := os.NewFile(uintptr(fd), f.Name()) // non-blocking now, so NewFile gives a pollable File
	keep = append(keep, p)                 // unreferenced, its finalizer would close the descriptor
	if p.SetDeadline(time.Time{}) != nil { // the poller refused it: a plain File on a non-blocking fd would fail
		_ = syscall.SetNonblock(fd, false)
		return f
	}
	return p
}

// sameFile reports whether a and b are the same open pipe or socket (a client that gave us one socket for both).
func sameFile(a, b *os.File) bool {
	sa, errA := a.Stat()
	sb, errB := b.Stat()
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// keep holds the Files pollableFile made, for the life of the process.
var keep []*os.File
