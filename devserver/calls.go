package devserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// mcp-go runs a POST's handler under the request context, so a dropped connection would cancel the
// call, and a client resuming the stream with Last-Event-ID would find nothing left to receive. The
// spec says a disconnect is not a cancellation. calls detaches the handler from its connection and
// cancels it only when the connection stays gone for the grace period without a resume.

// callKey is the request-context key of the call a POST carries.
type callKey struct{}

// call is the lifetime of one POST /v1/mcp, independent of its connection.
type call struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	reattach chan context.Context // contexts of GETs that resumed the call's stream
}

// resumedBy hands the watcher the connection that now carries the call's stream, replacing a stale one.
func (c *call) resumedBy(conn context.Context) {
	for {
		select {
		case c.reattach <- conn:
			return
		default:
			select {
			case <-c.reattach:
			default:
			}
		}
	}
}

// calls tracks the POSTs in flight and the SSE streams they write.
type calls struct {
	base    context.Context
	grace   time.Duration
	log     *slog.Logger
	mu      sync.Mutex
	streams map[string]*call // event-store stream id -> call writing it
}

// newCalls returns a tracker whose calls all end when base does.
func newCalls(base context.Context, grace time.Duration, log *slog.Logger) *calls {
	return &calls{base: base, grace: grace, log: log, streams: map[string]*call{}}
}

// track gives each POST a call that outlives its connection by the grace period.
func (cs *calls) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancelCause(cs.base)
		c := &call{ctx: ctx, cancel: cancel, reattach: make(chan context.Context, 1)}
		defer cs.forget(c)
		defer cancel(errCallDone)
		go cs.watch(r.Context(), c)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
	})
}

// detach is the HTTPContextFunc: the handler context keeps the request's values but ends with the call.
func (cs *calls) detach(ctx context.Context, r *http.Request) context.Context {
	c, ok := r.Context().Value(callKey{}).(*call)
	if !ok {
		return ctx
	}
	d, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	context.AfterFunc(c.ctx, func() { cancel(context.Cause(c.ctx)) })
	return d
}

// watch cancels c when its connection, and then every connection that resumed it, has been gone for the grace period.
func (cs *calls) watch(conn context.Context, c *call) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-conn.Done():
		}
		t := time.NewTimer(cs.grace)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case conn = <-c.reattach:
			t.Stop()
		case <-t.C:
			cs.log.Info("cancelling call: connection dropped and stream not resumed", "grace", cs.grace)
			c.cancel(errAbandoned)
			return
		}
	}
}

// bind records that c writes the given stream.
func (cs *calls) bind(streamID string, c *call) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.streams[streamID] = c
}

// resumed tells the call writing streamID, if still running, that conn resumed it.
func (cs *calls) resumed(conn context.Context, streamID string) {
	cs.mu.Lock()
	c := cs.streams[streamID]
	cs.mu.Unlock()
	if c != nil && c.ctx.Err() == nil {
		c.resumedBy(conn)
	}
}

// forget drops the streams of a finished call.
func (cs *calls) forget(c *call) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, sc := range cs.streams {
		if sc == c {
			delete(cs.streams, id)
		}
	}
}

// trackingStore is the event store, noting which call writes each stream and which streams get resumed.
type trackingStore struct {
	server.EventStore
	calls *calls
}

// StoreEvent records the event and binds its stream to the call in ctx, if any.
func (t trackingStore) StoreEvent(ctx context.Context, sessionID, streamID string, message json.RawMessage) (string, error) {
	id, err := t.EventStore.StoreEvent(ctx, sessionID, streamID, message)
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		t.calls.bind(streamID, c)
	}
	return id, err
}

// ReplayEventsAfter replays a stream to a resuming GET and keeps the call writing it alive.
func (t trackingStore) ReplayEventsAfter(ctx context.Context, sessionID, lastEventID string, send func(string, json.RawMessage) error) (string, error) {
	streamID, err := t.EventStore.ReplayEventsAfter(ctx, sessionID, lastEventID, send)
	if err == nil {
		t.calls.resumed(ctx, streamID)
	}
	return streamID, err
}
