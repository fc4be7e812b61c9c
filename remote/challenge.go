package remote

import (
	"context"
	"net/http"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// Challenge posts an initialize without credentials to opts.URL, as a client's first request, and returns the
// WWW-Authenticate values of a 401 answer: what the server asks a sign-in for (its scope, its metadata). It returns
// nil for any other answer or failure, and ends a session the probe opened. For `login`, which signs in before
// any request of the client's, so that it asks for what serving would.
func Challenge(ctx context.Context, opts Options) []string {
	return withProbeClient(ctx, opts, func(c *Client, m *jsonrpc.Message) []string {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		u := c.url()
		resp, err := c.probeDo(pctx, http.MethodPost, u, m, "")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		if s := resp.Header.Get(hdrSession); s != "" {
			defer c.endProbeSession(u, s)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return nil
		}
		return resp.Header.Values("WWW-Authenticate")
	})
}
