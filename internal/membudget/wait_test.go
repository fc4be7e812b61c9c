package membudget

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// write runs b.Write(make([]byte, n)) in a goroutine of the bubble and returns where its error arrives.
func write(b *Buffer, n int) <-chan error {
	out := make(chan error, 1)
	go func() {
		_, err := b.Write(make([]byte, n))
		out <- err
	}()
	return out
}

// waiting reports whether a write is still blocked, once everything else in the bubble is.
func waiting(t *testing.T, c <-chan error) bool {
	t.Helper()
	synctest.Wait()
	select {
	case err := <-c:
		t.Logf("the write ended: %v", err)
		return false
	default:
		return true
	}
}

// A Buffer told to wait waits for room, and gets it when another message is given back; one not told to wait
// drops its message at once; closing done ends the wait with the message dropped.
func TestWaitForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		a := NewBuffer(b, 0)
		if _, err := a.Write(make([]byte, 60)); err != nil {
			t.Fatal(err)
		}
		if _, err := NewBuffer(b, 0).Write(make([]byte, 50)); !errors.As(err, new(*NoRoom)) {
			t.Errorf("without WaitUntil: %v, want *NoRoom at once", err)
		}

		w := NewBuffer(b, 0)
		w.WaitUntil(nil)
		got := write(w, 50)
		if !waiting(t, got) {
			t.Fatal("the write should wait for room")
		}
		a.Release()
		if err := <-got; err != nil {
			t.Fatalf("after the room was given back: %v", err)
		}
		if h := b.Held(); h != 50 {
			t.Errorf("held %d, want 50", h)
		}

		done := make(chan struct{})
		c := NewBuffer(b, 0)
		c.WaitUntil(done)
		got = write(c, 60)
		if !waiting(t, got) {
			t.Fatal("the write should wait for room")
		}
		close(done)
		if err := <-got; !errors.As(err, new(*NoRoom)) {
			t.Errorf("after done: %v, want *NoRoom", err)
		}
		w.Release()
		c.Release()
		if h := b.Held(); h != 0 {
			t.Errorf("held %d after every Release, want 0", h)
		}
	})
}

// When every holder waits, none could go on: the youngest gives its message up, and the oldest gets the room
// first, before a reader that came later.
func TestYoungestGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		older, younger, later := NewBuffer(b, 0), NewBuffer(b, 0), NewBuffer(b, 0)
		for _, m := range []*Buffer{older, younger, later} {
			m.WaitUntil(nil)
		}
		for _, m := range []*Buffer{older, younger} {
			if _, err := m.Write(make([]byte, 40)); err != nil {
				t.Fatal(err)
			}
		}
		olderMore := write(older, 30)
		if !waiting(t, olderMore) {
			t.Fatal("the older should wait: 20 bytes are free, it needs 30")
		}
		laterFirst := write(later, 15) // fits the 20 free, but they are the older one's first
		if !waiting(t, laterFirst) {
			t.Fatal("a later reader should not take the room the older holder waits for")
		}
		if err := <-write(younger, 30); !errors.As(err, new(*NoRoom)) {
			t.Fatalf("the younger, waiting too, should give up: %v", err)
		}
		if err := <-olderMore; err != nil {
			t.Fatalf("the older should go on once the younger gave up: %v", err)
		}
		if err := <-laterFirst; err != nil { // 70 held, 15 fit
			t.Fatalf("the later reader should go on once the older has what it waited for: %v", err)
		}
		if h := b.Held(); h != 85 {
			t.Errorf("held %d, want 85", h)
		}
	})
}

// Four readers of 30-byte messages read a byte at a time, all at once, against a budget of 64: they never all
// wait for ever, at least two finish (two fit), and the others are dropped with *NoRoom.
func TestConcurrentReadersFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(64)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			finished int
		)
		for range 4 {
			wg.Go(func() {
				m := NewBuffer(b, 0)
				m.WaitUntil(nil)
				for range 30 {
					if _, err := m.Write([]byte{'x'}); err != nil {
						if !errors.As(err, new(*NoRoom)) {
							t.Errorf("dropped with %v, want *NoRoom", err)
						}
						m.Release()
						return
					}
				}
				mu.Lock()
				finished++
				mu.Unlock()
				m.Release()
			})
		}
		wg.Wait()
		if finished < 2 {
			t.Errorf("%d of 4 finished, want at least 2", finished)
		}
		if h := b.Held(); h != 0 {
			t.Errorf("held %d after all, want 0", h)
		}
	})
}

// A wait in which nothing is given back ends after stillWait with the message dropped: the holders are held up
// themselves, and waiting on would never end.
func TestWaitWithoutProgressEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(100)
		stalled := NewBuffer(b, 0) // holds 80 and reads no more, as a stream the server stopped sending on
		if _, err := stalled.Write(make([]byte, 80)); err != nil {
			t.Fatal(err)
		}
		w := NewBuffer(b, 0)
		w.WaitUntil(nil)
		start := time.Now()
		if err := <-write(w, 30); !errors.As(err, new(*NoRoom)) {
			t.Fatalf("got %v, want *NoRoom", err)
		}
		if waited := time.Since(start); waited != stillWait {
			t.Errorf("gave up after %s, want %s", waited, stillWait)
		}
	})
}
