package devserver

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

func TestListTools(t *testing.T) {
	c := connect(t, start(t, 0))
	res, err := c.ListTools(testCtx(t), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" {
			t.Errorf("%s has no description", tool.Name)
		}
		for prop, schema := range tool.InputSchema.Properties {
			if d, _ := schema.(map[string]any)["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", tool.Name, prop)
			}
		}
	}
	sort.Strings(names)
	want := []string{"approve_workflow", "fetch", "get_artifact", "list_agents", "mesh_execute", "search", "submit_workflow"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
}

func TestToolCalls(t *testing.T) {
	c := connect(t, start(t, time.Millisecond))
	tests := []struct {
		name  string
		tool  string
		args  map[string]any
		check func(t *testing.T, res *mcp.CallToolResult)
	}{
		{"mesh_execute by capability", "mesh_execute", map[string]any{
			"task": "review the payment service PR", "capabilities": []string{"code-review"}, "steps": 3,
			"context": map[string]any{"repo": "payments"}, "workflow": "parallel"},
			func(t *testing.T, res *mcp.CallToolResult) {
				var got struct {
					Task   string   `json:"task"`
					Agents []string `json:"agents"`
					Steps  int      `json:"steps"`
					Status string   `json:"status"`
				}
				structured(t, res, &got)
				if got.Task != "review the payment service PR" || got.Steps != 3 || got.Status != "completed" ||
					!slices.Equal(got.Agents, []string{"code-reviewer", "qa-engineer"}) {
					t.Errorf("structured %+v", got)
				}
				if s := text(t, res); !strings.Contains(s, "Code Reviewer (autogen)") || !strings.Contains(s, "parallel") {
					t.Errorf("text %q", s)
				}
			}},
		{"mesh_execute default team", "mesh_execute", map[string]any{"task": "write a launch post", "steps": 1},
			func(t *testing.T, res *mcp.CallToolResult) {
				var got struct{ Agents []string }
				structured(t, res, &got)
				if !slices.Equal(got.Agents, defaultTeam) {
					t.Errorf("agents %v", got.Agents)
				}
			}},
		{"mesh_execute unknown agent", "mesh_execute", map[string]any{"task": "x", "agents": []string{"nobody"}},
			wantToolError("unknown agent")},
		{"mesh_execute steps out of range", "mesh_execute", map[string]any{"task": "x", "steps": 1001},
			wantToolError("")},
		{"mesh_execute missing task", "mesh_execute", map[string]any{"steps": 1}, wantToolError("")},
		{"search", "search", map[string]any{"query": "code review"}, func(t *testing.T, res *mcp.CallToolResult) {
			var got struct {
				Results []struct{ ID, Title, URL string }
			}
			structured(t, res, &got)
			if len(got.Results) == 0 || got.Results[0].ID != "code-reviewer" || got.Results[0].URL != "meshai://agents/code-reviewer" {
				t.Errorf("results %+v", got.Results)
			}
			if !json.Valid([]byte(text(t, res))) {
				t.Errorf("text is not JSON")
			}
		}},
		{"search no hits", "search", map[string]any{"query": "zzzz"}, func(t *testing.T, res *mcp.CallToolResult) {
			if s := text(t, res); s != `{"results":[]}` {
				t.Errorf("text %s", s)
			}
		}},
		{"fetch doc", "fetch", map[string]any{"id": "doc-workflows"}, func(t *testing.T, res *mcp.CallToolResult) {
			var got document
			structured(t, res, &got)
			if got.ID != "doc-workflows" || got.Title == "" || !strings.Contains(got.Text, "hierarchical") || got.URL != "meshai://docs/workflows" {
				t.Errorf("fetched %+v", got)
			}
		}},
		{"fetch agent", "fetch", map[string]any{"id": "knowledge-retriever"}, func(t *testing.T, res *mcp.CallToolResult) {
			var got document
			structured(t, res, &got)
			if got.Title != "Knowledge Retriever" || !strings.Contains(got.Text, "llamaindex") {
				t.Errorf("fetched %+v", got)
			}
		}},
		{"fetch unknown", "fetch", map[string]any{"id": "nope"}, wantToolError("no agent or document")},
		{"get_artifact", "get_artifact", map[string]any{"size_bytes": 1000}, func(t *testing.T, res *mcp.CallToolResult) {
			if s := text(t, res); len(s) != 1000 || !strings.HasPrefix(s, "meshai artifact line 00000001") {
				t.Errorf("artifact of %d bytes: %.40q", len(s), s)
			}
		}},
		{"get_artifact too big", "get_artifact", map[string]any{"size_bytes": maxArtifactSize + 1}, wantToolError("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, callTool(t, c, tc.tool, tc.args))
		})
	}
}

