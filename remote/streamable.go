package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// errFallback means a Streamable HTTP initialize was refused in a way that marks a legacy HTTP+SSE server.
var errFallback = errors.New("not a Streamable HTTP endpoint")

// run carries one call to its answers, recovering a lost session and resending at most a few times.
func (c *Client) run(cl *call) {
	for attempt := 0; ; attempt++ {
		cl.postMu.Lock()
		posted := cl.postedOn
		cl.postMu.Unlock()
		kind, err := c.ensureTransport(cl.ctx, &cl.msg)
		if err == nil && kind == legacySSE {
			err = c.sse.postCall(cl, posted)
			if err == nil {
				// The answers arrive on the SSE stream; the call stays live (and resendable) until then.
				return
			}
		} else if err == nil {
			if err = c.ensureSession(cl.ctx, &cl.msg); err == nil {
				err = c.roundTrip(cl)
			}
		}
		var lost *sessionLost
		switch {
		case err == nil:
			cl.cancel()
			return
		case errors.As(err, &lost) && attempt < 3 && (lost.ref != 0 || c.hasInit()):
			if rerr := c.recoverSession(cl.ctx, lost.ref); rerr != nil {
				c.fail(cl, rerr)
				cl.cancel()
				return
			}
			c.log.Info("resending after re-initialize", "method", cl.msg.Method)
		case errors.Is(err, errFallback):
			c.log.Info("the server refused Streamable HTTP; falling back to the legacy HTTP+SSE transport")
			c.mu.Lock()
			c.transport = legacySSE
			c.mu.Unlock()
		case c.relocate(cl, err):
		default:
			if c.ctx.Err() != nil { // Close cancelled it: say so, as Close does for the calls it answers itself
				err = errShuttingDown
			}
			if !cl.isDone() {
				c.fail(cl, err)
			}
			cl.cancel()
			return
		}
	}
}

// roundTrip POSTs a call and reads its answers: a JSON body, or an SSE stream that is resumed if it breaks.
func (c *Client) roundTrip(cl *call) error {
	c.mu.Lock()
	session, kind := httpSession{c.session, c.inUse}, c.transport
	c.mu.Unlock()
	isInit := cl.msg.Method == "initialize"
	resp, err := c.post(cl.ctx, &cl.msg, session.id)
	if err != nil {
		return err
	}
	cl.status.Store(int32(resp.StatusCode))
	if st := resp.StatusCode; st < 200 || st > 299 {
		err := c.refusal(resp, &cl.msg, session)
		var answer *serverAnswer
		switch {
		case errors.As(err, &answer):
			return c.relayAnswer(cl, answer)
		case isInit && kind == undecided && c.opts.Mode == HTTPFirst &&
			(st == http.StatusBadRequest || st == http.StatusNotFound || st == http.StatusMethodNotAllowed):
			return errFallback
		}
		return err
	}
	defer resp.Body.Close()
	if isInit {
		c.mu.Lock()
		c.transport, session = streamable, c.numbered(resp.Header.Get(hdrSession))
		c.useHTTPSession(session)
		c.mu.Unlock()
	}
	switch mediaType(resp) {
	case "text/event-stream":
		return c.readCallStream(cl, resp, session)
	case "application/json":
		g := guardStall(resp.Body, c.opts.StallTimeout)
		body, err := c.readBody(resp)
		g.stop()
		if serr := g.err(); serr != nil {
			return serr
		}
		if err != nil {
			return err
		}
		c.inbound(body)
	}
	if resp.StatusCode == http.StatusAccepted {
		return nil // accepted: the answer comes on the GET stream
	}
	if !cl.isDone() {
		return &UpstreamError{Message: fmt.Sprintf("the server answered HTTP %d without a JSON-RPC response", resp.StatusCode)}
	}
	return nil
}

// relayAnswer hands the server's JSON-RPC error to the client; the other requests of a batch get the bridge's.
func (c *Client) relayAnswer(cl *call, a *serverAnswer) error {
	c.inbound(a.raw)
	if cl.isDone() {
		return nil
	}
	return &UpstreamError{Message: fmt.Sprintf("%s answered HTTP %d with an error for another request of the batch",
		redactURL(c.url()), a.status), Status: a.status}
}

// maxIdleResumes bounds the resumes in a row that bring no new event: a server that keeps ending the stream
// without moving on would otherwise be resumed for ever.
const maxIdleResumes = 5

