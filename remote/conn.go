package remote

import (
	"context"
	"errors"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// ensureTransport decides, on the first message, which transport to speak, and reconnects a lost legacy stream.
func (c *Client) ensureTransport(ctx context.Context, m *jsonrpc.Message) (transportKind, error) {
	c.mu.Lock()
	kind, ls := c.transport, c.sse.stream
	c.mu.Unlock()
	switch {
	case kind == streamable || (kind == legacySSE && ls != nil):
		return kind, nil
	case kind == legacySSE: // the stream was lost and could not be recovered at the time
		if m.Method != "initialize" && c.hasInit() {
			return kind, c.recoverSession(ctx, 0)
		}
		return kind, c.sse.connect(ctx)
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
		return legacySSE, c.sse.connect(ctx)
	}
	err := c.sse.connect(ctx) // SSEFirst
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
