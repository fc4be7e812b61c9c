package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// A user who configured the server's bare origin (the troubleshooting guides' "Server URL: https://auth.meshai.dev")
// gets a working sign-in: the bridge finds /v1/mcp, and the sign-in asks for that endpoint's resource, which the
// server's metadata names, instead of refusing it as another server's.
func TestBareOriginSignsInAtTheFoundEndpoint(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, stderr := mcpClient(t, signInEnv(t.TempDir()), []string{"--browser-command", fetchBin, srv.URL},
		client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call through the bare origin: %v %+v\n%s", err, r, stderr.String())
	}
	if n := srv.Stats().Authorizations; n != 1 {
		t.Fatalf("%d authorizations, want 1", n)
	}
	if !strings.Contains(stderr.String(), "/v1/mcp; using it") {
		t.Errorf("the bridge did not log where it found the endpoint:\n%s", stderr.String())
	}
}
