package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// mcpSession is doctor's authenticated session with the server. It goes through remote's Client, the
// transport the bridge relays with, so the round trip meets the server exactly as the bridge would: the same
// headers, session handling, legacy SSE fallback and stream reading.
type mcpSession struct {
	client  *remote.Client
	mu      sync.Mutex
	waiting map[string]chan []byte // by IDKey: the request whose answer someone waits for
	sends   sync.WaitGroup         // Send calls under way
}

// openSession prepares a session with r.u that sends bearer ("" for none); it connects on the first request.
func (r *runner) openSession(bearer string) *mcpSession {
	s := &mcpSession{waiting: map[string]chan []byte{}}
	var token oauth2.TokenSource
	if bearer != "" {
		token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: bearer, TokenType: "Bearer"})
	}
	u := *r.u
	s.client = remote.New(remote.Options{URL: &u, HTTPClient: r.client(), Token: token, Deliver: s.deliver})
	return s
}

// deliver hands an answer to the request waiting for it. The server's own requests and notifications are
// dropped: doctor offers no capabilities, so it owes them nothing.
func (s *mcpSession) deliver(msg []byte) {
	m, err := jsonrpc.Parse(msg)
	if err != nil || m.Kind != jsonrpc.KindResponse {
		return
	}
	s.mu.Lock()
	ch := s.waiting[jsonrpc.IDKey(m.ID)]
	delete(s.waiting, jsonrpc.IDKey(m.ID))
	s.mu.Unlock()
	if ch != nil {
		ch <- msg
	}
}

// call sends the notifications named in before, then the request (id, method, params), and waits for its
// answer, or for ctx to end. It returns the answer and how long it took from the request's send.
func (s *mcpSession) call(ctx context.Context, id int, method string, params any, before ...string) (*rpcMessage, time.Duration, error) {
	req, err := message(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, 0, err
	}
	notes := make([]jsonrpc.Message, 0, len(before))
	for _, n := range before {
		m, err := message(map[string]any{"jsonrpc": "2.0", "method": n})
		if err != nil {
			return nil, 0, err
		}
		notes = append(notes, m)
	}
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.waiting[jsonrpc.IDKey(req.ID)] = ch
	s.mu.Unlock()
	var start time.Time
	started := make(chan struct{})
	s.sends.Go(func() { // initialize's Send returns only with its answer: ctx must be able to cut the wait short
		for _, n := range notes {
			s.client.Send(n)
		}
		start = time.Now()
		close(started)
		s.client.Send(req)
	})
	select {
	case raw := <-ch:
		<-started
		var a rpcMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, 0, fmt.Errorf("unreadable answer to %s: %w", method, err)
		}
		return &a, time.Since(start), nil
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}

// close ends the session (remote deletes it at the server) and waits for every Send to return.
func (s *mcpSession) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = s.client.Close(ctx)
	s.sends.Wait()
}

// message builds a JSON-RPC message from its fields.
func message(fields map[string]any) (jsonrpc.Message, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return jsonrpc.Message{}, err
	}
	return jsonrpc.Parse(b)
}

// upstreamFailure reads an answer that remote's Client made because the server's did not come: the HTTP status
// it got (0 when none), when the server asked to be tried again (zero when it did not say) and what happened.
// failed is false for any other answer, the server's own JSON-RPC errors included: those are relayed as they are.
func upstreamFailure(m *rpcMessage) (status int, until time.Time, what string, failed bool) {
	if m.Error == nil || m.Error.Code != jsonrpc.CodeUpstream {
		return 0, time.Time{}, "", false
	}
	var d struct {
		URL     string `json:"url"`
		Status  int    `json:"status"`
		RetryAt string `json:"retryAt"`
	}
	if json.Unmarshal(m.Error.Data, &d) != nil || d.URL == "" {
		return 0, time.Time{}, "", false
	}
	until, _ = time.Parse(time.RFC3339, d.RetryAt)
	return d.Status, until, m.Error.Message, true
}
