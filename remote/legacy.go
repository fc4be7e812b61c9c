package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	quick  int           // streams in a row that ended before they were of use (c.mu)
}

// A stream that ended before it was of use (it carried no message beyond the handshake's answer and lived less
// than legacyHealthy) is replaced at once the first time, then after legacyBackoff, doubling up to
// legacyMaxWait: a server that names its endpoint, answers initialize and ends the stream, again and again, is
// otherwise reconnected to as fast as the network allows, each time with a new session and a log line.
const (
	legacyHealthy = 30 * time.Second
	legacyBackoff = 250 * time.Millisecond
	legacyMaxWait = 30 * time.Second
)

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
	c.log.Log(ctx, l.level(), "the server lost the session; re-initializing it", "transport", "legacy sse")
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
		opened := time.Now()
		res, err := c.readSSE(resp.Body, sseRead{skipLarge: true, other: func(typ string, data []byte) {
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
		l.lost(ls, res.delivered > 1 || time.Since(opened) >= legacyHealthy, err)
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
	c.log.Log(ctx, l.level(), "connected over legacy HTTP+SSE", "endpoint", textutil.RedactURL(ls.endpoint))
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

// level is the level of the lines a reconnection logs: info, debug once streams keep ending before they are of
// use (one line per stream would fill the log).
func (l *legacyConn) level() slog.Level {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	if l.quick > 1 {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// lost handles the end of the stream ls: the server's session went with it, so the handshake is replayed on a
// new stream and every request still waiting is sent again. useful says the stream was of use (see
// legacyHealthy); streams that were not are replaced less and less often.
func (l *legacyConn) lost(ls *legacyStream, useful bool, err error) {
	c := l.c
	c.mu.Lock()
	current := l.stream == ls
	if current {
		l.stream = nil
		if useful {
			l.quick = 0
		} else {
			l.quick++
		}
	}
	quick := l.quick
	c.mu.Unlock()
	if !current || c.ctx.Err() != nil || ls.endpoint == nil {
		return
	}
	if quick <= 1 {
		c.log.Warn("legacy SSE stream lost", "err", err)
	} else {
		wait := min(legacyBackoff<<min(quick-2, 16), legacyMaxWait)
		c.log.Debug("legacy SSE stream lost again before it was of use; waiting", "streams", quick, "in", wait.String(), "err", err)
		if !timeutil.Sleep(c.ctx, wait) {
			return
		}
	}
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
		if err := l.repost(cl, ls.endpoint.String()); err != nil {
			c.fail(cl, err)
		}
	}
}

// lostTwice is the error for a request whose stream was lost again after the request was sent again on a new one.
func lostTwice() *UpstreamError {
	return &UpstreamError{Message: "the server's SSE stream ended twice before it answered this request " +
		"(the request was sent again once, on a new stream); it may or may not have run, try again", Cause: CauseDropped}
}

// repost sends cl again after the stream it was posted on (stale) was lost: once. A request that was already
// sent again gets lostTwice: sending it after every loss runs a tool as many times as a failing server drops
// its streams.
func (l *legacyConn) repost(cl *call, stale string) error {
	cl.postMu.Lock()
	if cl.postedOn != stale { // posted on the new stream meanwhile (its own retry)
		cl.postMu.Unlock()
		return nil
	}
	again := cl.resent
	cl.resent = true
	cl.postMu.Unlock()
	if again {
		return lostTwice()
	}
	return l.postCall(cl, stale)
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
