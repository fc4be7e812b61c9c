package remote

import (
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
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/timeutil"
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

// readBody reads a whole JSON body, bounded by MaxMessageBytes and the memory budget, into a buffer that is the
// message: with the body's length known, one allocation of that size; else blocks joined once at the end. The
// caller gives the budget back with release once the message is delivered.
func (c *Client) readBody(resp *http.Response) (body []byte, release func(), err error) {
	buf := membudget.NewBuffer(c.opts.Budget, c.opts.MaxMessageBytes)
	buf.WaitUntil(requestDone(c.ctx, resp)) // no room: wait for it while the request lasts
	if n := resp.ContentLength; n > int64(c.opts.MaxMessageBytes) {
		return nil, nil, c.tooLarge(&membudget.TooLarge{Size: n, Max: int64(c.opts.MaxMessageBytes)}, false)
	}
	buf.SizeHint(resp.ContentLength)
	_, err = io.Copy(buf, resp.Body)
	if berr := buf.Err(); berr != nil {
		// A body over the limit is not read to its end: its size is what was counted, unless it was announced.
		var tl *membudget.TooLarge
		partial := true
		if errors.As(berr, &tl) && resp.ContentLength > tl.Size {
			tl.Size, partial = resp.ContentLength, false
		}
		return nil, nil, c.tooLarge(berr, partial)
	}
	if err != nil {
		buf.Release()
		return nil, nil, describeNetError(c.url(), err)
	}
	return buf.Bytes(), buf.Release, nil
}

// requestDone is closed when the request resp answers ends (cancelled, or the Client closed).
func requestDone(ctx context.Context, resp *http.Response) <-chan struct{} {
	if resp.Request != nil {
		return resp.Request.Context().Done()
	}
	return ctx.Done()
}

// inboundBody reads a JSON body and hands it to inbound; an empty body is nothing.
func (c *Client) inboundBody(resp *http.Response) error {
	body, release, err := c.readBody(resp)
	if err != nil {
		return err
	}
	defer release()
	if len(body) > 0 {
		c.inbound(body)
	}
	return nil
}

// tooLarge is the error for a message from the server that did not fit: err is a *membudget.TooLarge or
// *membudget.NoRoom. partial says the message was not read to its end.
func (c *Client) tooLarge(err error, partial bool) *UpstreamError {
	var (
		tl  *membudget.TooLarge
		nr  *membudget.NoRoom
		msg string
	)
	switch {
	case errors.As(err, &tl) && partial:
		msg = fmt.Sprintf("the server's answer was more than %s, over the bridge's limit of %s for one message; it was dropped unread",
			membudget.Size(tl.Size), membudget.Size(tl.Max))
	case errors.As(err, &tl):
		msg = fmt.Sprintf("the server's answer was %s, over the bridge's limit of %s for one message; it was dropped unread",
			exactly(tl.Size), membudget.Size(tl.Max))
	case errors.As(err, &nr):
		msg = fmt.Sprintf("the server's answer (at least %s so far) did not fit in the bridge's memory for messages: %s of other "+
			"messages were held at once, and the bridge holds at most %s. It was dropped unread; try again", membudget.Size(nr.Size),
			membudget.Size(nr.Held), membudget.Size(nr.Limit))
	default:
		msg = err.Error()
	}
	return &UpstreamError{Message: msg, Err: err, Cause: CauseTooLarge}
}

// exactly renders a size as a unit and, when that rounds, the bytes too: "20 MiB", "150.0 MiB (157286401 bytes)".
func exactly(n int64) string {
	s := membudget.Size(n)
	if strings.Contains(s, ".") {
		s += fmt.Sprintf(" (%d bytes)", n)
	}
	return s
}

// dropped handles a message from the server dropped for its size on a stream nobody waits on (the GET stream,
// the legacy stream): when its start shows it answers a request in flight, that request gets err; else the log
// says what was lost.
func (c *Client) dropped(head []byte, err *UpstreamError) {
	if id := jsonrpc.ResponseIDFromPrefix(head); id != nil {
		k := jsonrpc.IDKey(id)
		c.mu.Lock()
		var asked json.RawMessage
		if cl := c.pending[k]; cl != nil {
			asked = cl.ids[k]
		}
		c.mu.Unlock()
		if asked != nil {
			c.failIDs([]json.RawMessage{asked}, err)
			c.answered(k)
			return
		}
	}
	c.log.Warn("dropped a message from the server", "err", err.Message)
}

// humanSize renders a byte count in the largest binary unit that keeps it readable (membudget.Size).
func humanSize(n int) string { return membudget.Size(int64(n)) }

// errorBody reads the start of an error response for describeStatus and closes it.
func errorBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return b
}

// sseRead says what readSSE does besides handing messages to inbound.
type sseRead struct {
	other func(typ string, data []byte) // takes events other than messages; nil ignores them
	stop  func() bool                   // stops reading when it returns true after an event; nil never
	// skipLarge: a message too large for the bridge is logged and skipped, and the stream read on. For the
	// server's streams of its own, whose messages nobody waits on; an answer's stream ends with the error.
	skipLarge bool
	// done ends a wait for room in the memory budget: the call's end for an answer's stream; nil: the Client's.
	done <-chan struct{}
}

// sseResult is what reading a stream came to.
type sseResult struct {
	last      string // the last event id seen
	delivered int    // messages handed to the client
}

// readSSE hands each message event of an SSE stream to inbound. It returns at the end of the stream, or when
// how.stop says so.
func (c *Client) readSSE(body io.Reader, how sseRead) (sseResult, error) {
	var res sseResult
	buf := membudget.NewBuffer(c.opts.Budget, c.opts.MaxMessageBytes)
	defer buf.Release()
	if how.done == nil {
		how.done = c.ctx.Done()
	}
	buf.WaitUntil(how.done) // no room: wait for it, as the message's reader is held up anyway
	r := newSSEReader(body, buf, c.opts.MaxMessageBytes)
	defer r.close()
	for {
		typ, err := r.next()
		res.last = r.last
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return res, nil
		case err != nil && buf.Err() != nil:
			return res, c.tooLarge(err, true)
		case err != nil:
			return res, err
		case typ == "" || typ == "message":
			if berr := buf.Err(); berr != nil {
				if !how.skipLarge {
					return res, c.tooLarge(berr, false)
				}
				c.dropped(buf.Head(), c.tooLarge(berr, false))
				break
			}
			if data := buf.Bytes(); len(bytes.TrimSpace(data)) > 0 { // an empty event only primes the stream with an id
				c.inbound(data)
				res.delivered++
			}
		case how.other != nil && buf.Err() == nil:
			how.other(typ, buf.Bytes())
		}
		if how.stop != nil && how.stop() {
			return res, nil
		}
	}
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
