package remote

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
)

// roundTrip POSTs a call and reads its answers: a JSON body, or an SSE stream that is resumed if it breaks.
func (s *streamableConn) roundTrip(cl *call) error {
	c := s.c
	c.mu.Lock()
	session, undecided := httpSession{s.id, c.inUse}, c.conn == nil
	c.mu.Unlock()
	isInit := cl.msg.Method == "initialize"
	resp, err := s.post(cl.ctx, &cl.msg, session.id)
	if err != nil {
		return err
	}
	cl.status.Store(int32(resp.StatusCode))
	if st := resp.StatusCode; st < 200 || st > 299 {
		err := s.refusal(resp, &cl.msg, session)
		var answer *serverAnswer
		switch {
		case errors.As(err, &answer):
			return s.relayAnswer(cl, answer)
		case isInit && undecided && c.opts.Mode == HTTPFirst &&
			(st == http.StatusBadRequest || st == http.StatusNotFound || st == http.StatusMethodNotAllowed):
			return errFallback
		}
		return err
	}
	defer resp.Body.Close()
	if isInit {
		c.mu.Lock()
		session = c.numbered(resp.Header.Get(hdrSession))
		c.conn = s
		s.use(session)
		c.mu.Unlock()
	}
	switch mediaType(resp) {
	case "text/event-stream":
		return s.readCallStream(cl, resp, session)
	case "application/json":
		g := guardStall(resp.Body, c.opts.StallTimeout)
		body, release, err := c.readBody(resp)
		g.stop()
		if serr := g.err(); serr != nil {
			return serr
		}
		if err != nil {
			return err
		}
		c.inbound(body)
		release()
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
func (s *streamableConn) relayAnswer(cl *call, a *serverAnswer) error {
	c := s.c
	c.inbound(a.raw)
	if cl.isDone() {
		return nil
	}
	return &UpstreamError{Message: fmt.Sprintf("%s answered HTTP %d with an error for another request of the batch",
		textutil.RedactURL(c.url()), a.status), Status: a.status}
}

// An answer's stream that ends before the answer is resumed at once, then, while resumes bring no message, after
// resumeBackoff and twice as long before each next one, up to resumeMaxWait. (The first resume does not wait:
// mcp-go's server, the reference server's, sends events it made while no stream was attached out of order with
// its replay, which a wait before the first resume makes certain.) resumeLimit bounds the resumes in a row that bring no
// message: a server that keeps ending the stream without answering (each time with a new event id, which looks
// like progress) is otherwise resumed for ever.
const (
	resumeLimit   = 5
	resumeBackoff = 100 * time.Millisecond
	resumeMaxWait = 2 * time.Second
)

// readCallStream reads a POST's SSE stream until the call is answered. A stream that ends early is resumed
// with a GET carrying Last-Event-ID, so nothing is lost or doubled; without event ids it cannot be.
func (s *streamableConn) readCallStream(cl *call, resp *http.Response, session httpSession) error {
	c := s.c
	go cl.closeWhenDone()
	// Read to the end even after the answer: a server may put a last notification (progress) just behind it.
	g := guardStall(resp.Body, c.opts.StallTimeout)
	res, err := c.readSSE(resp.Body, sseRead{stop: g.kick, done: cl.ctx.Done()})
	g.stop()
	last := res.last
	window := 4 * c.opts.RetryWindow
	stalls, idle, wait := 0, 0, resumeBackoff
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
		if res.delivered > 0 {
			idle, wait = 0, resumeBackoff
		}
		if idle++; idle > resumeLimit {
			return &UpstreamError{Message: fmt.Sprintf("the server keeps dropping the answer's stream without answering: "+
				"it ended it %d times in a row with no message, so the bridge stopped resuming it; the request may or may not have run, try again",
				idle), Cause: CauseDropped}
		}
		if idle == 1 {
			c.log.Info("stream broke before the answer; resuming", "last_event_id", last, "err", err)
		} else {
			c.log.Debug("resuming again", "last_event_id", last, "in", wait.String(), "err", err)
			if !timeutil.Sleep(cl.ctx, wait) {
				return nil
			}
			wait = min(wait*2, resumeMaxWait)
		}
		var resp *http.Response
		resp, err = c.do(cl.ctx, window, func() (*http.Request, error) {
			return c.newRequest(cl.ctx, http.MethodGet, c.url(), nil, session.id, last)
		})
		if err != nil {
			if cl.isDone() || cl.ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch {
		case resp.StatusCode == http.StatusNotFound && session.id != "":
			return s.refusal(resp, nil, session)
		case resp.StatusCode != http.StatusOK || mediaType(resp) != "text/event-stream":
			return describeStatus(c.url(), resp.StatusCode, resp.Header.Get("Content-Type"), errorBody(resp))
		}
		g = guardStall(resp.Body, c.opts.StallTimeout)
		res, err = c.readSSE(resp.Body, sseRead{stop: g.kick, done: cl.ctx.Done()})
		g.stop()
		resp.Body.Close()
		if res.last != "" {
			last = res.last
		}
	}
	return nil
}

// closeWhenDone closes a call's streams shortly after it is answered (or cancelled): long enough for the server
// to send what trails the answer and end the stream itself, which also keeps the connection reusable.
func (cl *call) closeWhenDone() {
	select {
	case <-cl.done:
		timeutil.Sleep(cl.ctx, 100*time.Millisecond)
		cl.cancel()
	case <-cl.ctx.Done():
	}
}
