package remote

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// Client relays JSON-RPC messages to one remote MCP server. Messages for the local client come out through
// Options.Deliver. Every request gets exactly one answer there: the server's, or an error saying what went wrong.
type Client struct {
	opts     Options
	log      *slog.Logger
	endpoint atomic.Pointer[url.URL] // opts.URL, or where the server turned out to serve MCP (probe.go)

	ctx    context.Context // lives until Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // request goroutines and streams

	mu        sync.Mutex
	conn      conn            // the transport in use, http or sse; nil until the first message decides
	http      *streamableConn // the Streamable HTTP transport
	sse       *legacyConn     // the legacy HTTP+SSE transport
	inUse     sessionRef      // the session in use, on either transport; 0 for none
	opened    sessionRef      // the number of the last session opened
	version   string          // negotiated protocol version, sent as MCP-Protocol-Version
	initReq   []byte          // the client's initialize request, replayed when a session is lost
	initID    string          // IDKey of that request
	initNote  []byte          // the client's notifications/initialized, replayed after it
	initWait  chan struct{}   // closed when the client's initialize under way has its answer
	live      bool            // a session was opened by an initialize that succeeded, and not lost since
	probed    bool            // the usual paths were probed for the MCP endpoint (probe.go)
	replays   int             // replays of the client's initialize that ensureSession made
	replayErr error           // how the last of them ended
	pending   map[string]*call
	internal  map[string]chan []byte // answers to the bridge's own requests, by IDKey
	tools     map[string]*mcp.Tool   // 2026-07-28 tools with x-mcp-header annotations, by name

	recoverMu sync.Mutex // one session recovery at a time
	debug     bool       // the logger takes debug lines
	seq       atomic.Int64
}

// call is one client message that expects answers: a request, or a batch holding requests.
type call struct {
	msg    jsonrpc.Message
	ids    map[string]json.RawMessage // unanswered ids
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when every id is answered, cancelled or failed
	start  time.Time     // when the client sent it, for the log
	status atomic.Int32  // the HTTP status of its POST, for the log

	postMu   sync.Mutex // legacy SSE: one post of the call at a time
	postedOn string     // legacy SSE: the endpoint the call was last posted to
}

// New returns a Client for opts.URL. It connects lazily, on the first message.
func New(opts Options) *Client {
	opts.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		debug:    opts.Logger.Enabled(context.Background(), slog.LevelDebug),
		opts:     opts,
		log:      opts.Logger,
		ctx:      ctx,
		cancel:   cancel,
		pending:  map[string]*call{},
		internal: map[string]chan []byte{},
	}
	c.http, c.sse = &streamableConn{c: c}, &legacyConn{c: c}
	c.endpoint.Store(opts.URL)
	return c
}

// url is the MCP endpoint in use.
func (c *Client) url() *url.URL { return c.endpoint.Load() }

// Send relays one message from the local client. Requests run in the background and are answered through
// Deliver; initialize, notifications and responses are sent before Send returns, so the server sees them in the
// order the client wrote them.
func (c *Client) Send(m jsonrpc.Message) {
	if c.ctx.Err() != nil {
		c.failIDs(m.IDs(jsonrpc.KindRequest), errShuttingDown)
		return
	}
	switch {
	case m.Kind == jsonrpc.KindRequest && m.Method == "initialize":
		wait := make(chan struct{})
		c.mu.Lock()
		c.initReq, c.initID, c.initNote, c.initWait, c.live = m.Raw, jsonrpc.IDKey(m.ID), nil, wait, false
		c.mu.Unlock()
		cl := c.track(m)
		c.run(cl)
		<-cl.done
		close(wait)
	case m.HasRequest():
		cl := c.track(m)
		c.wg.Go(func() { c.run(cl) })
	default:
		c.notify(m)
	}
}

// track registers the requests in m as pending.
func (c *Client) track(m jsonrpc.Message) *call {
	ctx, cancel := context.WithCancel(c.ctx)
	cl := &call{msg: m, ids: map[string]json.RawMessage{}, ctx: ctx, cancel: cancel, done: make(chan struct{}), start: time.Now()}
	c.mu.Lock()
	for _, id := range m.IDs(jsonrpc.KindRequest) {
		k := jsonrpc.IDKey(id)
		cl.ids[k] = id
		c.pending[k] = cl
	}
	c.mu.Unlock()
	return cl
}