// wantToolError checks for an isError result whose text contains substr.
func wantToolError(substr string) func(t *testing.T, res *mcp.CallToolResult) {
	return func(t *testing.T, res *mcp.CallToolResult) {
		t.Helper()
		if !res.IsError {
			t.Fatalf("want isError, got %+v", res)
		}
		if s := text(t, res); !strings.Contains(s, substr) {
			t.Errorf("error text %q does not contain %q", s, substr)
		}
	}
}

func TestListAgentsFilters(t *testing.T) {
	c := connect(t, start(t, 0))
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"all", map[string]any{}, []string{"research-analyst", "code-reviewer", "knowledge-retriever", "content-writer",
			"qa-engineer", "workflow-planner", "support-triage", "financial-analyst"}},
		{"framework", map[string]any{"framework": "crewai"}, []string{"content-writer", "qa-engineer"}},
		{"framework spelled out", map[string]any{"framework": "Semantic Kernel"}, []string{"workflow-planner"}},
		{"capability", map[string]any{"capabilities": []string{"summarization"}}, []string{"research-analyst", "content-writer"}},
		{"all capabilities", map[string]any{"capabilities": []string{"code-review", "python"}}, []string{"code-reviewer"}},
		{"both", map[string]any{"capabilities": []string{"code-review"}, "framework": "autogen"}, []string{"code-reviewer"}},
		{"none", map[string]any{"framework": "haystack"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := callTool(t, c, "list_agents", tc.args)
			var got struct {
				Agents []Agent `json:"agents"`
				Count  int     `json:"count"`
			}
			structured(t, res, &got)
			ids := []string{}
			for _, a := range got.Agents {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, tc.want) || got.Count != len(tc.want) {
				t.Errorf("agents %v (count %d), want %v", ids, got.Count, tc.want)
			}
			var fromText struct{ Agents []Agent }
			if err := json.Unmarshal([]byte(text(t, res)), &fromText); err != nil || len(fromText.Agents) != len(tc.want) {
				t.Errorf("text does not carry the same JSON: %v", err)
			}
		})
	}
}

func TestSubmitWorkflowIDsIncrease(t *testing.T) {
	c := connect(t, start(t, 0))
	for i, want := range []string{"wf-0001", "wf-0002", "wf-0003"} {
		res := callTool(t, c, "submit_workflow", map[string]any{
			"workflow_type": "sequential", "payload": map[string]any{"goal": "ship", "n": i},
			"agents": []string{"workflow-planner", "content-writer"},
		})
		var got workflow
		structured(t, res, &got)
		if got.ID != want || got.Status != "queued" || got.Type != "sequential" || len(got.Agents) != 2 {
			t.Errorf("workflow %+v, want id %s queued", got, want)
		}
		if !strings.Contains(text(t, res), want) {
			t.Errorf("text %q lacks %s", text(t, res), want)
		}
	}
	if res := callTool(t, c, "submit_workflow", map[string]any{"workflow_type": "parallel"}); !res.IsError {
		t.Errorf("missing payload accepted: %+v", res)
	}
}

func TestGetArtifactOneMiB(t *testing.T) {
	c := connect(t, start(t, 0))
	const size = 1 << 20
	s := text(t, callTool(t, c, "get_artifact", map[string]any{"size_bytes": size}))
	if len(s) != size {
		t.Fatalf("got %d bytes, want %d", len(s), size)
	}
	if s != artifactText(size) {
		t.Error("artifact is not deterministic")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\n' && (c < 0x20 || c > 0x7e) {
			t.Fatalf("byte %d is not printable: %q", i, c)
		}
	}
}

// The stateless 2026-07-28 core is served on /v1/mcp too: no session, and tools still work.
func TestStatelessEra(t *testing.T) {
	r := start(t, time.Millisecond)
	tr, err := transport.NewStreamableHTTP(r.URL+"/v1/mcp", transport.WithHTTPHeaders(authHeaders()))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	ctx := testCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Initialize(ctx, mcp.InitializeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProtocolVersion != mcp.ProtocolVersion20260728 {
		t.Fatalf("negotiated %q, want 2026-07-28", res.ProtocolVersion)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_agents"
	out, err := c.CallTool(ctx, req)
	if err != nil || out.IsError {
		t.Fatalf("list_agents in the stateless era: %v %+v", err, out)
	}
	if r.Stats().Sessions != 0 {
		t.Errorf("the stateless era opened %d sessions", r.Stats().Sessions)
	}
}
