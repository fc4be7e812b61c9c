package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// addResources registers the agent template and the quickstart page.
func (s *Server) addResources() {
	s.mcp.AddResourceTemplate(
		mcp.NewResourceTemplate("meshai://agents/{agent_id}", "agent",
			mcp.WithTemplateTitle("MeshAI agent"),
			mcp.WithTemplateDescription("An agent of the MeshAI registry: framework, capabilities and description."),
			mcp.WithTemplateMIMEType("application/json")),
		readAgent)
	s.mcp.AddResource(
		mcp.NewResource("meshai://docs/quickstart", "quickstart",
			mcp.WithResourceDescription("Getting started with MeshAI multi-agent orchestration."),
			mcp.WithMIMEType("text/markdown")),
		func(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return []mcp.ResourceContents{mcp.TextResourceContents{
				URI: req.Params.URI, MIMEType: "text/markdown", Text: quickstartMarkdown,
			}}, nil
		})
}

// readAgent serves meshai://agents/{agent_id} as JSON.
func readAgent(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	id, ok := strings.CutPrefix(req.Params.URI, "meshai://agents/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return nil, fmt.Errorf("read %s: not an agent URI: %w", req.Params.URI, server.ErrResourceNotFound)
	}
	a, ok := findAgent(id)
	if !ok {
		return nil, fmt.Errorf("read %s: unknown agent %q: %w", req.Params.URI, id, server.ErrResourceNotFound)
	}
	body, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("read %s: encode agent: %w", req.Params.URI, err)
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{
		URI: req.Params.URI, MIMEType: "application/json", Text: string(body),
	}}, nil
}

// addPrompts registers plan_workflow.
func (s *Server) addPrompts() {
	s.mcp.AddPrompt(
		mcp.NewPrompt("plan_workflow",
			mcp.WithPromptDescription("Plan a multi-agent MeshAI workflow for a goal."),
			mcp.WithArgument("goal", mcp.RequiredArgument(), mcp.ArgumentDescription("What the workflow should achieve.")),
			mcp.WithArgument("framework", mcp.ArgumentDescription("Preferred agent framework, e.g. crewai or langchain."))),
		planWorkflow)
}

// planWorkflow renders the plan_workflow prompt as one user message.
func planWorkflow(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	goal := strings.TrimSpace(req.Params.Arguments["goal"])
	if goal == "" {
		return nil, fmt.Errorf("plan_workflow: argument goal is required")
	}
	text := "Plan a MeshAI workflow to achieve this goal: " + goal + "\n\n" +
		"1. Call list_agents and pick agents whose capabilities cover each part of the goal.\n" +
		"2. Choose a workflow type: sequential, parallel or hierarchical, and say why.\n" +
		"3. Submit it with submit_workflow and ask for approval with approve_workflow.\n"
	if fw := strings.TrimSpace(req.Params.Arguments["framework"]); fw != "" {
		text += "Prefer agents built with " + fw + " where they fit.\n"
	}
	return mcp.NewGetPromptResult("Plan a MeshAI workflow",
		[]mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
}
