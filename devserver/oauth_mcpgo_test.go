package devserver

import (
	"net/url"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// TestOAuthWithMCPGoClient runs mcp-go's own OAuth client (discovery from the 401, DCR, PKCE, resource) against
// the server, then calls a tool that needs mcp:manage.
func TestOAuthWithMCPGoClient(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, err := client.NewOAuthStreamableHttpClient(r.URL+mcpPath, client.OAuthConfig{
		RedirectURI: "http://127.0.0.1:1/callback",
		Scopes:      []string{scopeRead, scopeExecute, scopeManage},
		TokenStore:  client.NewMemoryTokenStore(),
		PKCEEnabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := testCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "mcp-go-oauth", Version: "1"}
	_, err = c.Initialize(ctx, init)
	if !client.IsOAuthAuthorizationRequiredError(err) {
		t.Fatalf("Initialize without a token: %v, want an OAuth authorization error", err)
	}
	h := client.GetOAuthHandler(err)
	if err := h.RegisterClient(ctx, "mcp-go test"); err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	verifier, err := client.GenerateCodeVerifier()
	if err != nil {
		t.Fatal(err)
	}
	state, err := client.GenerateState()
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := h.GetAuthorizationURL(ctx, state, client.GenerateCodeChallenge(verifier))
	if err != nil {
		t.Fatalf("GetAuthorizationURL: %v", err)
	}
	if u, _ := url.Parse(authURL); u.Query().Get("resource") != r.URL+mcpPath {
		t.Errorf("authorization URL %s lacks the resource", authURL)
	}
	q := follow(t, authURL)
	if q.Get("state") != state {
		t.Fatalf("state %q, want %q", q.Get("state"), state)
	}
	if err := h.ProcessAuthorizationResponse(ctx, q.Get("code"), state, verifier); err != nil {
		t.Fatalf("ProcessAuthorizationResponse: %v", err)
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("Initialize with a token: %v", err)
	}
	res := callTool(t, c, "submit_workflow", map[string]any{"workflow_type": "sequential", "payload": map[string]any{"goal": "g"}})
	if res.IsError {
		t.Fatalf("submit_workflow: %+v", res)
	}
}
