// Package membudget bounds the bytes of messages the bridge holds at once, across every stream: the client's
// lines on stdin and the server's answers and events. It imports nothing of the project.
package membudget

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Budget is a count of bytes that readers take before holding a message and give back once it is written out.
// A message is read a piece at a time and its size is seldom known in advance, so a reader takes as it reads.
// When a piece does not fit, a Buffer told to wait (WaitUntil) waits for room; when every reader holding part of
// a message waits, none could ever go on, so the youngest of them gives up its message and its bytes: the others
// then finish, oldest first. A reader not told to wait drops its message at once. (golang.org/x/sync/semaphore's
// Weighted waits in order, but a reader that waits while holding part of a message could wait for ever on
// readers that wait for it; it has no way to pick one to give up.) A nil *Budget has no limit.
type Budget struct {
	limit   int64
	mu      sync.Mutex
	held    int64
	next    uint64               // the sequence number of the next reader to hold bytes
	holders map[*holder]struct{} // the readers holding bytes
	freed   chan struct{}        // closed, and replaced, whenever bytes are given back
}

// New returns a Budget of limit bytes.
func New(limit int64) *Budget {
	return &Budget{limit: limit, holders: map[*holder]struct{}{}, freed: make(chan struct{})}
}

// Take takes n bytes if they fit and reports whether they did; it never waits.
func (b *Budget) Take(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.fits(nil, n) {
		return false
	}
	b.held += n
	return true
}

// Give gives back n bytes taken with Take.
func (b *Budget) Give(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.giveLocked(n)
}

// Held is how many bytes are taken now.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held
}

// Limit is the budget's size; 0 for none.
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// MaxMessage is the largest one message may be: half the budget, so that one message never starves the rest.
func (b *Budget) MaxMessage() int {
	if b == nil {
		return 0
	}
	return int(b.limit / 2)
}

// Size renders a byte count in the largest binary unit that keeps it readable: "128 MiB", "64 KiB", "1.5 MiB",
// "100 bytes".
func Size(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		case n >= u.size:
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseSize reads a size as the --max-memory flag takes it: a number of bytes with an optional unit, KiB, MiB or
// GiB (K, M, G, KB, MB and GB mean the same binary units).
func ParseSize(s string) (int64, error) {
	num, unit := s, int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok && rest != "" {
			num, unit = rest, u.size
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/unit {
		return 0, fmt.Errorf("%q is not a size: use a whole number of bytes, or one with KiB, MiB or GiB (e.g. 256MiB)", s)
	}
	return n * unit, nil
}

// units are the suffixes ParseSize knows, the longer of each unit first.
var units = []struct {
	suffix string
	size   int64
}{
	{"GiB", 1 << 30}, {"GB", 1 << 30}, {"G", 1 << 30},
	{"MiB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20},
	{"KiB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10},
}