// notify sends a notification or a response upstream and waits for the server to take it.
func (c *Client) notify(m jsonrpc.Message) {
	if m.Kind == jsonrpc.KindNotification && m.Method == "notifications/initialized" {
		c.mu.Lock()
		c.initNote = m.Raw
		held := c.initReq != nil && !c.live && c.conn != c.sse
		c.mu.Unlock()
		if held {
			// The initialize failed: there is no session to send it on. It goes out after the initialize when
			// the next request replays both.
			c.log.Info("no session yet: notifications/initialized goes out when the next request opens one")
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := c.forward(ctx, m); err != nil {
		c.log.Warn("could not deliver message upstream", "kind", m.Kind, "method", m.Method, "err", err)
	}
	if m.Method == "notifications/cancelled" {
		c.cancelled(m.Params)
	}
}

// cancelled closes the stream of a request the client cancelled; the client expects no answer for it.
func (c *Client) cancelled(params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil || p.RequestID == nil {
		return
	}
	c.log.Debug("request cancelled by the client", "id", string(p.RequestID))
	c.answered(jsonrpc.IDKey(p.RequestID))
}

// inbound handles one message from the server: answers complete their requests; everything goes to the client,
// except answers to the bridge's own requests.
func (c *Client) inbound(raw []byte) {
	m, err := jsonrpc.Parse(raw)
	if err != nil {
		c.log.Warn("dropped a malformed message from the server", "err", err, "bytes", len(raw))
		return
	}
	if c.debug {
		c.log.Debug("server →", "kind", m.Kind, "method", m.Method, "id", string(m.ID), "bytes", len(raw))
	}
	for _, id := range m.IDs(jsonrpc.KindResponse) {
		k := jsonrpc.IDKey(id)
		c.mu.Lock()
		if ch, ok := c.internal[k]; ok {
			delete(c.internal, k)
			c.mu.Unlock()
			ch <- m.Raw
			return
		}
		if cl := c.pending[k]; cl != nil && m.Kind == jsonrpc.KindResponse {
			switch cl.msg.Method {
			case "initialize":
				c.version = negotiatedVersion(m.Raw, c.version)
				c.live = isResult(m.Raw)
			case "server/discover":
				c.version = discoveredVersion(cl.msg.Params, m.Raw, c.version)
			}
		}
		learn := m.Kind == jsonrpc.KindResponse && c.pending[k] != nil && c.pending[k].msg.Method == "tools/list" &&
			metaVersion(c.pending[k].msg.Params) != ""
		c.mu.Unlock()
		if learn {
			c.learnTools(m.Raw)
		}
		c.answered(k)
	}
	c.opts.Deliver(jsonrpc.OneLine(m.Raw))
}

// answered marks one id as answered (or cancelled: either way no answer is owed any more).
func (c *Client) answered(k string) {
	c.mu.Lock()
	cl := c.pending[k]
	if cl != nil {
		delete(c.pending, k)
		delete(cl.ids, k)
	}
	c.mu.Unlock()
	if cl != nil {
		c.finishIfDone(cl)
	}
}

func (c *Client) finishIfDone(cl *call) {
	c.mu.Lock()
	done := len(cl.ids) == 0
	c.mu.Unlock()
	if done && !cl.isDone() {
		c.log.Info("answered", "method", cl.msg.Method, "id", string(cl.msg.ID), "status", cl.status.Load(),
			"ms", time.Since(cl.start).Milliseconds())
		cl.finish()
	}
}

func (cl *call) finish() {
	select {
	case <-cl.done:
	default:
		close(cl.done)
	}
	cl.cancel()
}

func (cl *call) isDone() bool {
	select {
	case <-cl.done:
		return true
	default:
		return false
	}
}

// fail answers every unanswered id of cl with err.
func (c *Client) fail(cl *call, err error) {
	c.mu.Lock()
	var ids []json.RawMessage
	for k, id := range cl.ids {
		if c.pending[k] == cl {
			delete(c.pending, k)
		}
		ids = append(ids, id)
		delete(cl.ids, k)
	}
	c.mu.Unlock()
	c.failIDs(ids, err)
	cl.finish()
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

// calls returns the calls waiting for answers.
func (c *Client) calls() []*call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var open []*call
	seen := map[*call]bool{}
	for _, cl := range c.pending {
		if !seen[cl] {
			seen[cl] = true
			open = append(open, cl)
		}
	}
	return open
}

func (c *Client) failIDs(ids []json.RawMessage, err error) {
	var ue *UpstreamError
	if !errors.As(err, &ue) {
		ue = &UpstreamError{Message: err.Error(), Err: err}
	}
	for _, id := range ids {
		c.log.Warn("request failed", "id", string(id), "err", ue.Message)
		c.opts.Deliver(jsonrpc.ErrorResponse(id, jsonrpc.CodeUpstream, ue.Message, ue.data(c.url())))
	}
}

// isResult reports whether a response carries a result rather than an error.
func isResult(raw []byte) bool {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	return json.Unmarshal(raw, &r) == nil && len(r.Result) > 0 && string(r.Result) != "null"
}

// negotiatedVersion reads result.protocolVersion from an initialize answer.
func negotiatedVersion(raw []byte, old string) string {
	var r struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if json.Unmarshal(raw, &r) == nil && r.Result.ProtocolVersion != "" {
		return r.Result.ProtocolVersion
	}
	return old
}

// discoveredVersion is the version a server/discover request settled (protocol 2026-07-28, which has no
// initialize): the one the request named in its _meta, when the server answered with a result that lists it
// among its supportedVersions (or lists none).
func discoveredVersion(params json.RawMessage, raw []byte, old string) string {
	var r struct {
		Result *struct {
			SupportedVersions []string `json:"supportedVersions"`
		} `json:"result"`
	}
	v := metaVersion(params)
	if v == "" || json.Unmarshal(raw, &r) != nil || r.Result == nil {
		return old
	}
	if len(r.Result.SupportedVersions) > 0 && !slices.Contains(r.Result.SupportedVersions, v) {
		return old
	}
	return v
}

// errShuttingDown answers the requests that Close interrupts or that come after it.
var errShuttingDown = &UpstreamError{Message: "the bridge is shutting down"}

// Close ends the session: requests still running get an error, the server is told the session is over (DELETE),
// and every goroutine has stopped when Close returns.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	c.cancel()
	c.failAll(errShuttingDown)
	var err error
	if cn != nil {
		err = cn.close(ctx)
	}
	c.wg.Wait()
	c.opts.HTTPClient.CloseIdleConnections()
	return err
}

// Pending reports how many requests are waiting for an answer.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
