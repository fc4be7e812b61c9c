package remote

import (
	"context"
	"errors"
	"net/http"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// streamableConn is the Streamable HTTP transport: each message is POSTed to the endpoint, which answers with
// JSON or an SSE stream; the session is the Mcp-Session-Id the server gives on initialize, and a GET stream on
// it carries what the server sends of its own accord (listen.go).
type streamableConn struct {
	c         *Client
	id        string             // Mcp-Session-Id of the session in use, "" for none (c.mu)
	listening context.CancelFunc // stops the GET stream (c.mu)
}

// httpSession is a Streamable HTTP session: the Mcp-Session-Id the server gave ("" for none) and its number.
type httpSession struct {
	id  string
	ref sessionRef
}

// session returns the session in use.
func (s *streamableConn) session() httpSession {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return httpSession{s.id, s.c.inUse}
}

// use makes session the one in use. The caller holds c.mu.
func (s *streamableConn) use(session httpSession) {
	s.id, s.c.inUse = session.id, session.ref
}

// numbered gives the Streamable HTTP session id a number; a server that gives none has no session to lose.
// The caller holds c.mu.
func (c *Client) numbered(id string) httpSession {
	if id == "" {
		return httpSession{}
	}
	c.opened++
	return httpSession{id, c.opened}
}

// call opens a session first when the client's initialize failed or a lost one could not be rebuilt, then
// POSTs cl and reads its answers.
func (s *streamableConn) call(cl *call) error {
	if err := s.c.ensureSession(cl.ctx, &cl.msg); err != nil {
		return err
	}
	if err := s.roundTrip(cl); err != nil {
		return err
	}
	cl.cancel()
	return nil
}

// send POSTs a notification or a response on the session in use. notifications/initialized waits, briefly,
// for the GET stream to open first. With no session open yet (the client's initialize failed) nothing is
// sent: the next request opens one, and a message from the client must not wait for that (a replay may mean a
// sign-in).
func (s *streamableConn) send(ctx context.Context, m *jsonrpc.Message) error {
	if m.Kind == jsonrpc.KindNotification && m.Method == "notifications/initialized" {
		s.awaitListening(s.session())
	}
	if s.c.needsSession() {
		return &UpstreamError{Message: "no session with the server yet (the client's initialize failed); the next request opens one"}
	}
	return s.postOnce(ctx, *m, s.session())
}

// reopen replays the handshake on no session, and makes the session the server gives the one in use once
// notifications/initialized went out on it, with a GET stream of its own.
func (s *streamableConn) reopen(ctx context.Context, init, note *jsonrpc.Message, accept func([]byte) error) error {
	c := s.c
	c.mu.Lock()
	if s.listening != nil {
		s.listening()
		s.listening = nil
	}
	stale := c.inUse
	if init == nil {
		s.use(httpSession{})
	}
	c.mu.Unlock()
	if init == nil {
		return nil
	}
	if stale == 0 {
		c.log.Info("no session with the server; replaying the client's initialize to open one")
	} else {
		c.log.Info("the server lost the session; re-initializing it", "transport", "streamable http")
	}
	var id string
	answer, err := c.internalRequest(ctx, init, func(ctx context.Context, answered func() bool) (err error) {
		id, err = s.postInit(ctx, init, answered)
		return err
	})
	if err != nil {
		return err
	}
	if err := accept(answer); err != nil {
		return err
	}
	c.mu.Lock()
	session := c.numbered(id)
	c.mu.Unlock()
	if note != nil {
		s.awaitListening(session)
		err = s.postOnce(ctx, *note, session)
	}
	c.mu.Lock()
	s.use(session)
	c.mu.Unlock()
	return err
}

// close tells the server the session is over.
func (s *streamableConn) close(ctx context.Context) error {
	if id := s.session().id; id != "" {
		return s.deleteSession(ctx, id)
	}
	return nil
}

// postInit POSTs m, the bridge's own initialize, on no session and reads the answer until answered reports it
// arrived. It returns the session id the server gave.
func (s *streamableConn) postInit(ctx context.Context, m *jsonrpc.Message, answered func() bool) (string, error) {
	c := s.c
	resp, err := c.do(ctx, 4*c.opts.RetryWindow, func() (*http.Request, error) {
		return c.newRequest(ctx, http.MethodPost, c.url(), m, "", "")
	})
	if err != nil {
		return "", err
	}
	var answer *serverAnswer
	switch err := s.refusalOf(resp, m); {
	case errors.As(err, &answer):
		c.inbound(answer.raw)
	case err != nil:
		return "", err
	default:
		id := resp.Header.Get(hdrSession)
		switch mediaType(resp) {
		case "text/event-stream":
			_, _ = c.readSSE(resp.Body, sseRead{stop: answered})
		default:
			_ = c.inboundBody(resp)
		}
		resp.Body.Close()
		return id, nil
	}
	return "", nil
}

// postOnce POSTs a notification or response on session.
func (s *streamableConn) postOnce(ctx context.Context, m jsonrpc.Message, session httpSession) error {
	c := s.c
	resp, err := s.post(ctx, &m, session.id)
	if err != nil {
		return err
	}
	if st := resp.StatusCode; st < 200 || st > 299 {
		return s.refusal(resp, &m, session)
	}
	defer resp.Body.Close()
	switch mediaType(resp) {
	case "application/json":
		if err := c.inboundBody(resp); err != nil {
			c.log.Warn("dropped the server's answer to a notification or response", "err", err)
		}
	case "text/event-stream":
		if _, err := c.readSSE(resp.Body, sseRead{skipLarge: true}); err != nil {
			c.log.Debug("the stream answering a notification or response ended", "err", err)
		}
	}
	return nil
}

// post POSTs m on session, retrying while the server is unreachable.
func (s *streamableConn) post(ctx context.Context, m *jsonrpc.Message, session string) (*http.Response, error) {
	c := s.c
	return c.do(ctx, c.opts.RetryWindow, func() (*http.Request, error) {
		return c.newRequest(ctx, http.MethodPost, c.url(), m, session, "")
	})
}

// deleteSession tells the server the session is over.
func (s *streamableConn) deleteSession(ctx context.Context, session string) error {
	c := s.c
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
