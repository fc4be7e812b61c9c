package remote

import (
	"context"
	"log/slog"
	"net/url"
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
