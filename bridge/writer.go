package bridge

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"unicode/utf8"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// Writer writes JSON-RPC messages to the client, one per line, whole: concurrent writers never interleave.
type Writer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	broken chan struct{}
	err    error
	log    *slog.Logger // where replaced bytes are reported; nil for nowhere
}

// NewWriter returns a Writer on w (the process's stdout).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), broken: make(chan struct{})}
}

// setLog makes w report there the bytes it replaces.
func (w *Writer) setLog(l *slog.Logger) {
	w.mu.Lock()
	w.log = l
	w.mu.Unlock()
}

// Write sends one message (a JSON value without newlines) and flushes it. Bytes that are not UTF-8, which JSON
// text must be, are replaced with U+FFFD.
func (w *Writer) Write(msg []byte) {
	msg = secrets.ScrubBytes(msg) // a server that echoes a secret of this process must not get it to the client
	if !utf8.Valid(msg) {
		var n int
		msg, n = validUTF8(msg)
		w.mu.Lock()
		log := w.log
		w.mu.Unlock()
		if log != nil {
			log.Warn("replaced bytes that are not UTF-8 in a message for the client with U+FFFD", "bytes", n)
		}
	}
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
