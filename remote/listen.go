package remote

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
)

// startListening opens the GET stream on session, where a Streamable HTTP server sends requests and
// notifications of its own. It returns a channel closed once the server has answered the first GET (or the
// attempt failed), so the caller can hold notifications/initialized until then: servers send their first
// notifications (tools list_changed, for one) right after it and drop them when no stream is open. It is a
// no-op, returning a closed channel, when a stream is already open or not possible.
func (s *streamableConn) startListening(session httpSession) <-chan struct{} {
	c := s.c
	ready := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != s || s.listening != nil || c.ctx.Err() != nil {
		close(ready)
		return ready
	}
	ctx, cancel := context.WithCancel(background(c.ctx))
	s.listening = cancel
	c.wg.Go(func() { s.listen(ctx, session, ready) })
	return ready
}

// awaitListening opens the GET stream on session and waits, briefly, for the server to answer it.
func (s *streamableConn) awaitListening(session httpSession) {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-s.startListening(session):
	case <-t.C:
		s.c.log.Debug("the GET stream is slow to open; going on")
	}
}

// listenBackoff is the first wait before the GET stream reconnects; the wait doubles up to listenMaxWait
// each time, and starts over only after a stream that carried a message: a server that answers 200 and ends the
// stream at once, again and again, is asked less and less often.
const (
	listenBackoff = 250 * time.Millisecond
	listenMaxWait = 30 * time.Second
)

// listen keeps the GET stream open, resuming after breaks with Last-Event-ID and backing off while the server
// is away. 405 means the server has no such stream; 404 means it lost the session, which is then recovered.
// A server that is rate limiting is asked again once its wait is over, however long: nobody waits on this
// stream, so the wait is taken here, not inside the request, and is no error to anyone.
func (s *streamableConn) listen(ctx context.Context, session httpSession, ready chan struct{}) {
	c := s.c
	backoff, last := listenBackoff, ""
	answered := sync.OnceFunc(func() { close(ready) })
	defer answered()
	rctx := ratelimit.WithMaxWait(ctx, 0)
	for ctx.Err() == nil {
		resp, err := c.do(ctx, 0, func() (*http.Request, error) {
			return c.newRequest(rctx, http.MethodGet, c.url(), nil, session.id, last)
		})
		answered()
		var rl *ratelimit.Error
		switch {
		case errors.As(err, &rl):
			c.log.Info("the server is rate limiting; the GET stream reconnects once its wait is over", "until", rl.Until.UTC().Format(time.RFC3339))
		case err != nil:
			c.log.Debug("GET stream unavailable", "err", err, "retry_in", backoff.String())
		case resp.StatusCode == http.StatusMethodNotAllowed:
			errorBody(resp)
			c.log.Debug("the server offers no stream for messages of its own (405)")
			return
		case resp.StatusCode == http.StatusNotFound && session.id != "":
			errorBody(resp)
			if c.recoverSession(ctx, session.ref) == nil {
				return // recovery opened a stream for the new session
			}
		case resp.StatusCode == http.StatusOK && mediaType(resp) == "text/event-stream":
			res, err := c.readSSE(resp.Body, sseRead{skipLarge: true})
			resp.Body.Close()
			if res.last != "" {
				last = res.last
			}
			if res.delivered > 0 {
				backoff = listenBackoff
			}
			if ctx.Err() == nil {
				c.log.Debug("GET stream ended; reconnecting", "err", err, "messages", res.delivered, "in", backoff.String())
			}
		default:
			c.log.Warn("GET stream refused", "status", resp.StatusCode)
			errorBody(resp)
		}
		wait := backoff
		if rl != nil {
			wait = max(backoff, time.Until(rl.Until))
		}
		if !timeutil.Sleep(ctx, wait) {
			return
		}
		backoff = min(backoff*2, listenMaxWait)
	}
}
