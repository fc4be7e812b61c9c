// Package membudget bounds the bytes of messages the bridge holds at once, across every stream: the client's
// lines on stdin and the server's answers and events. It imports nothing of the project.
package membudget

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// Budget is a count of bytes that readers take before holding a message and give back once it is written out.
// Taking never waits: a message is read a piece at a time and its size is seldom known in advance, so readers
// that waited for one another while each held part of a message could wait for ever. A reader that cannot take
// what it needs drops its message with an error instead. (golang.org/x/sync/semaphore.Weighted's TryAcquire would
// do the taking, but it cannot tell how much is held, which that error gives; a counter is all that is left.)
// A nil *Budget has no limit.
type Budget struct {
	limit int64
	held  atomic.Int64
}

// New returns a Budget of limit bytes.
func New(limit int64) *Budget { return &Budget{limit: limit} }

// Take takes n bytes if they fit and reports whether they did.
func (b *Budget) Take(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		h := b.held.Load()
		if h+n > b.limit {
			return false
		}
		if b.held.CompareAndSwap(h, h+n) {
			return true
		}
	}
}

// Give gives back n bytes taken before.
func (b *Budget) Give(n int64) {
	if b != nil && n > 0 {
		b.held.Add(-n)
	}
}

// Held is how many bytes are taken now.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.held.Load()
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
