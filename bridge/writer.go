package bridge

import (
	"bufio"
	"io"
	"sync"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// Writer writes JSON-RPC messages to the client, one per line, whole: concurrent writers never interleave.
type Writer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	broken chan struct{}
	err    error
}

// NewWriter returns a Writer on w (the process's stdout).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), broken: make(chan struct{})}
}

// Write sends one message (a JSON value without newlines) and flushes it.
func (w *Writer) Write(msg []byte) {
	msg = secrets.ScrubBytes(msg) // a server that echoes a secret of this process must not get it to the client
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	w.w.Write(msg)
	w.w.WriteByte('\n')
	if err := w.w.Flush(); err != nil {
		w.err = err
		close(w.broken)
	}
}

// Broken is closed when the client stopped reading (stdout closed).
func (w *Writer) Broken() <-chan struct{} { return w.broken }
