package devserver

import (
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Limits of the tool arguments.
const (
	maxSteps        = 1000
	maxArtifactSize = 64 << 20
)

// addTools registers the MeshAI tools.
func (s *Server) addTools() {
	s.mcp.AddTools(
		server.ServerTool{Tool: meshExecuteTool(), Handler: s.meshExecute},
		server.ServerTool{Tool: listAgentsTool(), Handler: s.listAgents},
		server.ServerTool{Tool: submitWorkflowTool(), Handler: s.submitWorkflow},
		server.ServerTool{Tool: approveWorkflowTool(), Handler: s.approveWorkflow},
		server.ServerTool{Tool: searchTool(), Handler: s.search},
		server.ServerTool{Tool: fetchTool(), Handler: s.fetch},
		server.ServerTool{Tool: getArtifactTool(), Handler: s.getArtifact},
	)
}

// meshExecuteTool describes mesh_execute.
func meshExecuteTool() mcp.Tool {
	return mcp.NewTool("mesh_execute",
		mcp.WithDescription("Run a task across MeshAI agents. MeshAI routes the task to agents by id or by "+
			"capability, whatever framework they are built with (LangChain, CrewAI, AutoGen, LlamaIndex, "+
			"Semantic Kernel), runs it step by step and reports progress after every step."),
		mcp.WithTitleAnnotation("Execute task across agents"),
		mcp.WithString("task", mcp.Required(), mcp.MinLength(1),
			mcp.Description("What the agents should accomplish, in natural language.")),
		mcp.WithArray("capabilities", mcp.WithStringItems(),
			mcp.Description("Route to every agent offering one of these capabilities, e.g. research, code-review.")),
		mcp.WithArray("agents", mcp.WithStringItems(),
			mcp.Description("Agent ids to run, as listed by list_agents; takes precedence over capabilities.")),
		mcp.WithString("workflow",
			mcp.Description("How agents cooperate: sequential (default), parallel or hierarchical.")),
		mcp.WithObject("context",
			mcp.Description("Extra context passed to every agent, e.g. documents, constraints or prior results.")),
		mcp.WithInteger("steps", mcp.DefaultNumber(5), mcp.Min(1), mcp.Max(maxSteps),
			mcp.Description("Number of orchestration steps to run (1-1000, default 5).")),
	)
}

// listAgentsTool describes list_agents.
func listAgentsTool() mcp.Tool {
	return mcp.NewTool("list_agents",
		mcp.WithDescription("List the agents registered with MeshAI, with their framework and capabilities. "+
			"Filter by capability (agents must offer all listed) and by framework."),
		mcp.WithTitleAnnotation("List agents"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithArray("capabilities", mcp.WithStringItems(),
			mcp.Description("Only agents offering every one of these capabilities.")),
		mcp.WithString("framework",
			mcp.Description("Only agents built with this framework: langchain, crewai, autogen, llamaindex or semantic-kernel.")),
	)
}

// submitWorkflowTool describes submit_workflow.
func submitWorkflowTool() mcp.Tool {
	return mcp.NewTool("submit_workflow",
		mcp.WithDescription("Queue a multi-agent workflow for execution and return its workflow id."),
		mcp.WithTitleAnnotation("Submit workflow"),
		mcp.WithString("workflow_type", mcp.Required(), mcp.MinLength(1),
			mcp.Description("How the agents cooperate, e.g. sequential, parallel or hierarchical."),
			// Mirrored into the Mcp-Param-Workflow-Type header by 2026-07-28 clients, so gateways can route on it.
			func(p map[string]any) { p["x-mcp-header"] = "Workflow-Type" }),
		mcp.WithObject("payload", mcp.Required(),
			mcp.Description("Workflow definition: the goal, inputs and any per-step instructions.")),
		mcp.WithArray("agents", mcp.WithStringItems(),
			mcp.Description("Agent ids taking part; MeshAI chooses when omitted.")),
	)
}

// approveWorkflowTool describes approve_workflow.
func approveWorkflowTool() mcp.Tool {
	return mcp.NewTool("approve_workflow",
		mcp.WithDescription("Ask the user to approve a workflow before MeshAI runs it. The client shows an "+
			"approval form (elicitation); the result says whether the user accepted, declined or cancelled."),
		mcp.WithTitleAnnotation("Approve workflow"),
		mcp.WithString("workflow", mcp.Required(), mcp.MinLength(1),
			mcp.Description("Workflow id from submit_workflow, or a workflow name.")),
	)
}

// searchTool describes search.
func searchTool() mcp.Tool {
	return mcp.NewTool("search",
		mcp.WithDescription("Search MeshAI agents and documentation. Returns results with id, title and url; "+
			"pass an id to fetch for the full text."),
		mcp.WithTitleAnnotation("Search MeshAI"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithString("query", mcp.Required(), mcp.Description("Search words, e.g. \"code review autogen\".")),
	)
}

// fetchTool describes fetch.
func fetchTool() mcp.Tool {
	return mcp.NewTool("fetch",
		mcp.WithDescription("Fetch the full text of an agent or documentation page found by search."),
		mcp.WithTitleAnnotation("Fetch document"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithString("id", mcp.Required(), mcp.MinLength(1), mcp.Description("An id returned by search.")),
	)
}

// getArtifactTool describes get_artifact.
func getArtifactTool() mcp.Tool {
	return mcp.NewTool("get_artifact",
		mcp.WithDescription("Download a workflow artifact of the given size as text (deterministic content, "+
			"for exercising large results). With a progressToken it reports progress once first, so the result comes "+
			"as an SSE event."),
		mcp.WithTitleAnnotation("Get artifact"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithInteger("size_bytes", mcp.Required(), mcp.Min(0), mcp.Max(maxArtifactSize),
			mcp.Description("Exact size of the artifact text in bytes, up to 64 MiB.")),
	)
}
