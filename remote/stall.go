package remote

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// stallGuard closes an answer's body when no complete message arrives on it for a while: a server that stops
// answering mid-response, or trickles bytes that never make a message, cannot hold a request forever.
type stallGuard struct {
	d     time.Duration
	t     *time.Timer
	fired atomic.Bool
}

// guardStall starts watching body; call kick on each complete message and stop when done reading.
func guardStall(body io.Closer, d time.Duration) *stallGuard {
	g := &stallGuard{d: d}
	g.t = time.AfterFunc(d, func() {
		g.fired.Store(true)
		body.Close()
	})
	return g
}

func (g *stallGuard) kick() bool { g.t.Reset(g.d); return false }

func (g *stallGuard) stop() { g.t.Stop() }

// err is the error for a request whose answer stalled, or nil when it did not.
func (g *stallGuard) err() error {
	if !g.fired.Load() {
		return nil
	}
	return &UpstreamError{Message: fmt.Sprintf("the server sent nothing usable for %s in the middle of its answer, so the bridge gave up on it; "+
		"the request may or may not have run. Try again; if it keeps happening, the server or a proxy in between is stalling", g.d), Cause: CauseStall}
}
