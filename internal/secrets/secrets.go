// Package secrets keeps the secret values this process holds — access and refresh tokens, the authorization code,
// the PKCE verifier, client secrets, the API key, the values of --header — and scrubs them from any text before
// it reaches an error, a log line or stdout: a server that echoes one back (in an error_description, a
// WWW-Authenticate, a Location, a tool result) must not get it printed. The parts of the bridge that learn a
// secret Add it; the writers of stderr, the log file and stdout, and the errors that quote a server, Scrub.
// It imports nothing of the project.
package secrets

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// MinLen is the shortest value kept: a shorter one would blank ordinary words wherever they occur.
const MinLen = 8

// maxKept bounds the values kept; the oldest go first. Tokens are replaced as they are refreshed, so this holds
// hours of them, while every message on stdout is checked against each one.
const maxKept = 64

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

var (
	mu   sync.Mutex
	kept atomic.Pointer[set] // read without the lock; replaced whole under it
)

// set is the kept values and a matcher over them; never changed once stored.
type set struct {
	vals [][]byte
	m    matcher
}

// Add keeps each value of at least MinLen bytes (and its URL-encoded form, when that differs: a server may echo a
// value it received in a query or a form) so that Scrub removes it from then on.
func Add(vals ...string) {
	mu.Lock()
	defer mu.Unlock()
	cur := values()
	next := cur
	changed := false
	for _, v := range vals {
		for _, form := range []string{v, url.QueryEscape(v)} {
			if len(form) < MinLen || contains(next, form) {
				continue
			}
			if !changed {
				next = append([][]byte(nil), cur...)
				changed = true
			}
			next = append(next, []byte(form))
		}
	}
	if !changed {
		return
	}
	if len(next) > maxKept {
		next = next[len(next)-maxKept:]
	}
	kept.Store(&set{vals: next, m: newMatcher(next)})
}

func contains(list [][]byte, v string) bool {
	for _, b := range list {
		if string(b) == v {
			return true
		}
	}
	return false
}

// values returns the kept values, nil when there are none.
func values() [][]byte {
	if p := kept.Load(); p != nil {
		return p.vals
	}
	return nil
}

// Scrub returns s with every kept value replaced by Redacted.
func Scrub(s string) string {
	for _, v := range values() {
		if strings.Contains(s, string(v)) {
			s = strings.ReplaceAll(s, string(v), Redacted)
		}
	}
	return s
}

// ScrubBytes returns b with every kept value replaced by Redacted: b itself, unchanged and not copied, when it
// holds none, so a large message costs one search per value and nothing else.
func ScrubBytes(b []byte) []byte {
	p := kept.Load()
	if p == nil || !p.m.any(b) {
		return b
	}
	for _, v := range p.vals {
		if bytes.Contains(b, v) {
			b = bytes.ReplaceAll(b, v, []byte(Redacted))
		}
	}
	return b
}

// Writer returns a writer that scrubs each Write before passing it to w. A value split between two Writes is not
// seen: use it where each Write is a whole line (a log record, a message, fmt.Fprintln).
func Writer(w io.Writer) io.Writer { return scrubbing{w} }

type scrubbing struct{ w io.Writer }

func (s scrubbing) Write(p []byte) (int, error) {
	if _, err := s.w.Write(ScrubBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// matcher finds whether any kept value occurs in a text in one pass, however many values are kept. Every value
// has at least 8 bytes, so wherever one occurs, some position that is a multiple of 4 holds one of its first four
// 4-byte grams (at offset 0 to 3 in it): the scan reads one gram every 4 bytes and skips it with one bit test
// unless it is such a gram. (bytes.Contains once per value took about 45 ms per value on a 20 MB message of
// ordinary text; this scans it once for all of them.)
type matcher struct {
	bits  [1 << 10]uint64 // 65,536 bits, by hash of a gram
	grams map[uint32][]candidate
}

// candidate is a value that has gram g at offset off.
type candidate struct {
	v   []byte
	off int
}

func newMatcher(vals [][]byte) matcher {
	m := matcher{grams: map[uint32][]candidate{}}
	for _, v := range vals {
		for off := range 4 { // every value has at least MinLen (8) bytes
			g := binary.LittleEndian.Uint32(v[off : off+4])
			h := hash(g)
			m.bits[h>>6] |= 1 << (h & 63)
			m.grams[g] = append(m.grams[g], candidate{v, off})
		}
	}
	return m
}

func hash(g uint32) uint32 { return (g * 0x9E3779B1) >> 16 }

// any reports whether a kept value occurs in b.
func (m *matcher) any(b []byte) bool {
	for i := 0; i+4 <= len(b); i += 4 {
		g := binary.LittleEndian.Uint32(b[i : i+4])
		h := hash(g)
		if m.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, c := range m.grams[g] {
			if start := i - c.off; start >= 0 && bytes.HasPrefix(b[start:], c.v) {
				return true
			}
		}
	}
	return false
}
