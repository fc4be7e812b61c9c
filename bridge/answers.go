package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// inflight holds the ids of the client's requests that wait for their answer, by jsonrpc.IDKey: each request
// gets exactly one answer, and an id is in use by one request at a time.
type inflight struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	none chan struct{} // closed while no request waits
}

func newInflight() *inflight {
	none := make(chan struct{})
	close(none)
	return &inflight{ids: map[string]struct{}{}, none: none}
}

// claim marks id in flight and reports whether it was free.
func (f *inflight) claim(id json.RawMessage) bool {
	k := jsonrpc.IDKey(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, busy := f.ids[k]; busy {
		return false
	}
	if len(f.ids) == 0 {
		f.none = make(chan struct{})
	}
	f.ids[k] = struct{}{}
	return true
}

// release ends id's time in flight and reports whether it was in flight: whether an answer for it is owed.
func (f *inflight) release(id json.RawMessage) bool {
	k := jsonrpc.IDKey(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.ids[k]; !ok {
		return false
	}
	delete(f.ids, k)
	if len(f.ids) == 0 {
		close(f.none)
	}
	return true
}

// idle is closed once no request waits, until the next one is claimed.
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.none
}

// claim takes the ids of the requests in m. A request whose id is already in use by one in flight is answered
// at once with an error and left out (of a batch, the rest goes on); ok is false when nothing is left to send.
func (r *Relay) claim(m jsonrpc.Message) (jsonrpc.Message, bool) {
	switch m.Kind {
	case jsonrpc.KindRequest:
		if !r.inflight.claim(m.ID) {
			r.idInUse(m.ID)
			return m, false
		}
	case jsonrpc.KindBatch:
		kept := make([][]byte, 0, len(m.Batch))
		for _, e := range m.Batch {
			if e.Kind == jsonrpc.KindRequest && !r.inflight.claim(e.ID) {
				r.idInUse(e.ID)
				continue
			}
			kept = append(kept, e.Raw)
		}
		switch len(kept) {
		case 0:
			return m, false
		case len(m.Batch):
			return m, true
		}
		b, err := jsonrpc.Parse(joinBatch(kept))
		return b, err == nil
	case jsonrpc.KindNotification:
		if m.Method == "notifications/cancelled" {
			// The client expects no answer any more; one that still comes is dropped.
			var p struct {
				RequestID json.RawMessage `json:"requestId"`
			}
			if json.Unmarshal(m.Params, &p) == nil && p.RequestID != nil {
				r.inflight.release(p.RequestID)
			}
		}
	}
	return m, true
}

func (r *Relay) idInUse(id json.RawMessage) {
	r.Log.Warn("refused a request whose id is in use by another in flight", "id", textutil.Quote(id, 80))
	r.Out.Write(jsonrpc.ErrorResponse(id, jsonrpc.CodeInvalidRequest,
		fmt.Sprintf("Invalid Request: id %s is already in use by a request in flight", textutil.Quote(id, 80)), nil))
}

// answer writes msg, the answer to the client's request id, if that request still waits for one; any other
// answer (a second one, one for an id the client never sent or has cancelled) is dropped with a log line.
func (r *Relay) answer(id json.RawMessage, msg []byte) {
	if !r.inflight.release(id) {
		r.drops.dropped(r, id)
		return
	}
	r.Out.Write(msg)
}

// reply answers the client's request id with the result res.
func (r *Relay) reply(id json.RawMessage, res json.RawMessage) { r.answer(id, result(id, res)) }

// refuse answers the client's request id with an error.
func (r *Relay) refuse(id json.RawMessage, code int, message string) {
	r.answer(id, jsonrpc.ErrorResponse(id, code, message, nil))
}

// tell writes msg, a message that answers nothing (a notification, or a request of the server), unless the
// client's input has ended: a client that hung up reads nothing more (the Python SDK raises on it), and the
// answers it still waits for are all it gets.
func (r *Relay) tell(msg []byte) {
	if r.ending.Load() {
		r.Log.Debug("the client's input has ended: a message for it was not sent", "bytes", len(msg))
		return
	}
	r.Out.Write(msg)
}

// deliverBatch relays a batch from the server: answers the client waits for, and requests and notifications
// while it reads.
func (r *Relay) deliverBatch(msg []byte) {
	m, err := jsonrpc.Parse(msg)
	if err != nil {
		r.tell(msg)
		return
	}
	kept := make([][]byte, 0, len(m.Batch))
	for _, e := range m.Batch {
		switch {
		case e.Kind == jsonrpc.KindResponse && !r.inflight.release(e.ID):
			r.drops.dropped(r, e.ID)
		case e.Kind != jsonrpc.KindResponse && r.ending.Load():
		default:
			kept = append(kept, e.Raw)
		}
	}
	switch len(kept) {
	case 0:
	case len(m.Batch):
		r.Out.Write(msg)
	default:
		r.Out.Write(joinBatch(kept))
	}
}

func joinBatch(elems [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(elems, []byte{','})...), ']')
}

// dropLog logs the answers the relay drops: one line each, but at most dropBurst at once and one a second after
// that, so a server that floods costs a few lines; each line counts the drops left unlogged before it.
type dropLog struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	held   int
}

const dropBurst = 10

func (d *dropLog) dropped(r *Relay, id json.RawMessage) {
	d.mu.Lock()
	now := time.Now()
	if d.last.IsZero() {
		d.tokens = dropBurst
	} else {
		d.tokens = min(dropBurst, d.tokens+now.Sub(d.last).Seconds())
	}
	d.last = now
	log := d.tokens >= 1
	held := d.held
	if log {
		d.tokens--
		d.held = 0
	} else {
		d.held++
	}
	d.mu.Unlock()
	if log {
		r.Log.Warn("dropped an answer that no request of the client waits for (answered already, cancelled, or never sent)",
			"id", textutil.Quote(id, 80), "not_logged_before", held)
	}
}
