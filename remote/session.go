package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// sessionRef numbers a session with the server, in the order the Client opened them; 0 is none. A request that
// finds its session lost names the session it went out on: the first to recover it replaces it, and the others
// find another session in use and simply send again.
type sessionRef uint64

// httpSession is a Streamable HTTP session: the Mcp-Session-Id the server gave ("" for none) and its number.
type httpSession struct {
	id  string
	ref sessionRef
}

// httpSession returns the Streamable HTTP session in use.
func (c *Client) httpSession() httpSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return httpSession{c.session, c.inUse}
}

// numbered gives the Streamable HTTP session id a number; a server that gives none has no session to lose.
// The caller holds c.mu.
func (c *Client) numbered(id string) httpSession {
	if id == "" {
		return httpSession{}
	}
	c.opened++
	return httpSession{id, c.opened}
}

// useHTTPSession makes s the session in use. The caller holds c.mu.
func (c *Client) useHTTPSession(s httpSession) {
	c.session, c.inUse = s.id, s.ref
}

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
	return c.initReq != nil && !c.live && c.transport == streamable
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
	initReq, initNote, kind := c.initReq, c.initNote, c.transport
	c.live = false
	if c.listening != nil {
		c.listening()
		c.listening = nil
	}
	c.mu.Unlock()
	if initReq == nil { // a client without a handshake (2026-07-28): there is nothing to replay
		c.dropSession()
		return nil
	}
	if stale == 0 && kind == streamable {
		c.log.Info("no session with the server; replaying the client's initialize to open one")
	} else {
		c.log.Info("the server lost the session; re-initializing it", "transport", kind)
	}
	if kind == legacySSE {
		if err := c.sse.connect(ctx); err != nil {
			return err
		}
	}
	id := fmt.Sprintf(`"meshai-mcp-server/reinitialize/%d"`, c.seq.Add(1))
	replay, err := withID(initReq, id)
	if err != nil {
		return fmt.Errorf("replay initialize: %w", err)
	}
	answer, id, err := c.internalRequest(ctx, replay)
	if err != nil {
		return err
	}
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
	session := c.numbered(id)
	c.mu.Unlock()
	if initNote != nil {
		if kind != legacySSE {
			c.awaitListening(session)
		}
		note, _ := jsonrpc.Parse(initNote)
		if kind == legacySSE {
			err = c.sse.post(ctx, &note)
		} else {
			err = c.postOnce(ctx, note, session)
		}
	}
	c.mu.Lock()
	if kind != legacySSE {
		c.useHTTPSession(session)
	}
	c.live = true
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.log.Info("session re-initialized")
	return nil
}

// dropSession forgets the session in use: the next message opens one.
func (c *Client) dropSession() {
	c.mu.Lock()
	c.session, c.inUse = "", 0
	c.mu.Unlock()
}

// internalRequest sends a request of the bridge's own and waits for its answer, which the client never sees.
// It returns the answer and, for Streamable HTTP, the session id the server gave.
func (c *Client) internalRequest(ctx context.Context, m jsonrpc.Message) ([]byte, string, error) {
	ch := make(chan []byte, 1)
	key := jsonrpc.IDKey(m.ID)
	c.mu.Lock()
	c.internal[key] = ch
	kind := c.transport
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.internal, key)
		c.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	session := ""
	if kind == legacySSE {
		if err := c.sse.post(ctx, &m); err != nil {
			return nil, "", err
		}
	} else {
		resp, err := c.do(ctx, 4*c.opts.RetryWindow, func() (*http.Request, error) {
			return c.newRequest(ctx, http.MethodPost, c.url(), &m, "", "")
		})
		if err != nil {
			return nil, "", err
		}
		var answer *serverAnswer
		switch err := c.refusalOf(resp, &m); {
		case errors.As(err, &answer):
			c.inbound(answer.raw)
		case err != nil:
			return nil, "", err
		default:
			session = resp.Header.Get(hdrSession)
			switch mediaType(resp) {
			case "text/event-stream":
				_, _ = c.readSSE(resp.Body, nil, func() bool { return len(ch) > 0 })
			default:
				if body, err := c.readBody(resp); err == nil {
					c.inbound(body)
				}
			}
			resp.Body.Close()
		}
	}
	select {
	case answer := <-ch:
		return answer, session, nil
	case <-ctx.Done():
		return nil, "", &UpstreamError{Message: "the server did not answer the re-initialize in time", Err: ctx.Err()}
	}
}

// refusalOf is refusal for an answer outside 2xx to a request on no session, and nil for any other.
func (c *Client) refusalOf(resp *http.Response, m *jsonrpc.Message) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return c.refusal(resp, m, httpSession{})
}

// withID returns raw with its id replaced.
func withID(raw []byte, id string) (jsonrpc.Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return jsonrpc.Message{}, err
	}
	fields["id"] = json.RawMessage(id)
	b, err := json.Marshal(fields)
	if err != nil {
		return jsonrpc.Message{}, err
	}
	return jsonrpc.Parse(b)
}
