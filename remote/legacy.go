package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
)

// legacyConn is the legacy HTTP+SSE transport (protocol 2024-11-05): a GET stream that first names the endpoint
// to POST messages to, then carries every message from the server. The server's session lives as long as the
// stream: when it ends, the stream is opened again and the client's handshake replayed on it.
type legacyConn struct {
	c      *Client
	stream *legacyStream // the stream in use; nil when there is none (c.mu)
}

// legacyStream is one GET stream of the legacy transport, and the session it holds.
type legacyStream struct {
	endpoint *url.URL
	cancel   context.CancelFunc
	ref      sessionRef // the server's session lives as long as the stream
}

// notSSE means the URL answered a GET with something other than an event stream.
type notSSE struct{ err *UpstreamError }

func (e *notSSE) Error() string { return e.err.Message }
func (e *notSSE) Unwrap() error { return e.err }

// call posts cl; its answers come on the stream. A call is posted once: when the stream is lost, its
// recovery (lost) sends again the calls posted on it.
func (l *legacyConn) call(cl *call) error { return l.postCall(cl, "") }

// send posts a notification or a response.
func (l *legacyConn) send(ctx context.Context, m *jsonrpc.Message) error { return l.post(ctx, m) }

// reopen opens a new stream, which is at once the one in use, and replays the handshake on it.
func (l *legacyConn) reopen(ctx context.Context, init, note *jsonrpc.Message, accept func([]byte) error) error {
	c := l.c
	if init == nil {
		c.dropSession()
		return nil
	}
	c.log.Info("the server lost the session; re-initializing it", "transport", "legacy sse")
	if err := l.connect(ctx); err != nil {
		return err
	}
	answer, err := c.internalRequest(ctx, init, func(ctx context.Context, _ func() bool) error { return l.post(ctx, init) })
	if err != nil {
		return err
	}
	if err := accept(answer); err != nil {
		return err
	}
	if note != nil {
		return l.post(ctx, note)
	}
	return nil
}

// close has nothing to do: the stream ends with the Client's context, and with it the session.
func (l *legacyConn) close(context.Context) error { return nil }

// connect opens a new stream, waits for its endpoint and makes it the one in use.
func (l *legacyConn) connect(ctx context.Context) error {
	c := l.c
	resp, err := c.do(ctx, c.opts.RetryWindow, func() (*http.Request, error) {
		return c.newRequest(c.ctx, http.MethodGet, c.url(), nil, "", "")
	})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || mediaType(resp) != "text/event-stream" {
		return &notSSE{describeStatus(c.url(), resp.StatusCode, resp.Header.Get("Content-Type"), errorBody(resp))}
	}
	sctx, cancel := context.WithCancel(c.ctx)
	stop := context.AfterFunc(sctx, func() { resp.Body.Close() })
	ls := &legacyStream{cancel: cancel}
	endpoint := make(chan error, 1)
	c.wg.Go(func() {
		defer stop()
		defer resp.Body.Close()
		_, err := c.readSSE(resp.Body, sseRead{skipLarge: true, other: func(typ string, data []byte) {
			if typ != "endpoint" || ls.endpoint != nil {
				return
			}
			u, err := l.resolveEndpoint(string(data))
			if err == nil {
				ls.endpoint = u
			}
			endpoint <- err
		}})
		select {
		case endpoint <- errors.New("the SSE stream ended before naming an endpoint"):
		default:
		}
		l.lost(ls, err)
	})
	select {
	case err = <-endpoint:
	case <-time.After(10 * time.Second):
		err = errors.New("the SSE stream named no endpoint within 10 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		return &UpstreamError{Message: "legacy SSE transport: " + err.Error(), Err: err}
	}
	c.mu.Lock()
	c.opened++
	ls.ref = c.opened
	c.conn, l.stream, c.inUse = l, ls, ls.ref
	c.mu.Unlock()
	c.log.Info("connected over legacy HTTP+SSE", "endpoint", textutil.RedactURL(ls.endpoint))
	return nil
}

// resolveEndpoint resolves the endpoint event against the URL and refuses another origin, which would receive
// the bearer token.
func (l *legacyConn) resolveEndpoint(data string) (*url.URL, error) {
	c := l.c
	ref, err := url.Parse(strings.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("bad endpoint %q: %w", data, err)
	}
	u := c.url().ResolveReference(ref)
	if origin(u) != origin(c.url()) {
		return nil, fmt.Errorf("the server named an endpoint on another origin (%s); refusing to send it messages", origin(u))
	}
	return u, nil
}

// lost handles the end of the stream ls: the server's session went with it, so the handshake is replayed on a
// new stream and every request still waiting is sent again.
func (l *legacyConn) lost(ls *legacyStream, err error) {
	c := l.c
	c.mu.Lock()
	current := l.stream == ls
	if current {
		l.stream = nil
	}
	c.mu.Unlock()
	if !current || c.ctx.Err() != nil || ls.endpoint == nil {
		return
	}
	c.log.Warn("legacy SSE stream lost", "err", err)
	deadline := time.Now().Add(4 * c.opts.RetryWindow)
	for backoff := 250 * time.Millisecond; ; backoff = min(backoff*2, 2*time.Second) {
		rerr := c.recoverSession(c.ctx, ls.ref)
		if rerr == nil {
			break
		}
		if time.Now().After(deadline) || !timeutil.Sleep(c.ctx, backoff) {
			c.dropSession() // the next message reconnects and replays the handshake
			c.failAll(rerr)
			return
		}
	}
	for _, cl := range c.calls() {
		if err := l.postCall(cl, ls.endpoint.String()); err != nil {
			c.fail(cl, err)
		}
	}
}

// postCall posts cl to the current endpoint unless it was posted somewhere other than stale meanwhile: the
// stream's recovery and the call's own retry may both want to resend it, and the server must get it once.
func (l *legacyConn) postCall(cl *call, stale string) error {
	cl.postMu.Lock()
	defer cl.postMu.Unlock()
	if cl.postedOn != stale {
		return nil
	}
	l.c.mu.Lock()
	ls := l.stream
	l.c.mu.Unlock()
	if err := l.post(cl.ctx, &cl.msg); err != nil {
		return err
	}
	if ls != nil {
		cl.postedOn = ls.endpoint.String()
	}
	return nil
}

// post POSTs one message to the endpoint in use; answers come on the stream.
func (l *legacyConn) post(ctx context.Context, m *jsonrpc.Message) error {
	c := l.c
	c.mu.Lock()
	ls := l.stream
	c.mu.Unlock()
	if ls == nil {
		return &UpstreamError{Message: "the SSE stream to the server is down"}
	}
	resp, err := c.do(ctx, c.opts.RetryWindow, func() (*http.Request, error) {
		return c.newRequest(ctx, http.MethodPost, ls.endpoint, m, "", "")
	})
	if err != nil {
		return err
	}
	body := errorBody(resp)
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest {
		// The endpoint no longer knows its session (the server restarted before the stream noticed).
		c.log.Info("the legacy endpoint refused the message; the session is gone", "status", resp.StatusCode)
		return &sessionLost{ref: ls.ref}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return describeStatus(ls.endpoint, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return nil
}
