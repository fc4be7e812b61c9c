package devserver

import (
	"context"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// toolCalls holds the cancel functions of running tool calls by session, so that ending a session
// (DELETE on /v1/mcp, the /v1/sse stream closing) stops its calls.
type toolCalls struct {
	mu      sync.Mutex
	next    int
	running map[string]map[int]context.CancelCauseFunc
}

// newToolCalls returns an empty registry.
func newToolCalls() *toolCalls {
	return &toolCalls{running: map[string]map[int]context.CancelCauseFunc{}}
}

// add registers cancel under session and returns the function that removes it.
func (t *toolCalls) add(session string, cancel context.CancelCauseFunc) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	id := t.next
	if t.running[session] == nil {
		t.running[session] = map[int]context.CancelCauseFunc{}
	}
	t.running[session][id] = cancel
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.running[session], id)
		if len(t.running[session]) == 0 {
			delete(t.running, session)
		}
	}
}

// cancelSession cancels every running call of session with cause.
func (t *toolCalls) cancelSession(session string, cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, cancel := range t.running[session] {
		cancel(cause)
	}
}

// toolLifetime ends a tool call's context when the server closes or the call's session ends.
func (s *Server) toolLifetime(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(errCallDone)
		stop := context.AfterFunc(s.base, func() { cancel(context.Cause(s.base)) })
		defer stop()
		if sess := server.ClientSessionFromContext(ctx); sess != nil && sess.SessionID() != "" {
			defer s.tools.add(sess.SessionID(), cancel)()
		}
		return next(ctx, req)
	}
}
