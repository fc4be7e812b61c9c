package membudget

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"unsafe"
)

// Buffer gathers one message a piece at a time, taking from a Budget as it grows, and hands it over in one
// piece. It grows by adding blocks, never by copying what it holds, so a message costs its own size while it is
// read, and its size plus one block while Bytes joins the blocks. The zero value is not usable: see NewBuffer.
type Buffer struct {
	budget *Budget
	max    int
	blocks [][]byte
	n      int    // bytes written
	share  holder // what it took from the budget
	wait   bool   // wait for room in the budget (WaitUntil)
	done   <-chan struct{}
	err    error     // why the message did not fit, once it did not
	hint   int       // the size the message is said to have, for its first block
	joined []byte    // the message in one piece, once Bytes made it; it belongs to the caller
	head   []byte    // the start of a message dropped (Head)
	probe  [16]byte  // where ReadFrom looks for the end of a body whose size was said
	inline [1][]byte // the first block's place, so that a message of one block costs no slice of blocks
}

// NewBuffer returns a Buffer for one message of at most max bytes (0: no bound but the budget's) that takes
// from b (nil: none).
func NewBuffer(b *Budget, max int) *Buffer {
	m := &Buffer{budget: b, max: max}
	m.blocks = m.inline[:0]
	return m
}

// WaitUntil makes the Buffer wait for room in the budget when a piece does not fit, until done is closed, rather
// than drop the message at once. It may still be dropped: when every reader holding part of a message waits,
// the youngest gives up (see Budget). Call it before the first Write.
func (m *Buffer) WaitUntil(done <-chan struct{}) {
	m.wait, m.done = true, done
}

// Write appends p. Once the message does not fit (over max, or no room left in the budget) it holds nothing
// more, keeps counting, and returns *TooLarge or *NoRoom, now and on every later Write.
func (m *Buffer) Write(p []byte) (int, error) {
	before := m.n
	if err := m.account(len(p)); err != nil {
		if len(m.head) == before && before < headBytes { // the head is all of the message so far: p goes on it
			m.head = append(m.head, p[:min(len(p), headBytes-before)]...)
		}
		return len(p), err
	}
	written := len(p)
	for len(p) > 0 {
		b := m.room(len(p))
		k := min(len(p), cap(b)-len(b))
		m.blocks[len(m.blocks)-1] = append(b, p[:k]...)
		p = p[k:]
	}
	return written, nil
}

