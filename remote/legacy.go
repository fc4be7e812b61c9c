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
	sse "github.com/tmaxmax/go-sse"
)

// legacyStream is one connection of the 2024-11-05 HTTP+SSE transport: a GET stream that first names the
// endpoint to POST to, then carries every message from the server.
type legacyStream struct {
	endpoint *url.URL
	cancel   context.CancelFunc
	ref      sessionRef // the server's session lives as long as the stream
}

// notSSE means the URL answered a GET with something other than an event stream.
type notSSE struct{ err *UpstreamError }

func (e *notSSE) Error() string { return e.err.Message }
func (e *notSSE) Unwrap() error { return e.err }

// ensureTransport decides, on the first message, which transport to speak, and reconnects a lost legacy stream.
func (c *Client) ensureTransport(ctx context.Context, m *jsonrpc.Message) (transportKind, error) {
	c.mu.Lock()
	kind, ls := c.transport, c.legacy
	c.mu.Unlock()
	switch {
	case kind == streamable || (kind == legacySSE && ls != nil):
		return kind, nil
	case kind == legacySSE: // the stream was lost and could not be recovered at the time
		if m.Method != "initialize" && c.hasInit() {
			return kind, c.recoverSession(ctx, 0)
		}
		return kind, c.reconnectLegacy(ctx)
	}
	switch c.opts.Mode {
	case HTTPOnly:
		return c.decide(streamable), nil
	case HTTPFirst:
		if m.Method == "initialize" {
			return undecided, nil // roundTrip decides from the answer
		}
		return c.decide(streamable), nil
	case SSEOnly:
		return legacySSE, c.reconnectLegacy(ctx)
	}
	err := c.reconnectLegacy(ctx) // SSEFirst
	var ns *notSSE
	if errors.As(err, &ns) {
		c.log.Info("no SSE stream at the URL; using Streamable HTTP", "status", ns.err.Status)
		return c.decide(streamable), nil
	}
	return legacySSE, err
}

func (c *Client) decide(k transportKind) transportKind {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport == undecided {
		c.transport = k
	}
	return c.transport
}

func (c *Client) hasInit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.initReq != nil
}

// reconnectLegacy opens a new legacy stream and waits for its endpoint.
func (c *Client) reconnectLegacy(ctx context.Context) error {
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
		_, err := c.readSSE(resp.Body, func(ev sse.Event) {
			if ev.Type != "endpoint" || ls.endpoint != nil {
				return
			}
			u, err := c.resolveEndpoint(ev.Data)
			if err == nil {
				ls.endpoint = u
			}
			endpoint <- err
		}, nil)
		select {
		case endpoint <- errors.New("the SSE stream ended before naming an endpoint"):
		default:
		}
		c.legacyLost(ls, err)
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
	c.transport, c.legacy, c.inUse = legacySSE, ls, ls.ref
	c.mu.Unlock()
	c.log.Info("connected over legacy HTTP+SSE", "endpoint", redactURL(ls.endpoint))
	return nil
}

// resolveEndpoint resolves the endpoint event against the URL and refuses another origin, which would receive
// the bearer token.
func (c *Client) resolveEndpoint(data string) (*url.URL, error) {
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

// legacyLost handles the end of a legacy stream: the server's session went with it, so the handshake is
// replayed on a new stream and every request still waiting is sent again.
func (c *Client) legacyLost(ls *legacyStream, err error) {
	c.mu.Lock()
	current := c.legacy == ls
	if current {
		c.legacy = nil
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
		if time.Now().After(deadline) || !sleep(c.ctx, backoff) {
			c.dropSession() // the next message reconnects and replays the handshake
			c.failAll(rerr)
			return
		}
	}
	c.mu.Lock()
	var resend []*call
	seen := map[*call]bool{}
	for _, cl := range c.pending {
		if !seen[cl] {
			seen[cl] = true
			resend = append(resend, cl)
		}
	}
	c.mu.Unlock()
	for _, cl := range resend {
		if err := c.postLegacyCall(cl, ls.endpoint.String()); err != nil {
			c.fail(cl, err)
		}
	}
}

// postLegacyCall posts cl to the current endpoint unless it was posted somewhere other than stale meanwhile: the
// stream's recovery and the call's own retry may both want to resend it, and the server must get it once.
func (c *Client) postLegacyCall(cl *call, stale string) error {
	cl.postMu.Lock()
	defer cl.postMu.Unlock()
	if cl.postedOn != stale {
		return nil
	}
	c.mu.Lock()
	ls := c.legacy
	c.mu.Unlock()
	if err := c.postLegacy(cl.ctx, &cl.msg); err != nil {
		return err
	}
	if ls != nil {
		cl.postedOn = ls.endpoint.String()
	}
	return nil
}

// failAll answers every waiting request with err.
func (c *Client) failAll(err error) {
	c.mu.Lock()
	var open []*call
	for _, cl := range c.pending {
		open = append(open, cl)
	}
	c.mu.Unlock()
	for _, cl := range open {
		c.fail(cl, err)
	}
}

// postLegacy POSTs one message to the legacy endpoint; answers come on the stream.
func (c *Client) postLegacy(ctx context.Context, m *jsonrpc.Message) error {
	c.mu.Lock()
	ls := c.legacy
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
