package devserver

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Controls that break a running server on purpose, for fault-injection tests (e2e/faults_test.go), and a count
// of the work it did, to prove nothing was lost or done twice.

// DropSessions ends every session at once, as a server that expired or lost them: later requests on them get 404, their GET streams end and their running tool calls are cancelled.
func (r *Running) DropSessions() {
	r.srv.http.CloseSessions(context.Background())
	r.srv.sse.CloseSessions()
}

// RevokeAccessTokens revokes every access token issued so far but keeps refresh tokens and grants (OAuth only); it returns how many it revoked.
func (r *Running) RevokeAccessTokens() int {
	o := r.srv.oauth
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.access)
	clear(o.access)
	return n
}

// RevokeGrants revokes every grant with its access and refresh tokens, as a user removing the app's access does (OAuth only); it returns how many grants it revoked.
func (r *Running) RevokeGrants() int {
	o := r.srv.oauth
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for id, g := range o.grants {
		if !g.revoked {
			o.revokeGrantLocked(id)
			n++
		}
	}
	return n
}

// ForgetClients deletes every client registration, as an authorization server that expires unused dynamic
// clients or lost its database does: their refresh tokens then get invalid_client (OAuth only). It returns how many
// it forgot.
func (r *Running) ForgetClients() int {
	o := r.srv.oauth
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.clients)
	clear(o.clients)
	return n
}

// Execution is what the server did for one mesh_execute task (its "task" argument).
type Execution struct {
	Started   int // runs begun
	Completed int // runs that returned a result (not an error)
	Repeated  int // runs begun after a run of the same task had completed: work done twice
}

// Executions counts mesh_execute runs by task; see Running.TrackExecutions.
type Executions struct {
	mu     sync.Mutex
	byTask map[string]*Execution
}

// TrackExecutions starts counting mesh_execute runs by their "task" argument; call it once, before any session opens.
func (r *Running) TrackExecutions() *Executions {
	e := &Executions{byTask: map[string]*Execution{}}
	st := r.srv.mcp.GetTool("mesh_execute")
	if st == nil {
		return e
	}
	next := st.Handler
	r.srv.mcp.AddTools(server.ServerTool{Tool: st.Tool, Handler: func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		task := taskOf(req)
		e.started(task)
		res, err := next(ctx, req)
		if err == nil && res != nil && !res.IsError {
			e.completed(task)
		}
		return res, err
	}})
	return e
}

// taskOf returns the task argument of a mesh_execute call, "" when there is none.
func taskOf(req mcp.CallToolRequest) string {
	var a struct {
		Task string `json:"task"`
	}
	if b, err := json.Marshal(req.Params.Arguments); err == nil {
		_ = json.Unmarshal(b, &a)
	}
	return a.Task
}

func (e *Executions) entry(task string) *Execution {
	x := e.byTask[task]
	if x == nil {
		x = &Execution{}
		e.byTask[task] = x
	}
	return x
}

func (e *Executions) started(task string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.entry(task)
	x.Started++
	if x.Completed > 0 {
		x.Repeated++
	}
}

func (e *Executions) completed(task string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.entry(task).Completed++
}

// Of returns the count for one task.
func (e *Executions) Of(task string) Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.byTask[task]; x != nil {
		return *x
	}
	return Execution{}
}

// All returns the counts of every task seen.
func (e *Executions) All() map[string]Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]Execution, len(e.byTask))
	for k, v := range e.byTask {
		out[k] = *v
	}
	return out
}
