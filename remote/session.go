package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// ensureSession opens a session before the request m is sent when the client's initialize is on record but no
// session is live: that initialize failed (a sign-in that did not finish, a rate limit), or a lost session could
// not be rebuilt at the time. Without this, every later request would go out with no session and get 404 for
// ever. A request waits for the client's initialize still under way, then decides; requests that wait for the
// same replay share its outcome, so a failure (a sign-in refused) is not tried again once per waiting request.
func (c *Client) ensureSession(ctx context.Context, m *jsonrpc.Message) error {
	if m.Method == "initialize" {
		return nil
	}
	c.mu.Lock()
	wait := c.initWait
	c.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return &UpstreamError{Message: "the request was cancelled", Err: ctx.Err()}
		}
	}
	if !c.needsSession() {
		return nil
	}
	c.mu.Lock()
	seen := c.replays
	c.mu.Unlock()
	if !c.recoverMu.TryLock() {
		c.log.Debug("waiting for the session another request is opening", "method", m.Method)
		c.recoverMu.Lock()
	}
	defer c.recoverMu.Unlock()
	if !c.needsSession() { // another request opened it meanwhile
		return nil
	}
	c.mu.Lock()
	stale, shared, err := c.inUse, c.replays != seen, c.replayErr
	c.mu.Unlock()
	if shared && err != nil { // a replay failed while this request waited for it: the same cause holds
		return err
	}
	err = c.reopen(ctx, stale)
	c.mu.Lock()
	c.replays, c.replayErr = c.replays+1, err
	c.mu.Unlock()
	return err
}

// needsSession reports whether the client's initialize is on record on Streamable HTTP without a live session.
func (c *Client) needsSession() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.initReq != nil && !c.live && c.conn == c.http
}

// recoverSession replaces a session the server lost. Callers that raced on the same lost session wait for the
// first one and then use its new session.
func (c *Client) recoverSession(ctx context.Context, stale sessionRef) error {
	c.recoverMu.Lock()
	defer c.recoverMu.Unlock()
	c.mu.Lock()
	done := c.inUse != stale || (stale == 0 && c.live)
	c.mu.Unlock()
	if done {
		return nil
	}
	return c.reopen(ctx, stale)
}

// reopen replaces the session stale (0 for none): it replays the client's initialize and
// notifications/initialized, so the client never notices. The new session is live, and used by other
// requests, only once both went out. The caller holds recoverMu.
func (c *Client) reopen(ctx context.Context, stale sessionRef) error {
	c.mu.Lock()
	initReq, initNote, cn := c.initReq, c.initNote, c.conn
	c.live = false
	c.mu.Unlock()
	if cn == nil {
		cn = c.http
	}
	if initReq == nil { // a client without a handshake (2026-07-28): there is nothing to replay
		return cn.reopen(ctx, nil, nil, nil)
	}
	replay, err := jsonrpc.WithID(initReq, fmt.Appendf(nil, `"meshai-mcp-server/reinitialize/%d"`, c.seq.Add(1)))
	if err != nil {
		return fmt.Errorf("replay initialize: %w", err)
	}
	var note *jsonrpc.Message
	if initNote != nil {
		n, _ := jsonrpc.Parse(initNote)
		note = &n
	}
	accepted := false
	err = cn.reopen(ctx, &replay, note, func(answer []byte) error {
		var r struct {
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(answer, &r) == nil && r.Error != nil {
			if stale == 0 {
				return &UpstreamError{Message: "the server refused to open a session: " + r.Error.Message}
			}
			return &UpstreamError{Message: "the server lost the session and refused a new one: " + r.Error.Message}
		}
		c.mu.Lock()
		c.version = negotiatedVersion(answer, c.version)
		c.mu.Unlock()
		accepted = true
		return nil
	})
	if accepted {
		c.mu.Lock()
		c.live = true
		c.mu.Unlock()
	}
	if err != nil {
		return err
	}
	c.log.Log(ctx, c.sse.level(), "session re-initialized") // debug while legacy streams keep ending at once
	return nil
}

// dropSession forgets the session in use: the next message opens one.
func (c *Client) dropSession() {
	c.mu.Lock()
	c.inUse = 0
	c.mu.Unlock()
}

// internalRequest sends m, a request of the bridge's own, with send, and waits for its answer, which the
// client never sees. send may stop reading the server's answer once answered reports true.
func (c *Client) internalRequest(ctx context.Context, m *jsonrpc.Message, send func(ctx context.Context, answered func() bool) error) ([]byte, error) {
	ch := make(chan []byte, 1)
	key := jsonrpc.IDKey(m.ID)
	c.mu.Lock()
	c.internal[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.internal, key)
		c.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := send(ctx, func() bool { return len(ch) > 0 }); err != nil {
		return nil, err
	}
	select {
	case answer := <-ch:
		return answer, nil
	case <-ctx.Done():
		return nil, &UpstreamError{Message: "the server did not answer the re-initialize in time", Err: ctx.Err()}
	}
}
