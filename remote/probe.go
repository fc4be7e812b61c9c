package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	sse "github.com/tmaxmax/go-sse"
)

// candidatePaths are where MCP servers usually serve, tried in this order on the URL's origin when the URL
// itself answers 404: MeshAI's endpoint, the usual Streamable HTTP one, and the legacy HTTP+SSE one. doctor
// suggests the same paths.
var candidatePaths = []string{"/v1/mcp", "/mcp", "/sse"}

// probeTimeout bounds each probe.
const probeTimeout = 10 * time.Second

// relocate looks for the MCP endpoint elsewhere on the same origin when the client's first message (initialize,
// or server/discover) found nothing at the URL: its POST got 404 (whatever the legacy transport's GET got after
// it: a web site's root page, say). It reports whether it found one; the Client then uses it for good. It
// probes once per Client.
func (c *Client) relocate(cl *call, err error) bool {
	var ue *UpstreamError
	if !(errors.As(err, &ue) && ue.Status == http.StatusNotFound) && cl.status.Load() != http.StatusNotFound {
		return false
	}
	if m := cl.msg.Method; m != "initialize" && m != "server/discover" {
		return false
	}
	c.mu.Lock()
	first := !c.probed && !c.live
	c.probed = true
	c.mu.Unlock()
	if !first {
		return false
	}
	u, cn := c.findEndpoint(cl.ctx, &cl.msg)
	if u == nil {
		return false
	}
	if c.opts.Relocated != nil {
		c.opts.Relocated(u)
	}
	c.endpoint.Store(u)
	c.mu.Lock()
	c.conn = cn
	c.http.use(httpSession{})
	c.mu.Unlock()
	return true
}

// findEndpoint probes the candidate paths the transport mode allows, in order, and returns the first that
// answers like MCP, with its transport; it logs what it found.
func (c *Client) findEndpoint(ctx context.Context, m *jsonrpc.Message) (*url.URL, conn) {
	cur := c.url()
	u, cn := c.probeCandidates(ctx, m, cur)
	if u == nil {
		c.log.Info("no MCP endpoint at the usual paths either", "url", textutil.RedactURL(cur), "tried", strings.Join(candidatePaths, ", "))
	} else {
		c.log.Info("the server's MCP endpoint is at "+textutil.RedactURL(u)+"; using it", "configured", textutil.RedactURL(cur))
	}
	return u, cn
}

// probeCandidates tries the candidate paths on cur's origin, in order.
func (c *Client) probeCandidates(ctx context.Context, m *jsonrpc.Message, cur *url.URL) (*url.URL, conn) {
	for _, p := range candidatePaths {
		if p == cur.Path {
			continue
		}
		u := *cur
		u.Path, u.RawPath = p, ""
		legacy := p == "/sse"
		switch {
		case legacy && c.opts.Mode != HTTPOnly && c.probeLegacy(ctx, &u):
			return &u, c.sse
		case !legacy && c.opts.Mode != SSEOnly && c.probeStreamable(ctx, &u, m):
			return &u, c.http
		}
	}
	return nil, nil
}

// probeStreamable posts m, under an id of the bridge's own, to u: it answers like MCP with a JSON-RPC response
// to it (as JSON or on an SSE stream, a result or an error, whatever the status), or with 401 and a Bearer
// challenge. A session the answer opened is ended.
func (c *Client) probeStreamable(ctx context.Context, u *url.URL, m *jsonrpc.Message) bool {
	id := json.RawMessage(fmt.Appendf(nil, `"meshai-mcp-server/probe/%d"`, c.seq.Add(1)))
	probe, err := jsonrpc.WithID(m.Raw, id)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	resp, err := c.probeDo(ctx, http.MethodPost, u, &probe, "")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && bearerChallenge(resp.Header.Values("WWW-Authenticate")) {
		return true
	}
	if s := resp.Header.Get(hdrSession); s != "" {
		defer c.endProbeSession(u, s)
	}
	switch mediaType(resp) {
	case "application/json":
		body, release, err := c.readBody(resp)
		if err != nil {
			return false
		}
		defer release()
		return answers(body, id)
	case "text/event-stream":
		for ev, err := range sse.Read(resp.Body, &sse.ReadConfig{MaxEventSize: c.opts.MaxMessageBytes}) {
			if err != nil {
				return false
			}
			if (ev.Type == "" || ev.Type == "message") && answers([]byte(ev.Data), id) {
				return true
			}
		}
	}
	return false
}

// probeLegacy opens u as a legacy HTTP+SSE stream: it answers like MCP with an event stream, or with 401 and a
// Bearer challenge. The stream is closed at once.
func (c *Client) probeLegacy(ctx context.Context, u *url.URL) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	resp, err := c.probeDo(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return bearerChallenge(resp.Header.Values("WWW-Authenticate"))
	}
	return resp.StatusCode == http.StatusOK && mediaType(resp) == "text/event-stream"
}

// probeDo sends one probe: no retry and no sign-in, whatever it gets.
func (c *Client) probeDo(ctx context.Context, method string, u *url.URL, m *jsonrpc.Message, session string) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, u, m, session, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		c.log.Debug("probe failed", "url", textutil.RedactURL(u), "err", textutil.ScrubError(err))
		return nil, err
	}
	c.log.Debug("probe", "http", method, "url", textutil.RedactURL(u), "status", resp.StatusCode)
	return resp, nil
}

// endProbeSession ends the session a probe's initialize opened.
func (c *Client) endProbeSession(u *url.URL, session string) {
	ctx, cancel := context.WithTimeout(c.ctx, probeTimeout)
	defer cancel()
	if resp, err := c.probeDo(ctx, http.MethodDelete, u, nil, session); err == nil {
		errorBody(resp)
	}
}

// answers reports whether raw is a JSON-RPC response with the given id.
func answers(raw []byte, id json.RawMessage) bool {
	m, err := jsonrpc.Parse(raw)
	if err != nil || m.Kind != jsonrpc.KindResponse {
		return false
	}
	return jsonrpc.IDKey(m.ID) == jsonrpc.IDKey(id)
}

// bearerChallenge reports whether a WWW-Authenticate header offers the Bearer scheme (RFC 6750), as an MCP
// server asking for OAuth sign-in does.
func bearerChallenge(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			scheme, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if strings.EqualFold(scheme, "Bearer") {
				return true
			}
		}
	}
	return false
}
