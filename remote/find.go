package remote

import (
	"context"
	"net/url"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// findInitialize is the initialize FindEndpoint probes with.
const findInitialize = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},` +
	`"clientInfo":{"name":"meshai-mcp-server","version":"probe"}}}`

// FindEndpoint looks for the MCP endpoint on opts.URL's origin at the usual paths (/v1/mcp, /mcp, /sse), as a
// Client does when its URL answers 404, and returns the first that answers like MCP, or nil. It sends no
// credentials and starts no sign-in; a session a probe opened is ended. For commands that take a server URL
// without talking MCP over it (login, status, logout), so they use the endpoint the bridge would.
func FindEndpoint(ctx context.Context, opts Options) *url.URL {
	return withProbeClient(ctx, opts, func(c *Client, m *jsonrpc.Message) *url.URL {
		u, _ := c.findEndpoint(ctx, m)
		return u
	})
}

// withProbeClient runs f with a Client of opts that sends no credentials and delivers nothing, and the probe's
// initialize, and closes the client after; f's zero value if the initialize cannot be read.
func withProbeClient[T any](ctx context.Context, opts Options, f func(c *Client, init *jsonrpc.Message) T) T {
	opts.Token, opts.Deliver = nil, nil
	c := New(opts)
	defer c.Close(context.WithoutCancel(ctx))
	m, err := jsonrpc.Parse([]byte(findInitialize))
	if err != nil {
		var zero T
		return zero
	}
	return f(c, &m)
}
