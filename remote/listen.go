package remote

import (
	"context"
	"net/http"
	"time"
)

// startListening opens the GET stream on which a Streamable HTTP server sends requests and notifications of its
// own, once the client has finished the handshake. It is a no-op when a stream is already open or not possible.
func (c *Client) startListening() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport != streamable || c.listening != nil || c.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.listening = cancel
	session := c.session
	c.wg.Go(func() { c.listen(ctx, session) })
}

// listen keeps the GET stream open, resuming after breaks with Last-Event-ID and backing off while the server
// is away. 405 means the server has no such stream; 404 means it lost the session, which is then recovered.
func (c *Client) listen(ctx context.Context, session string) {
	const maxBackoff = 30 * time.Second
	backoff, last := 250*time.Millisecond, ""
	for ctx.Err() == nil {
		resp, err := c.do(ctx, 0, func() (*http.Request, error) {
			return c.newRequest(ctx, http.MethodGet, c.opts.URL, nil, session, last)
		})
		switch {
		case err != nil:
			c.log.Debug("GET stream unavailable", "err", err, "retry_in", backoff.String())
		case resp.StatusCode == http.StatusMethodNotAllowed:
			errorBody(resp)
			c.log.Debug("the server offers no stream for messages of its own (405)")
			return
		case resp.StatusCode == http.StatusNotFound && session != "":
			errorBody(resp)
			if c.recoverSession(ctx, session) == nil {
				return // recovery opened a stream for the new session
			}
		case resp.StatusCode == http.StatusOK && mediaType(resp) == "text/event-stream":
			backoff = 250 * time.Millisecond
			id, err := c.readSSE(resp.Body, nil, nil)
			resp.Body.Close()
			if id != "" {
				last = id
			}
			c.log.Debug("GET stream ended; reconnecting", "err", err)
		default:
			c.log.Warn("GET stream refused", "status", resp.StatusCode)
			errorBody(resp)
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}
