package devserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func TestResources(t *testing.T) {
	c := connect(t, start(t, 0))
	ctx := testCtx(t)

	list, err := c.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Resources) != 1 || list.Resources[0].URI != "meshai://docs/quickstart" || list.Resources[0].MIMEType != "text/markdown" {
		t.Errorf("resources %+v", list.Resources)
	}
	templates, err := c.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(templates.ResourceTemplates) != 1 || templates.ResourceTemplates[0].URITemplate.Raw() != "meshai://agents/{agent_id}" {
		t.Errorf("templates %+v", templates.ResourceTemplates)
	}

	tests := []struct {
		uri, mime, contains string
	}{
		{"meshai://docs/quickstart", "text/markdown", "# MeshAI quickstart"},
		{"meshai://agents/financial-analyst", "application/json", `"framework": "autogen"`},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			req := mcp.ReadResourceRequest{}
			req.Params.URI = tc.uri
			res, err := c.ReadResource(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Contents) != 1 {
				t.Fatalf("contents %+v", res.Contents)
			}
			tc2, ok := mcp.AsTextResourceContents(res.Contents[0])
			if !ok || tc2.URI != tc.uri || tc2.MIMEType != tc.mime || !strings.Contains(tc2.Text, tc.contains) {
				t.Fatalf("contents %+v", res.Contents[0])
			}
			if tc.mime == "application/json" {
				var a Agent
				if err := json.Unmarshal([]byte(tc2.Text), &a); err != nil || a.ID != "financial-analyst" {
					t.Errorf("agent %+v, %v", a, err)
				}
			}
		})
	}

	t.Run("unknown agent", func(t *testing.T) {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = "meshai://agents/nobody"
		_, err := c.ReadResource(ctx, req)
		if err == nil || !strings.Contains(err.Error(), `unknown agent "nobody"`) {
			t.Fatalf("error %v, want unknown agent", err)
		}
	})
	t.Run("unknown resource", func(t *testing.T) {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = "meshai://docs/nothing"
		if _, err := c.ReadResource(ctx, req); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestPrompt(t *testing.T) {
	c := connect(t, start(t, 0))
	ctx := testCtx(t)
	list, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Prompts) != 1 || list.Prompts[0].Name != "plan_workflow" || len(list.Prompts[0].Arguments) != 2 ||
		!list.Prompts[0].Arguments[0].Required {
		t.Fatalf("prompts %+v", list.Prompts)
	}
	tests := []struct {
		name string
		args map[string]string
		want []string
	}{
		{"goal only", map[string]string{"goal": "triage support tickets"}, []string{"triage support tickets", "submit_workflow"}},
		{"with framework", map[string]string{"goal": "forecast Q3", "framework": "crewai"}, []string{"forecast Q3", "Prefer agents built with crewai"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mcp.GetPromptRequest{}
			req.Params.Name = "plan_workflow"
			req.Params.Arguments = tc.args
			res, err := c.GetPrompt(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) != 1 || res.Messages[0].Role != mcp.RoleUser {
				t.Fatalf("messages %+v", res.Messages)
			}
			txt, ok := mcp.AsTextContent(res.Messages[0].Content)
			if !ok {
				t.Fatalf("content %T", res.Messages[0].Content)
			}
			for _, w := range tc.want {
				if !strings.Contains(txt.Text, w) {
					t.Errorf("prompt %q lacks %q", txt.Text, w)
				}
			}
		})
	}
	t.Run("missing goal", func(t *testing.T) {
		req := mcp.GetPromptRequest{}
		req.Params.Name = "plan_workflow"
		if _, err := c.GetPrompt(ctx, req); err == nil {
			t.Fatal("want an error")
		}
	})
}
