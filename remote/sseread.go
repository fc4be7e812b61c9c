package remote

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"sync"

	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
)

// sseReader reads the events of a text/event-stream (WHATWG HTML, "Interpreting an event stream") straight into
// the buffer that becomes the message: an event's data is never held twice while it is read, and a line is
// scanned once however it is split, so a large event costs its size and the time to read it. (go-sse, used
// before, held an event three times over and scanned a long line again after every read.)
type sseReader struct {
	br      *bufio.Reader
	data    *membudget.Buffer // the event's data
	last    string            // the id of the last event dispatched, as Last-Event-ID wants it
	id      []byte            // the id the last id field of the event set
	idField []byte            // the id field being read
	typ     []byte            // its event field
	hasData bool              // a data field was read: the next one is joined with a line feed
	dirty   bool              // a field was read since the last dispatch
	skipLF  bool              // the last line ended with CR: a LF right after it belongs to that line end
	started bool              // the byte order mark was looked for
	drop    int               // stop reading an event dropped for its size once this much of it went by
}

// Bounds of the fields that are not the message: ids and event types are short in any real stream.
const (
	maxIDBytes    = 1 << 10
	maxTypeBytes  = 256
	maxFieldBytes = 16 // a field name: data, event, id and retry are all shorter
)

// newSSEReader reads body; events' data go to data, which bounds them.
func newSSEReader(body io.Reader, data *membudget.Buffer, max int) *sseReader {
	drop := 4 * max
	if max <= 0 {
		drop = math.MaxInt
	}
	br := sseBuffers.Get().(*bufio.Reader)
	br.Reset(body)
	return &sseReader{br: br, data: data, drop: drop}
}

// close gives the reader's buffer back for the next stream; the reader is not used after.
func (r *sseReader) close() {
	r.br.Reset(nil)
	sseBuffers.Put(r.br)
	r.br = nil
}

// sseBuffers hold streams' read buffers: a call answered on a stream of its own needs one per call.
var sseBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// next reads up to the end of the next event and returns its type; its data are in the buffer (check its Err).
// An event whose data did not fit is read to its end unless it goes on past four times the limit, when next
// returns the buffer's error at once: the stream is of no use after that. At the end of input next returns
// io.EOF; an event not ended by a blank line is not dispatched (as the standard says).
func (r *sseReader) next() (string, error) {
	r.data.Release()
	r.id, r.typ, r.hasData, r.dirty = r.id[:0], r.typ[:0], false, false
	idSet := false
	if !r.started {
		r.started = true
		if b, _ := r.br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
			_, _ = r.br.Discard(3)
		}
	}
	for {
		f := field{r: r}
		n, err := r.line(f.write)
		if err != nil {
			return "", err
		}
		if n == 0 { // a blank line dispatches the event
			if !r.dirty {
				continue
			}
			if idSet {
				r.last = string(r.id)
			}
			return string(r.typ), nil
		}
		switch f.end() {
		case fieldID:
			idSet = true
		case fieldTooLong:
			return "", r.data.Err()
		}
	}
}

// line reads one line, handing its bytes to sink a piece at a time, and returns its length. A line ends with
// CR, LF or CRLF; at the end of input a line without one is not a line (io.EOF, or io.ErrUnexpectedEOF).
func (r *sseReader) line(sink func([]byte) bool) (int, error) {
	n := 0
	for {
		if _, err := r.br.Peek(1); err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		window, _ := r.br.Peek(r.br.Buffered())
		if r.skipLF {
			r.skipLF = false
			if window[0] == '\n' {
				_, _ = r.br.Discard(1)
				continue
			}
		}
		i := indexEOL(window)
		if i < 0 {
			n += len(window)
			more := sink(window)
			_, _ = r.br.Discard(len(window))
			if !more {
				return n, nil
			}
			continue
		}
		n += i
		sink(window[:i])
		r.skipLF = window[i] == '\r'
		_, _ = r.br.Discard(i + 1)
		return n, nil
	}
}

// indexEOL is the index of the first CR or LF in b, or -1.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		i = j
	}
	if i == len(b) {
		return -1
	}
	return i
}

// fieldKind is what a line turned out to be.
type fieldKind int

const (
	fieldOther   fieldKind = iota // a comment, retry, or a field the standard ignores
	fieldID                       // an id field, that set the event's id
	fieldTooLong                  // data of an event that did not fit and went on too long to read to its end
)

// field parses one line as it is read: its name up to the first colon, then one optional space, then the value,
// which goes where the name says.
type field struct {
	r        *sseReader
	name     [maxFieldBytes]byte
	nameLen  int  // bytes of name read (may exceed the array: then it is no field the reader knows)
	colon    bool // the colon was read
	valStart bool // the value began (its optional leading space is dealt with)
	badID    bool // the id holds NUL, or is too long: the standard ignores it
}

// write takes the next piece of the line; it reports false once the rest of the line needs no reading.
func (f *field) write(p []byte) bool {
	if !f.colon {
		i := bytes.IndexByte(p, ':')
		name := p
		if i >= 0 {
			name = p[:i]
		}
		if f.nameLen < maxFieldBytes {
			copy(f.name[f.nameLen:], name)
		}
		f.nameLen += len(name)
		if i < 0 {
			return true
		}
		f.colon, p = true, p[i+1:]
		f.begin()
	}
	if !f.valStart {
		if len(p) == 0 {
			return true
		}
		f.valStart = true
		if p[0] == ' ' {
			p = p[1:]
		}
	}
	r := f.r
	switch f.kind() {
	case "data":
		if _, err := r.data.Write(p); err != nil && r.data.Len() > r.drop {
			return false
		}
	case "id":
		if len(r.idField)+len(p) > maxIDBytes || bytes.IndexByte(p, 0) >= 0 {
			f.badID = true
		} else if !f.badID {
			r.idField = append(r.idField, p...)
		}
	case "event":
		if len(r.typ)+len(p) <= maxTypeBytes {
			r.typ = append(r.typ, p...)
		}
	}
	return true
}

// kind is the field's name, "" for one too long to be any the reader knows.
func (f *field) kind() string {
	if f.nameLen > maxFieldBytes {
		return ""
	}
	return string(f.name[:f.nameLen])
}

// begin starts the field's value, once its name is known.
func (f *field) begin() {
	r := f.r
	switch f.kind() {
	case "data":
		r.dirty = true
		if r.hasData {
			_, _ = r.data.Write([]byte{'\n'})
		}
		r.hasData = true
	case "id":
		r.idField = r.idField[:0]
	case "event":
		r.dirty = true
		r.typ = r.typ[:0]
	}
}

// end finishes the line: a line without a colon is a field with an empty value.
func (f *field) end() fieldKind {
	if !f.colon {
		f.colon = true
		f.begin()
	}
	switch k := f.kind(); {
	case k == "data" && f.r.data.Err() != nil && f.r.data.Len() > f.r.drop:
		return fieldTooLong
	case k == "id" && !f.badID:
		f.r.dirty = true
		f.r.id = append(f.r.id[:0], f.r.idField...)
		return fieldID
	}
	return fieldOther
}
