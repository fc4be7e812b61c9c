package membudget

import "time"

// holder is one reader's share of a Budget while it holds part of a message: its place in line, what it took,
// and, while it waits for more, how much and whether the Budget picked it to give up.
type holder struct {
	seq     uint64 // 0 until it holds bytes; the older the holder, the smaller
	taken   int64
	waiting int64         // the bytes it waits for; 0 when it does not wait
	victim  chan struct{} // closed when it is to give up its message so that the others can go on
}

// fits reports whether n more bytes fit for h (nil: an anonymous Take). No one takes what an older holder waits
// for: bytes given back go to the oldest waiting holder first. (A reader that holds nothing yet is the youngest.)
func (b *Budget) fits(h *holder, n int64) bool {
	if b.held+n > b.limit {
		return false
	}
	var first *holder // the oldest holder other than h that waits
	for w := range b.holders {
		if w != h && w.waiting > 0 && (first == nil || w.seq < first.seq) {
			first = w
		}
	}
	if first != nil && (h == nil || h.seq == 0 || first.seq < h.seq) {
		return b.held+n+first.waiting <= b.limit
	}
	return true
}

// grab takes n more bytes for h. With wait, it waits for room until done is closed, unless waiting could not end:
// when every holder waits, the youngest gives up (grab returns false for it), and so does a message that could
// never fit. Without wait it reports at once whether the bytes fit.
func (b *Budget) grab(h *holder, n int64, wait bool, done <-chan struct{}) bool {
	if b == nil {
		h.taken += n
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.fits(h, n) {
			b.held += n
			if h.seq == 0 {
				b.next++
				h.seq = b.next
				b.holders[h] = struct{}{}
			}
			h.taken += n
			return true
		}
		if !wait || h.taken+n > b.limit {
			return false
		}
		h.waiting = n
		if victim := b.stuck(); victim == h {
			h.waiting = 0
			return false
		} else if victim != nil {
			close(victim.victim)
			victim.victim = nil
		}
		if h.victim == nil {
			h.victim = make(chan struct{})
		}
		freed, picked := b.freed, h.victim
		b.mu.Unlock()
		idle := time.NewTimer(stillWait)
		select {
		case <-freed:
		case <-picked:
		case <-done:
		case <-idle.C:
		}
		idle.Stop()
		b.mu.Lock()
		h.waiting = 0
		select {
		case <-picked: // picked to give up: the others count on its bytes
			return false
		case <-done:
			return false
		case <-freed:
		default:
			return false // nothing given back for stillWait
		}
	}
}

// stillWait bounds a wait in which nothing is given back: the readers holding the room are held up themselves
// (a server that sends no more until another answer is read, a client that does not read stdout), and waiting on
// would never end. While messages are given back, a reader waits on.
const stillWait = 5 * time.Second

// stuck returns, when every holder waits, the youngest of them, which is to give up; nil while one goes on. A
// reader that holds nothing yet waits without holding anyone up and is never picked.
func (b *Budget) stuck() *holder {
	var youngest *holder
	for h := range b.holders {
		if h.waiting == 0 {
			return nil
		}
		if youngest == nil || h.seq > youngest.seq {
			youngest = h
		}
	}
	return youngest
}

// release gives back all h holds.
func (b *Budget) release(h *holder) {
	if b == nil || (h.taken == 0 && h.seq == 0) { // nothing held: no lock, no wake-up
		h.taken = 0
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.giveLocked(h.taken)
	h.taken = 0
	delete(b.holders, h)
	h.seq = 0
}

// giveLocked gives back n bytes and wakes the waiters; b.mu is held.
func (b *Budget) giveLocked(n int64) {
	b.held -= n
	close(b.freed)
	b.freed = make(chan struct{})
}
