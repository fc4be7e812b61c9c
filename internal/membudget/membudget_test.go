package membudget

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/iotest"
)

func TestTakeGive(t *testing.T) {
	b := New(100)
	steps := []struct {
		take, give int64
		want       bool
		held       int64
	}{
		{take: 60, want: true, held: 60},
		{take: 41, want: false, held: 60},
		{take: 40, want: true, held: 100},
		{give: 60, held: 40},
		{take: 60, want: true, held: 100},
		{take: 0, want: true, held: 100},
	}
	for i, s := range steps {
		if s.give > 0 {
			b.Give(s.give)
		} else if got := b.Take(s.take); got != s.want {
			t.Errorf("step %d: Take(%d) = %v, want %v", i, s.take, got, s.want)
		}
		if h := b.Held(); h != s.held {
			t.Errorf("step %d: held %d, want %d", i, h, s.held)
		}
	}
	if b.MaxMessage() != 50 || b.Limit() != 100 {
		t.Errorf("MaxMessage %d, Limit %d", b.MaxMessage(), b.Limit())
	}
}

// A nil Budget has no limit; concurrent takers never overdraw a real one.
func TestNilAndConcurrent(t *testing.T) {
	var nb *Budget
	if !nb.Take(1<<40) || nb.Held() != 0 || nb.Limit() != 0 {
		t.Error("a nil Budget must take anything and hold nothing")
	}
	nb.Give(5)
	b := New(1000)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 1000 {
				if b.Take(7) {
					if h := b.Held(); h > 1000 {
						t.Errorf("held %d over the limit", h)
					}
					b.Give(7)
				}
			}
		})
	}
	wg.Wait()
	if b.Held() != 0 {
		t.Errorf("held %d after everything was given back", b.Held())
	}
}

func TestSizes(t *testing.T) {
	for s, want := range map[string]int64{
		"256MiB": 256 << 20, "256M": 256 << 20, "1GiB": 1 << 30, "2G": 2 << 30, "64KiB": 64 << 10, "1000": 1000, "8 MB": 8 << 20,
	} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "-1", "0", "1.5GiB", "lots", "99999999999G"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) took it", s)
		}
	}
	for n, want := range map[int64]string{128 << 20: "128 MiB", 64 << 10: "64 KiB", 3 << 19: "1.5 MiB", 1000: "1000 bytes", 1 << 30: "1 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// A Buffer joins what was written in pieces, bounds it, and gives its share back.
func TestBuffer(t *testing.T) {
	b := New(1 << 20)
	m := NewBuffer(b, 300<<10)
	var want []byte
	for i := range 100 {
		p := make([]byte, 1+i*37)
		for j := range p {
			p[j] = byte(i + j)
		}
		if n, err := m.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
		}
		want = append(want, p...)
	}
	if got := m.Bytes(); string(got) != string(want) || b.Held() != int64(len(want)) {
		t.Fatalf("Bytes: %d bytes (want %d), held %d", len(got), len(want), b.Held())
	}
	m.Release()
	m.SizeHint(1000)
	if b.Held() != 1000 {
		t.Errorf("a size hint takes its size at once: held %d", b.Held())
	}
	m.Write(make([]byte, 400<<10))
	var tl *TooLarge
	if err := m.Err(); !errors.As(err, &tl) || tl.Size != 400<<10 || b.Held() != 0 {
		t.Errorf("over the limit: %v, held %d", err, b.Held())
	}
	m.Write(make([]byte, 10))
	if tl.Size != 400<<10+10 || m.Len() != 400<<10+10 {
		t.Errorf("a dropped message goes on being counted: %d", tl.Size)
	}
	m.Release()
	b.Take(900 << 10)
	m.Write(make([]byte, 200<<10))
	var nr *NoRoom
	if err := m.Err(); !errors.As(err, &nr) || nr.Held != 900<<10 || b.Held() != 900<<10 {
		t.Errorf("no room: %v, held %d", err, b.Held())
	}
}

// ReadFrom reads into the blocks; with the size said beforehand, the message is one allocation and no copy.
func TestReadFrom(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int
		hint int64
	}{{"small, size said", 300, 300}, {"large, size said", 3 << 20, 3 << 20}, {"large, size not said", 3<<20 + 7, 0}, {"empty", 0, 0}} {
		src := make([]byte, tt.size)
		for i := range src {
			src[i] = byte(i * 7)
		}
		b := New(16 << 20)
		m := NewBuffer(b, 8<<20)
		m.SizeHint(tt.hint)
		n, err := io.Copy(m, iotest.HalfReader(bytes.NewReader(src)))
		if err != nil || n != int64(tt.size) {
			t.Fatalf("%s: io.Copy = %d, %v", tt.name, n, err)
		}
		if tt.hint > 0 && len(m.blocks) != 1 {
			t.Errorf("%s: %d blocks for a message whose size was said", tt.name, len(m.blocks))
		}
		if got := m.Bytes(); !bytes.Equal(got, src) || b.Held() != int64(tt.size) {
			t.Errorf("%s: %d bytes back, held %d", tt.name, len(got), b.Held())
		}
		m.Release()
		if b.Held() != 0 {
			t.Errorf("%s: held %d after Release", tt.name, b.Held())
		}
	}
}

// A message dropped keeps its first 4 KiB (Head), however it was written and whatever dropped it.
func TestHead(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 1000)
	for _, tt := range []struct {
		name  string
		held  int64 // taken by others
		max   int
		piece int
	}{{"over the limit, in small pieces", 0, 6000, 100}, {"no room at the first piece", 1<<20 + 1000, 0, 9000}, {"no room later", 1 << 20, 0, 10}} {
		b := New(1<<20 + 5000)
		b.Take(tt.held)
		m := NewBuffer(b, tt.max)
		for p := msg; len(p) > 0; p = p[min(tt.piece, len(p)):] {
			m.Write(p[:min(tt.piece, len(p))])
		}
		if m.Err() == nil || !bytes.Equal(m.Head(), msg[:headBytes]) {
			t.Errorf("%s: err %v, head of %d bytes", tt.name, m.Err(), len(m.Head()))
		}
		m.Release()
		if m.Head() != nil || b.Held() != tt.held {
			t.Errorf("%s: after Release, head %d bytes, held %d", tt.name, len(m.Head()), b.Held())
		}
	}
}
