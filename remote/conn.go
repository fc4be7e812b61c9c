package remote

import (
	"context"
	"errors"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// conn is the Client's connection to the server over one transport: Streamable HTTP (streamableConn) or legacy
// HTTP+SSE (legacyConn). What the server sends, in answer to a method here or on a stream of the connection's
// own, goes to Client.inbound. The Client keeps what the two have in common: the requests in flight and their
// one answer each, the choice of transport and the fallback from one to the other, and the recovery of a lost
// session by replaying the client's handshake.
type conn interface {
	// call sends cl, a message holding requests. It returns once the transport needs cl.ctx no more: when cl
	// is answered, or accepted with its answers to come on a stream. A *sessionLost error asks the Client to
	// recover the session and call again.
	call(cl *call) error
	// send sends a notification or a response and reads whatever the server answers.
	send(ctx context.Context, m *jsonrpc.Message) error
	// reopen opens a new session in place of the one in use and replays the client's handshake on it: init,
	// its initialize under an id of the bridge's own, whose answer goes to accept, then note, its
	// notifications/initialized (nil when it sent none). Other messages go out on the new session only after
	// both. With init nil there is nothing to replay, and reopen only forgets the session in use.
	reopen(ctx context.Context, init, note *jsonrpc.Message, accept func(answer []byte) error) error
	// close ends the session, where the transport has a way to; the Client has stopped everything else.
	close(ctx context.Context) error
}

// sessionRef numbers a session with the server, in the order the Client opened them; 0 is none. A request that
// finds its session lost names the session it went out on: the first to recover it replaces it, and the others
// find another session in use and simply send again.
type sessionRef uint64

// errFallback means a Streamable HTTP initialize was refused in a way that marks a legacy HTTP+SSE server.
var errFallback = errors.New("not a Streamable HTTP endpoint")

// run carries one call to its answers, recovering a lost session and resending at most a few times.
func (c *Client) run(cl *call) {
	for attempt := 0; ; attempt++ {
		cn, err := c.connFor(cl.ctx, &cl.msg)
		if err == nil {
			err = cn.call(cl)
		}
		var lost *sessionLost
		switch {
		case err == nil:
			return
		case errors.As(err, &lost) && attempt < 3 && (lost.ref != 0 || c.hasInit()):
			if rerr := c.recoverSession(cl.ctx, lost.ref); rerr != nil {
				c.fail(cl, rerr)
				cl.cancel()
				return
			}
			c.log.Info("resending after re-initialize", "method", cl.msg.Method)
		case errors.Is(err, errFallback):
			c.log.Info("the server refused Streamable HTTP; falling back to the legacy HTTP+SSE transport")
			c.mu.Lock()
			c.conn = c.sse
			c.mu.Unlock()
		case c.relocate(cl, err):
		default:
			if c.ctx.Err() != nil { // Close cancelled it: say so, as Close does for the calls it answers itself
				err = errShuttingDown
			}
			if !cl.isDone() {
				c.fail(cl, err)
			}
			cl.cancel()
			return
		}
	}
}

// forward sends a notification or response and waits for the server to take it. A lost session is recovered
// for the messages that follow; this one belonged to the lost session and means nothing to a new one.
func (c *Client) forward(ctx context.Context, m jsonrpc.Message) error {
	cn, err := c.connFor(ctx, &m)
	if err != nil {
		return err
	}
	err = cn.send(ctx, &m)
	var lost *sessionLost
	if errors.As(err, &lost) {
		return c.recoverSession(ctx, lost.ref)
	}
	return err
}

// connFor decides, on the first message, which transport to speak, and reconnects a lost legacy stream.
func (c *Client) connFor(ctx context.Context, m *jsonrpc.Message) (conn, error) {
	c.mu.Lock()
	cn, down, lost := c.conn, c.sse.stream == nil, c.inUse
	c.mu.Unlock()
	switch {
	case cn == c.sse && down:
		// The stream was lost: its recovery failed, is under way or waits out a backoff (legacyConn.lost). A
		// message of the client's does not wait: the session is recovered now, or found recovered.
		if m.Method != "initialize" && c.hasInit() {
			return cn, c.recoverSession(ctx, lost)
		}
		return cn, c.sse.connect(ctx)
	case cn != nil:
		return cn, nil
	}
	switch c.opts.Mode {
	case HTTPOnly:
		return c.use(c.http), nil
	case HTTPFirst:
		if m.Method == "initialize" {
			return c.http, nil // its answer decides (streamableConn.roundTrip)
		}
		return c.use(c.http), nil
	case SSEOnly:
		return c.sse, c.sse.connect(ctx)
	}
	err := c.sse.connect(ctx) // SSEFirst
	var ns *notSSE
	if errors.As(err, &ns) {
		c.log.Info("no SSE stream at the URL; using Streamable HTTP", "status", ns.err.Status)
		return c.use(c.http), nil
	}
	return c.sse, err
}

// use makes cn the transport, unless one was decided already, and returns the one decided.
func (c *Client) use(cn conn) conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		c.conn = cn
	}
	return c.conn
}

func (c *Client) hasInit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.initReq != nil
}
