package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
	sse "github.com/tmaxmax/go-sse"
)

// Header names of the Streamable HTTP transport.
const (
	hdrSession     = "Mcp-Session-Id"
	hdrVersion     = "MCP-Protocol-Version"
	hdrMethod      = "Mcp-Method"
	hdrName        = "Mcp-Name"
	hdrLastEventID = "Last-Event-ID"
	metaVersionKey = "io.modelcontextprotocol/protocolVersion"
)

// newRequest builds an HTTP request to u. m may be nil (GET, DELETE). session is sent as Mcp-Session-Id.
func (c *Client) newRequest(ctx context.Context, method string, u *url.URL, m *jsonrpc.Message, session, lastEventID string) (*http.Request, error) {
	var body io.Reader
	if m != nil {
		body = bytes.NewReader(m.Raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range c.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if c.opts.Token != nil && req.Header.Get("Authorization") == "" {
		tok, err := c.opts.Token.Token()
		if err != nil {
			return nil, credentialError(err)
		}
		if tok.AccessToken != "" { // none yet: the server's 401 starts the sign-in
			tok.SetAuthHeader(req)
		}
	}
	switch method {
	case http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	case http.MethodGet:
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Cache-Control", "no-cache")
	}
	if session != "" {
		req.Header.Set(hdrSession, session)
	}
	if lastEventID != "" {
		req.Header.Set(hdrLastEventID, lastEventID)
	}
	c.versionHeaders(req, m)
	return req, nil
}

// versionHeaders sets MCP-Protocol-Version: the version a 2026-07-28-era message names in its _meta, else the
// version negotiated by initialize or server/discover. With a 2026-07-28-era version go the Mcp-Method and
// Mcp-Name headers that era requires.
func (c *Client) versionHeaders(req *http.Request, m *jsonrpc.Message) {
	single := m != nil && m.Kind != jsonrpc.KindBatch
	v := ""
	if single {
		v = metaVersion(m.Params)
		if v == "" && m.Method == "initialize" {
			return
		}
	}
	fromMeta := v != ""
	if v == "" {
		c.mu.Lock()
		v = c.version
		c.mu.Unlock()
	}
	if v == "" {
		return
	}
	req.Header.Set(hdrVersion, v)
	if single && (fromMeta || mcp.IsModernProtocol(v)) {
		c.methodHeaders(req, m)
	}
}

// methodHeaders sets Mcp-Method, Mcp-Name and, for tools/call, the Mcp-Param-* headers.
func (c *Client) methodHeaders(req *http.Request, m *jsonrpc.Message) {
	if m.Method != "" {
		req.Header.Set(hdrMethod, m.Method)
	}
	if name, ok := headerName(m.Method, m.Params); ok {
		if enc, ok := mcp.EncodeHeaderValue(name); ok {
			req.Header.Set(hdrName, enc)
		}
		if m.Method == "tools/call" {
			c.paramHeaders(req, name, m.Params)
		}
	}
}

// metaVersion returns params._meta["io.modelcontextprotocol/protocolVersion"], if any.
func metaVersion(params json.RawMessage) string {
	if !bytes.Contains(params, []byte(metaVersionKey)) {
		return ""
	}
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	var v string
	if json.Unmarshal(p.Meta[metaVersionKey], &v) != nil {
		return ""
	}
	return v
}

// headerName is what Mcp-Name carries: params.name for tools/call and prompts/get, params.uri for resources/read.
func headerName(method string, params json.RawMessage) (string, bool) {
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	switch method {
	case "tools/call", "prompts/get":
		if json.Unmarshal(params, &p) == nil {
			return p.Name, true
		}
	case "resources/read":
		if json.Unmarshal(params, &p) == nil {
			return p.URI, true
		}
	}
	return "", false
}

// do sends a request, retrying while the server cannot be reached (nothing was sent, so nothing can be doubled)
// for up to window.
func (c *Client) do(ctx context.Context, window time.Duration, build func() (*http.Request, error)) (*http.Response, error) {
	deadline := time.Now().Add(window)
	backoff := 100 * time.Millisecond
	reauths := 0
	for {
		req, err := build()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := c.opts.HTTPClient.Do(req)
		if err == nil {
			if c.debug {
				c.log.Debug("upstream", "http", req.Method, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds(),
					"request_headers", redactHeaders(req.Header), "response_headers", redactHeaders(resp.Header))
			} else if resp.StatusCode >= 400 {
				c.log.Info("upstream refused", "http", req.Method, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
			}
			if reauths < maxReauth && needsReauth(resp) && !isBackground(ctx) {
				retry, rerr := c.reauthorize(ctx, req, resp)
				if rerr != nil {
					return nil, rerr
				}
				if retry {
					reauths++
					continue
				}
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, &UpstreamError{Message: "the request was cancelled", Err: ctx.Err()}
		}
		if !isDialError(err) || time.Now().Add(backoff).After(deadline) {
			return nil, describeNetError(c.url(), err)
		}
		c.log.Info("server unreachable, retrying", "in", backoff.String(), "err", textutil.ScrubError(err))
		if !timeutil.Sleep(ctx, backoff) {
			return nil, &UpstreamError{Message: "the request was cancelled", Err: ctx.Err()}
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func mediaType(resp *http.Response) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt
}

// readBody reads a whole JSON body, bounded by MaxMessageBytes. It reads into a pooled buffer and keeps an exact
// copy: io.ReadAll's doublings were two thirds of what a relayed call allocated (pprof, bench/).
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, int64(c.opts.MaxMessageBytes)+1))
	if err != nil {
		return nil, describeNetError(c.url(), err)
	}
	if buf.Len() > c.opts.MaxMessageBytes {
		return nil, &UpstreamError{Message: "the server's answer is larger than " + humanSize(c.opts.MaxMessageBytes) + ", the bridge's limit"}
	}
	return append([]byte{}, buf.Bytes()...), nil
}

// humanSize renders a byte count in the largest binary unit that keeps it readable: "128 MiB", "64 KiB",
// "1.5 MiB", "100 bytes".
func humanSize(n int) string {
	for _, u := range []struct {
		size int
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		case n >= u.size:
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// bodyBuffers hold JSON bodies while they are read.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// errorBody reads the start of an error response for describeStatus and closes it.
func errorBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return b
}

// readSSE hands each message event of an SSE stream to inbound, and other events to other (which may be nil).
// It stops when stop returns true after an event, or when the stream ends, and returns the last event id seen.
func (c *Client) readSSE(body io.Reader, other func(sse.Event), stop func() bool) (string, error) {
	last := ""
	for ev, err := range sse.Read(body, &sse.ReadConfig{MaxEventSize: c.opts.MaxMessageBytes}) {
		if errors.Is(err, bufio.ErrTooLong) {
			return last, &UpstreamError{Message: "the server sent a message too large for the bridge (over " + humanSize(c.opts.MaxMessageBytes) +
				"); it was dropped unread. Ask for less (e.g. paginate), or the server is misbehaving", Err: err}
		}
		if err != nil {
			return last, err
		}
		last = ev.LastEventID
		switch {
		case ev.Type == "" || ev.Type == "message":
			if len(bytes.TrimSpace([]byte(ev.Data))) > 0 { // an empty event only primes the stream with an id
				c.inbound([]byte(ev.Data))
			}
		case other != nil:
			other(ev)
		}
		if stop != nil && stop() {
			break
		}
	}
	return last, nil
}

// shownHeaders are headers whose values the debug log shows; every other value may be a secret and is hidden.
var shownHeaders = map[string]bool{
	"Accept": true, "Content-Type": true, "Content-Length": true, "Cache-Control": true, "Mcp-Protocol-Version": true,
	"Mcp-Method": true, "Mcp-Name": true, "Last-Event-Id": true, "Date": true, "Server": true, "Allow": true,
	"Retry-After": true, "Location": true, "Cf-Mitigated": true, "Cf-Ray": true, "Www-Authenticate": true,
}

// redactHeaders renders headers for the debug log: names always, values only for shownHeaders.
func redactHeaders(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		v := "[redacted]"
		if shownHeaders[http.CanonicalHeaderKey(k)] {
			v = strings.Join(h[k], ", ")
		}
		b.WriteString(k + ": " + v)
	}
	return b.String()
}
