package devserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// elicitor answers elicitation requests with a fixed response and remembers what it was asked.
type elicitor struct {
	mu     sync.Mutex
	asked  []mcp.ElicitationParams
	answer mcp.ElicitationResponse
}

// Elicit implements client.ElicitationHandler.
func (e *elicitor) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asked = append(e.asked, req.Params)
	return &mcp.ElicitationResult{ElicitationResponse: e.answer}, nil
}

func TestApproveWorkflow(t *testing.T) {
	r := start(t, 0)
	tests := []struct {
		name       string
		answer     mcp.ElicitationResponse
		wantText   []string
		wantAction string
	}{
		{"accept", mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept,
			Content: map[string]any{"approve": true, "note": "ship it"}},
			[]string{"accepted", "wf-0001", `"approve":true`, `"note":"ship it"`}, "accept"},
		{"decline", mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline},
			[]string{"declined", "wf-0001"}, "decline"},
		{"cancel", mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionCancel},
			[]string{"cancelled", "wf-0001"}, "cancel"},
	}
	callTool(t, connect(t, r), "submit_workflow", map[string]any{
		"workflow_type": "hierarchical", "payload": map[string]any{"goal": "quarterly review"},
		"agents": []string{"workflow-planner", "financial-analyst"},
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &elicitor{answer: tc.answer}
			c := connect(t, r, client.WithElicitationHandler(e))
			res := callTool(t, c, "approve_workflow", map[string]any{"workflow": "wf-0001"})
			if res.IsError {
				t.Fatalf("result %+v", res)
			}
			for _, w := range tc.wantText {
				if !strings.Contains(text(t, res), w) {
					t.Errorf("text %q lacks %q", text(t, res), w)
				}
			}
			var got struct{ Workflow, Action string }
			structured(t, res, &got)
			if got.Workflow != "wf-0001" || got.Action != tc.wantAction {
				t.Errorf("structured %+v", got)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.asked) != 1 || !strings.Contains(e.asked[0].Message, "wf-0001 (hierarchical, 2 agents)") {
				t.Fatalf("asked %+v", e.asked)
			}
			props, _ := e.asked[0].RequestedSchema.(map[string]any)["properties"].(map[string]any)
			if props["approve"] == nil || props["note"] == nil {
				t.Errorf("requested schema %v", e.asked[0].RequestedSchema)
			}
		})
	}
}

// connectSSE starts and initializes an mcp-go client on the legacy /v1/sse transport.
func connectSSE(t *testing.T, r *Running, opts ...client.ClientOption) *client.Client {
	t.Helper()
	tr, err := transport.NewSSE(r.URL+"/v1/sse", transport.WithHeaders(authHeaders()))
	if err != nil {
		t.Fatal(err)
	}
	return initialize(t, client.NewClient(tr, opts...))
}

// TestLegacySSE drives the 2024-11-05 HTTP+SSE transport. mcp-go's SSE server sessions cannot send
// server-to-client requests (its sseSession has no RequestElicitation, and /v1/message drops client
// responses), and its SSE client cannot answer server requests either, so approve_workflow reports an error
// there even for a client that declares the elicitation capability.
func TestLegacySSE(t *testing.T) {
	r := start(t, 2*time.Millisecond)
	e := &elicitor{answer: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}
	c := connectSSE(t, r, client.WithElicitationHandler(e))
	var got notes
	c.OnNotification(got.add)

	list, err := c.ListTools(testCtx(t), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != 7 {
		t.Errorf("%d tools over SSE, want 7", len(list.Tools))
	}
	res := callTool(t, c, "list_agents", map[string]any{"framework": "llamaindex"})
	if !strings.Contains(text(t, res), "knowledge-retriever") {
		t.Errorf("list_agents over SSE: %s", text(t, res))
	}
	if _, err := c.CallTool(testCtx(t), executeRequest(4, "sse-tok")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "4 progress notifications over SSE", func() bool { return len(got.of("notifications/progress")) == 4 })

	res = callTool(t, c, "approve_workflow", map[string]any{"workflow": "wf-0001"})
	if !res.IsError || !strings.Contains(text(t, res), "does not support elicitation") {
		t.Errorf("approve_workflow over SSE: %+v", res)
	}
}

// TestApproveWorkflowWithoutCapability calls approve_workflow from a client that cannot elicit.
func TestApproveWorkflowWithoutCapability(t *testing.T) {
	c := connect(t, start(t, 0))
	res := callTool(t, c, "approve_workflow", map[string]any{"workflow": "wf-0042"})
	if !res.IsError || !strings.Contains(text(t, res), "did not declare the elicitation capability") {
		t.Errorf("result %+v", res)
	}
}

// TestLegacySSEStreamEndCancelsCalls closes the SSE stream while a call runs on its session: the call is cancelled
// because the session ended, instead of running its maxSteps steps to the end.
func TestLegacySSEStreamEndCancelsCalls(t *testing.T) {
	r, cancels := startLogged(t, 5*time.Millisecond)
	c := connectSSE(t, r)
	go func() { _, _ = c.CallTool(context.Background(), executeRequest(maxSteps, "x")) }()
	waitFor(t, "the call to start", func() bool { return r.srv.stats.steps.Load() > 0 })
	_ = c.Close()
	if cause := cancels.oneCause(t); cause != errSessionEnded.Error() {
		t.Errorf("cancelled because %q; want %q", cause, errSessionEnded)
	}
	if n := r.srv.stats.completed.Load(); n != 0 {
		t.Errorf("the call completed %d times after its stream ended", n)
	}
}
