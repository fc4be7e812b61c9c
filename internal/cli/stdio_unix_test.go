//go:build unix

package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// Pipes come back pollable (only a pollable File supports deadlines); what is not a pipe or socket comes back as
// it was, and data still flows both ways.
func TestPollableStdio(t *testing.T) {
	inR, inW := blockingPipe(t) // what a client hands a child: plain blocking descriptors
	outR, outW := blockingPipe(t)
	in, out := pollableStdio(inR, outW)
	pin, ok1 := in.(*os.File)
	pout, ok2 := out.(*os.File)
	if !ok1 || !ok2 || pin == inR || pout == outW {
		t.Fatalf("pipes should come back as new pollable Files: %T %T", in, out)
	}
	if err := pin.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatalf("stdin is not pollable: %v", err)
	}
	buf := make([]byte, 8)
	if _, err := pin.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an idle read should hit the deadline, got %v", err)
	}
	pin.SetReadDeadline(time.Time{})
	go inW.Write([]byte("ping\n"))
	if n, err := pin.Read(buf); err != nil || string(buf[:n]) != "ping\n" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	if _, err := pout.Write([]byte("pong\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := outR.Read(buf); err != nil || string(buf[:n]) != "pong\n" {
		t.Fatalf("wrote %q %v", buf[:n], err)
	}

	// A File already in the poller (os.Pipe makes those) is kept as it is.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Close(); w.Close() }()
	if in, out := pollableStdio(r, w); in != io.Reader(r) || out != io.Writer(w) {
		t.Errorf("pollable Files should pass unchanged")
	}

	// A regular file, and readers and writers that are not Files, pass through untouched.
	f, err := os.CreateTemp(t.TempDir(), "stdio")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	if in, out := pollableStdio(f, &b); in != io.Reader(f) || out != io.Writer(&b) {
		t.Errorf("a file and a buffer should pass unchanged: %T %T", in, out)
	}
}

// blockingPipe is a pipe whose ends are plain blocking descriptors, as a process inherits them.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}
