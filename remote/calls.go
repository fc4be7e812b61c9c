package remote

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

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
	resent   bool       // legacy SSE: posted again once already after its stream was lost (postMu)
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
	msg := ue.Message
	if c.opts.Advise != nil {
		if a := c.opts.Advise(ue); a != "" {
			msg += ": " + a
		}
	}
	for _, id := range ids {
		c.log.Warn("request failed", "id", string(id), "err", msg)
		c.opts.Deliver(jsonrpc.ErrorResponse(id, jsonrpc.CodeUpstream, msg, ue.data(c.url())))
	}
}
