package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// listAgents returns the registry, filtered by capabilities (all must match) and framework.
func (s *Server) listAgents(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args struct {
		Capabilities []string `json:"capabilities"`
		Framework    string   `json:"framework"`
	}
	if err := req.BindArguments(&args); err != nil {
		return mcp.NewToolResultErrorf("list_agents: invalid arguments: %v", err), nil
	}
	found := filterAgents(args.Capabilities, args.Framework)
	return jsonResult(map[string]any{"agents": found, "count": len(found)})
}

// search finds agents and docs matching the query words.
func (s *Server) search(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	query, err := req.RequireString("query")
	if err != nil {
		return mcp.NewToolResultErrorf("search: %v", err), nil
	}
	return jsonResult(map[string]any{"results": searchAll(query)})
}

// fetch returns the full text of an agent or doc by id.
func (s *Server) fetch(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	id, err := req.RequireString("id")
	if err != nil {
		return mcp.NewToolResultErrorf("fetch: %v", err), nil
	}
	d, ok := fetchDocument(id)
	if !ok {
		return mcp.NewToolResultErrorf("fetch: no agent or document with id %q", id), nil
	}
	return jsonResult(d)
}

// getArtifact returns one text content of exactly size_bytes bytes.
func (s *Server) getArtifact(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args struct {
		Size *int `json:"size_bytes"`
	}
	if err := req.BindArguments(&args); err != nil {
		return mcp.NewToolResultErrorf("get_artifact: invalid arguments: %v", err), nil
	}
	if args.Size == nil || *args.Size < 0 || *args.Size > maxArtifactSize {
		return mcp.NewToolResultErrorf("get_artifact: size_bytes must be between 0 and %d", maxArtifactSize), nil
	}
	if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
		// Progress asked for: one notification first, which makes the answer an SSE stream (large SSE events).
		s.progress(ctx, req.Params.Meta.ProgressToken, 0, 1, "preparing the artifact")
	}
	return mcp.NewToolResultText(artifactText(*args.Size)), nil
}

// artifactText is deterministic printable ASCII of exactly n bytes: numbered lines, cut at n.
func artifactText(n int) string {
	var b strings.Builder
	b.Grow(n + 80)
	for line := 1; b.Len() < n; line++ {
		fmt.Fprintf(&b, "meshai artifact line %08d: agents collaborated on this chunk of output.\n", line)
	}
	return b.String()[:n]
}

// jsonResult returns v as structured content and as its JSON text.
func jsonResult(v any) (*mcp.CallToolResult, error) {
	text, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return mcp.NewToolResultStructured(v, string(text)), nil
}