// readCallStream reads a POST's SSE stream until the call is answered. A stream that ends early is resumed
// with a GET carrying Last-Event-ID, so nothing is lost or doubled; without event ids it cannot be.
func (c *Client) readCallStream(cl *call, resp *http.Response, session httpSession) error {
	go c.closeWhenDone(cl)
	// Read to the end even after the answer: a server may put a last notification (progress) just behind it.
	g := guardStall(resp.Body, c.opts.StallTimeout)
	last, err := c.readSSE(resp.Body, nil, g.kick)
	g.stop()
	window := 4 * c.opts.RetryWindow
	stalls, idle := 0, 0
	for !cl.isDone() {
		if cl.ctx.Err() != nil {
			return nil // closed: cancelled by the client, or shutting down (Close answers what is left)
		}
		if serr := g.err(); serr != nil {
			if stalls++; last == "" || stalls > 1 {
				return serr
			}
		}
		if ue := (*UpstreamError)(nil); errors.As(err, &ue) {
			return ue // not a broken stream: resuming would only bring the same again
		}
		if last == "" {
			if err != nil {
				return describeNetError(c.url(), err)
			}
			return &UpstreamError{Message: "the server closed the stream before answering and offered no way to resume it; the request may or may not have run, try again"}
		}
		if idle++; idle > maxIdleResumes {
			return &UpstreamError{Message: fmt.Sprintf("the server ended the answer's stream %d times in a row without sending anything new; "+
				"the request may or may not have run, try again", idle)}
		}
		c.log.Info("stream broke before the answer; resuming", "last_event_id", last, "err", err)
		var resp *http.Response
		resp, err = c.do(cl.ctx, window, func() (*http.Request, error) {
			return c.newRequest(cl.ctx, http.MethodGet, c.url(), nil, session.id, last)
		})
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusNotFound && session.id != "":
			return c.refusal(resp, nil, session)
		case resp.StatusCode != http.StatusOK || mediaType(resp) != "text/event-stream":
			return describeStatus(c.url(), resp.StatusCode, resp.Header.Get("Content-Type"), errorBody(resp))
		}
		var id string
		g = guardStall(resp.Body, c.opts.StallTimeout)
		id, err = c.readSSE(resp.Body, nil, g.kick)
		g.stop()
		resp.Body.Close()
		if id != "" && id != last {
			last, idle = id, 0
		}
		if !sleep(cl.ctx, 100*time.Millisecond) && !cl.isDone() {
			return nil
		}
	}
	return nil
}

// closeWhenDone closes a call's streams shortly after it is answered (or cancelled): long enough for the server
// to send what trails the answer and end the stream itself, which also keeps the connection reusable.
func (c *Client) closeWhenDone(cl *call) {
	select {
	case <-cl.done:
		sleep(cl.ctx, 100*time.Millisecond)
		cl.cancel()
	case <-cl.ctx.Done():
	}
}

// post1 sends a notification or response and reads whatever the server answers. A lost session is recovered
// for the messages that follow; this one belonged to the lost session and means nothing to a new one. With no
// session open yet (the client's initialize failed) it is not sent: the next request opens one, and a message
// from the client must not wait for that (a replay may mean a sign-in).
func (c *Client) post1(ctx context.Context, m jsonrpc.Message) error {
	kind, err := c.ensureTransport(ctx, &m)
	if err != nil {
		return err
	}
	if kind == legacySSE {
		err = c.sse.post(ctx, &m)
	} else if c.needsSession() {
		return &UpstreamError{Message: "no session with the server yet (the client's initialize failed); the next request opens one"}
	} else {
		err = c.postOnce(ctx, m, c.httpSession())
	}
	var lost *sessionLost
	if errors.As(err, &lost) {
		return c.recoverSession(ctx, lost.ref)
	}
	return err
}

// postOnce POSTs a notification or response on session.
func (c *Client) postOnce(ctx context.Context, m jsonrpc.Message, session httpSession) error {
	resp, err := c.post(ctx, &m, session.id)
	if err != nil {
		return err
	}
	if st := resp.StatusCode; st < 200 || st > 299 {
		return c.refusal(resp, &m, session)
	}
	defer resp.Body.Close()
	switch mediaType(resp) {
	case "application/json":
		if body, err := c.readBody(resp); err == nil && len(body) > 0 {
			c.inbound(body)
		}
	case "text/event-stream":
		_, _ = c.readSSE(resp.Body, nil, nil)
	}
	return nil
}

// post POSTs m on session, retrying while the server is unreachable.
func (c *Client) post(ctx context.Context, m *jsonrpc.Message, session string) (*http.Response, error) {
	return c.do(ctx, c.opts.RetryWindow, func() (*http.Request, error) {
		return c.newRequest(ctx, http.MethodPost, c.url(), m, session, "")
	})
}

// deleteSession tells the server the session is over.
func (c *Client) deleteSession(ctx context.Context, session string) error {
	req, err := c.newRequest(ctx, http.MethodDelete, c.url(), nil, session, "")
	if err != nil {
		return err
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return describeNetError(c.url(), err)
	}
	errorBody(resp)
	c.log.Debug("session ended", "status", resp.StatusCode)
	return nil
}