// ReadFrom reads r to its end straight into the Buffer's blocks (io.Copy uses it: no staging buffer, one copy
// less). It stops at the first error of r, or as soon as the message does not fit, with Write's error.
func (m *Buffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if m.err != nil {
			return total, m.err
		}
		var k int
		var err error
		if last := len(m.blocks) - 1; m.hint > 0 && last == 0 && len(m.blocks[0]) == cap(m.blocks[0]) {
			// The size said has come: look for the end in a small buffer, not a new block.
			k, err = r.Read(m.probe[:])
			total += int64(k)
			if _, werr := m.Write(m.probe[:k]); werr != nil {
				return total, werr
			}
		} else {
			b := m.room(0)
			k, err = r.Read(b[len(b):cap(b)])
			total += int64(k)
			if aerr := m.account(k); aerr != nil {
				return total, aerr
			}
			m.blocks[len(m.blocks)-1] = b[:len(b)+k]
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// account counts n more bytes of the message, taking them from the budget, or fails the message.
func (m *Buffer) account(n int) error {
	if m.err != nil {
		m.n += n
		if tl, ok := m.err.(*TooLarge); ok {
			tl.Size = int64(m.n)
		}
		return m.err
	}
	if m.max > 0 && m.n+n > m.max {
		m.fail(&TooLarge{Size: int64(m.n + n), Max: int64(m.max)})
		m.n += n
		return m.err
	}
	if need := int64(m.n+n) - m.share.taken; need > 0 {
		if !m.budget.grab(&m.share, need, m.wait, m.done) {
			m.fail(&NoRoom{Size: int64(m.n + n), Held: m.budget.Held() - m.share.taken, Limit: m.budget.Limit()})
			m.n += n
			return m.err
		}
	}
	m.n += n
	return nil
}

// room returns the last block, after adding one when it is full; want is the size of what is to go in.
func (m *Buffer) room(want int) []byte {
	last := len(m.blocks) - 1
	if last < 0 || len(m.blocks[last]) == cap(m.blocks[last]) {
		m.blocks = append(m.blocks, make([]byte, 0, m.nextBlock(want)))
		last++
	}
	return m.blocks[last]
}

// SizeHint tells the Buffer, before the first Write, how large the message is said to be (an HTTP body's
// Content-Length). When that fits, it is taken from the budget at once and the first block is made that size,
// so a message of the size said is read into one allocation.
func (m *Buffer) SizeHint(n int64) {
	if m.n > 0 || n <= 0 || (m.max > 0 && n > int64(m.max)) || !m.budget.grab(&m.share, n, m.wait, m.done) {
		return
	}
	m.hint = int(n)
}

// nextBlock sizes a new block: as large as what is held already (the message likely goes on as long again),
// at least what is being written and 4 KiB, at most 4 MiB unless the write itself is larger.
func (m *Buffer) nextBlock(want int) int {
	if m.hint > 0 && len(m.blocks) == 0 {
		return max(m.hint, want)
	}
	size := max(4<<10, min(m.n, 4<<20))
	if m.max > 0 {
		size = min(size, m.max)
	}
	return max(size, min(want, 4<<20))
}

// fail drops what is held, but its first bytes (Head), and records why.
func (m *Buffer) fail(err error) {
	m.err = err
	for _, b := range m.blocks {
		if len(m.head) >= headBytes {
			break
		}
		m.head = append(m.head, b[:min(len(b), headBytes-len(m.head))]...)
	}
	for _, b := range m.blocks {
		dropPages(b)
	}
	m.blocks, m.inline[0] = m.inline[:0], nil
	m.budget.release(&m.share)
}

// Len is how many bytes were written, kept or not.
func (m *Buffer) Len() int { return m.n }

// Head is the start (up to 4 KiB) of a message dropped because it did not fit, for what it can still tell (its
// id); nil otherwise.
func (m *Buffer) Head() []byte { return m.head }

// headBytes is how much of a dropped message Head keeps.
const headBytes = 4 << 10

// Err is why the message did not fit, or nil.
func (m *Buffer) Err() error { return m.err }

// Bytes returns the message in one piece, which belongs to the caller. The Buffer keeps its share of the budget
// until Release. A message of more than one block is copied into one, each block's pages given back to the
// kernel as soon as it is copied, so the copy costs the message's size once, not twice.
func (m *Buffer) Bytes() []byte {
	for len(m.blocks) > 0 && len(m.blocks[len(m.blocks)-1]) == 0 {
		m.blocks = m.blocks[:len(m.blocks)-1]
	}
	if m.joined != nil || len(m.blocks) == 0 {
		return m.joined
	}
	if len(m.blocks) == 1 {
		b := m.blocks[0]
		m.joined, m.blocks = b[:len(b):len(b)], m.inline[:0]
		m.inline[0] = nil
		return m.joined
	}
	// The copy goes into memory that is not zeroed first (strings.Builder's Grow): zeroing would touch every page
	// of it while every block is still held, so the message would cost twice its size after all. The bytes are
	// handed out as a []byte view of the string: nothing that takes a message writes into it.
	var out strings.Builder
	out.Grow(m.n)
	for i, b := range m.blocks {
		out.Write(b)
		dropPages(b)
		m.blocks[i] = nil
	}
	joined := out.String()
	m.joined, m.blocks = unsafe.Slice(unsafe.StringData(joined), len(joined)), m.inline[:0]
	return m.joined
}

// Release gives back what the Buffer took and empties it for the next message. After a large message it runs
// the collector at once: the message's blocks and its joined copy are garbage now, and left to the collector's
// pace (the heap may grow to twice what is live first) the next large message would be read in beside them.
// With the heap small between messages, a collection costs a few milliseconds against the tens a large message
// takes to read; it keeps the bridge's peak near what it holds (scripts/bench: 20 MB result, peak RSS).
func (m *Buffer) Release() {
	if m.n >= collectAfter {
		defer runtime.GC()
	}
	m.budget.release(&m.share)
	for _, b := range m.blocks {
		dropPages(b)
	}
	m.n, m.err, m.blocks, m.hint, m.joined, m.head = 0, nil, m.inline[:0], 0, nil, nil
	m.inline[0] = nil
}

// collectAfter is the size of a message after which Release runs the collector.
const collectAfter = 4 << 20

// TooLarge means a message is larger than one message may be.
type TooLarge struct {
	Size int64 // the message's size, or as much of it as was counted
	Max  int64 // the largest one message may be
}

func (e *TooLarge) Error() string {
	return fmt.Sprintf("a message of %s, over the limit of %s for one message", Size(e.Size), Size(e.Max))
}

// NoRoom means a message did not fit beside the messages held already.
type NoRoom struct {
	Size  int64 // how much of the message there was when it did not fit
	Held  int64 // what other messages held then
	Limit int64 // the budget
}

func (e *NoRoom) Error() string {
	return fmt.Sprintf("a message of at least %s did not fit beside the %s of messages held at once (the budget is %s)",
		Size(e.Size), Size(e.Held), Size(e.Limit))
}
