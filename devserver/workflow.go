package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// workflow is a submitted workflow.
type workflow struct {
	ID     string         `json:"workflow_id"`
	Type   string         `json:"workflow_type"`
	Agents []string       `json:"agents"`
	Status string         `json:"status"`
	Input  map[string]any `json:"-"`
}

// submitWorkflow queues a workflow under the next id wf-0001, wf-0002, ...
func (s *Server) submitWorkflow(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args struct {
		Type    string         `json:"workflow_type"`
		Payload map[string]any `json:"payload"`
		Agents  []string       `json:"agents"`
	}
	if err := req.BindArguments(&args); err != nil {
		return mcp.NewToolResultErrorf("submit_workflow: invalid arguments: %v", err), nil
	}
	if strings.TrimSpace(args.Type) == "" || args.Payload == nil {
		return mcp.NewToolResultError("submit_workflow: workflow_type and payload are required"), nil
	}
	for _, id := range args.Agents {
		if _, ok := findAgent(id); !ok {
			return mcp.NewToolResultErrorf("submit_workflow: unknown agent %q (see list_agents)", id), nil
		}
	}
	if args.Agents == nil {
		args.Agents = []string{}
	}
	wf := workflow{
		ID:     fmt.Sprintf("wf-%04d", s.wfSeq.Add(1)),
		Type:   args.Type,
		Agents: args.Agents,
		Status: "queued",
		Input:  args.Payload,
	}
	s.wfs.Store(wf.ID, wf)
	text := fmt.Sprintf("Workflow %s (%s) queued", wf.ID, wf.Type)
	if len(wf.Agents) > 0 {
		text += " for agents " + strings.Join(wf.Agents, ", ")
	}
	return mcp.NewToolResultStructured(wf, text+"."), nil
}

// canElicit reports whether the client of ctx declared the elicitation capability at initialize.
func canElicit(ctx context.Context) bool {
	sess, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo)
	return ok && sess.GetClientCapabilities().Elicitation != nil
}

// approvalSchema is the form approve_workflow asks the user to fill in.
var approvalSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"approve": map[string]any{"type": "boolean", "title": "Approve", "description": "Run the workflow now?"},
		"note":    map[string]any{"type": "string", "title": "Note", "description": "Optional note for the audit log."},
	},
	"required": []string{"approve"},
}

// approveWorkflow asks the user, through elicitation, to approve a workflow, and reports the answer.
func (s *Server) approveWorkflow(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := req.RequireString("workflow")
	if err != nil {
		return mcp.NewToolResultErrorf("approve_workflow: %v", err), nil
	}
	if !canElicit(ctx) {
		return mcp.NewToolResultErrorf("approve_workflow: the client did not declare the elicitation capability, "+
			"so workflow %s cannot be approved interactively", id), nil
	}
	question := fmt.Sprintf("Approve MeshAI workflow %s?", id)
	if v, ok := s.wfs.Load(id); ok {
		wf := v.(workflow)
		question = fmt.Sprintf("Approve MeshAI workflow %s (%s, %d agents) to run now?", wf.ID, wf.Type, len(wf.Agents))
	}
	res, err := s.mcp.RequestElicitation(ctx, mcp.ElicitationRequest{
		Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)},
		Params:  mcp.ElicitationParams{Message: question, RequestedSchema: approvalSchema},
	})
	if err != nil {
		return mcp.NewToolResultErrorf("approve_workflow: could not ask the user: %v", err), nil
	}
	content, _ := json.Marshal(res.Content)
	var text string
	switch res.Action {
	case mcp.ElicitationResponseActionAccept:
		text = fmt.Sprintf("User accepted the approval form for workflow %s with %s.", id, content)
	case mcp.ElicitationResponseActionDecline:
		text = fmt.Sprintf("User declined to approve workflow %s.", id)
	default:
		text = fmt.Sprintf("User cancelled the approval request for workflow %s (action %q).", id, res.Action)
	}
	return mcp.NewToolResultStructured(map[string]any{
		"workflow": id, "action": string(res.Action), "content": res.Content,
	}, text), nil
}
