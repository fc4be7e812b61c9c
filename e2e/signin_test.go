package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// startOAuthServer runs the reference server as an OAuth-protected MeshAI: no API key, its own authorization
// server, auto-approving the browser step.
func startOAuthServer(t *testing.T, ttl time.Duration) *devserver.Running {
	t.Helper()
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, AccessTokenTTL: ttl, Step: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// signInEnv is a bridge environment without an API key, with a file token store in dir.
func signInEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MESHAI_") && !strings.HasPrefix(kv, "BROWSER=") {
			env = append(env, kv)
		}
	}
	return append(env, "MESHAI_CONFIG_DIR="+dir, "MESHAI_TOKEN_STORE=file")
}

// useBridge starts a bridge, initializes and lists tools; it returns the client and its stderr. The client's
// initialize waits for the sign-in however long it takes (--sign-in-wait), so the tools are the server's: on a busy
// machine a sign-in outlasting the default 5 s once left the test calling a tool before it was signed in.
func useBridge(t *testing.T, ctx context.Context, srv *devserver.Running, dir string) (*client.Client, *syncBuffer) {
	t.Helper()
	c, stderr := mcpClient(t, signInEnv(dir), []string{"--browser-command", fetchBin, "--sign-in-wait", hangGuard.String(), srv.URL + "/v1/mcp"},
		client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("tools/list: %v\n%s", err, stderr.String())
	}
	return c, stderr
}

func TestSignInOnceThenNeverAgain(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := useBridge(t, ctx, srv, dir)
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after sign-in: %v %+v", err, r)
	}
	if n := srv.Stats().Authorizations; n != 1 {
		t.Fatalf("%d authorizations, want 1", n)
	}
	if !strings.Contains(stderr.String(), "/oauth/authorize?") {
		t.Error("the sign-in URL must be printed to stderr")
	}
	c.Close()
	// A second bridge on the same machine uses the stored tokens: no browser.
	useBridge(t, ctx, srv, dir)
	if n := srv.Stats().Authorizations; n != 1 {
		t.Fatalf("the second bridge signed in again (%d authorizations)", n)
	}
}

func TestFiveBridgesOneBrowser(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { useBridge(t, ctx, srv, dir) })
	}
	wg.Wait()
	if n := srv.Stats().Authorizations; n != 1 {
		t.Fatalf("5 bridges started together made %d authorization requests, want 1", n)
	}
}

func TestTwentyBridgesOneRefresh(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	first, _ := useBridge(t, ctx, srv, dir)
	first.Close()
	expireStoredTokens(t, dir) // as if the bridges started an hour later
	before := srv.Stats().Refreshes
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { useBridge(t, ctx, srv, dir) })
	}
	wg.Wait()
	st := srv.Stats()
	if st.Refreshes-before != 1 || st.RefreshReuses != 0 || st.Authorizations != 1 {
		t.Fatalf("20 bridges with an expired token: %d refreshes, %d reused refresh tokens, %d authorizations; want 1, 0, 1",
			st.Refreshes-before, st.RefreshReuses, st.Authorizations)
	}
}

// expireStoredTokens moves the expiry of the file store's tokens into the past.
func expireStoredTokens(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.tokens.json"))
	if len(files) != 1 {
		t.Fatalf("want one tokens file, got %v", files)
	}
	var tok map[string]any
	b, err := os.ReadFile(files[0])
	if err != nil || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("read %s: %v", files[0], err)
	}
	tok["expiry"] = time.Now().Add(-time.Minute).Format(time.RFC3339Nano)
	b, _ = json.Marshal(tok)
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// storedSecrets returns every token and client secret in the file store.
func storedSecrets(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.json"))
	var out []string
	for _, f := range files {
		var m map[string]any
		b, _ := os.ReadFile(f)
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		for _, k := range []string{"access_token", "refresh_token", "client_secret"} {
			if v, _ := m[k].(string); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// A call that needs more scope gets a 403 insufficient_scope; the bridge signs in again with the union of the
// scopes and retries, and the client sees only the result.
func TestStepUpScope(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := useBridge(t, ctx, srv, dir)
	r, err := callTool(ctx, c, "submit_workflow", map[string]any{"workflow_type": "parallel", "payload": map[string]any{"goal": "x"}}, nil)
	if err != nil || r.IsError {
		t.Fatalf("submit_workflow after step-up: %v %+v\n%s", err, r, stderr.String())
	}
	if n := srv.Stats().Authorizations; n != 2 {
		t.Fatalf("%d authorizations, want 2 (sign-in, then step-up)", n)
	}
}

// No token, refresh token or client secret appears on stderr or in the log file.
func TestNoSecretInLogs(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := mcpClient(t, signInEnv(dir), []string{"--debug", "--browser-command", fetchBin, "--sign-in-wait", hangGuard.String(), srv.URL + "/v1/mcp"},
		client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	callTool(ctx, c, "list_agents", nil, nil)
	callTool(ctx, c, "submit_workflow", map[string]any{"workflow_type": "parallel", "payload": map[string]any{}}, nil)
	c.Close()
	secrets := storedSecrets(t, dir)
	if len(secrets) < 2 {
		t.Fatalf("expected stored tokens to look for, got %d", len(secrets))
	}
	logFile, _ := os.ReadFile(filepath.Join(dir, "meshai-mcp-server.log"))
	for _, sec := range secrets {
		if strings.Contains(stderr.String(), sec) || strings.Contains(string(logFile), sec) {
			t.Errorf("a secret (%d chars) appears in the bridge's output", len(sec))
		}
	}
	// What the log does hold: each call with its id, upstream status and time; with --debug, the HTTP exchange
	// with header names (values of possible secrets hidden) and each message's direction and method.
	for _, want := range []string{"msg=answered method=tools/call id=", "status=200", "Authorization: [redacted]",
		`msg="client →" kind=request method=tools/call`, `msg="server →" kind=response`} {
		if !strings.Contains(string(logFile), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// An idle bridge refreshes ahead of expiry on its own: with no call made, the server sees two refreshes of its
// 3 s tokens (the timer, not a request, made them), then a call succeeds at once and nothing needed a new sign-in.
// The wait is on the server's count; its deadline only guards against a refresh loop that never runs.
func TestIdleBridgeRefreshesAheadOfExpiry(t *testing.T) {
	srv := startOAuthServer(t, 3*time.Second)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := useBridge(t, ctx, srv, dir)
	waitFor(t, ctx, "two refreshes of the idle bridge's 3 s tokens, ahead of expiry", func() bool { return srv.Stats().Refreshes >= 2 })
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after idling: %v %+v", err, r)
	}
	if strings.Contains(stderr.String(), "background refresh failed") || srv.Stats().Authorizations != 1 {
		t.Errorf("refresh should never fail or need a new sign-in here:\n%s", stderr.String())
	}
}

// login, status and logout from a terminal; logout revokes the grant at the server (RFC 7009).
func TestLoginStatusLogout(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	url := srv.URL + "/v1/mcp"
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bridgeBin, args...)
		cmd.Env = signInEnv(dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("status", url); !strings.Contains(out, "Not signed in") {
		t.Fatalf("status before login: %s", out)
	}
	if out := run("login", "--browser-command", fetchBin, url); !strings.Contains(out, "Signed in to") {
		t.Fatalf("login: %s", out)
	}
	out := run("status", url)
	for _, want := range []string{"Signed in to", "account               Demo <demo@example.com>", "authorization server  " + srv.URL, "mcp:read", "refreshed automatically", "token store           file"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// Keep the refresh token and client to try them after logout.
	var refresh, clientID string
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.json"))
	for _, f := range files {
		var m map[string]any
		b, _ := os.ReadFile(f)
		json.Unmarshal(b, &m)
		if v, _ := m["refresh_token"].(string); v != "" {
			refresh = v
		}
		if v, _ := m["client_id"].(string); v != "" {
			clientID = v
		}
	}
	if out := run("logout", url); !strings.Contains(out, "Signed out") {
		t.Fatalf("logout: %s", out)
	}
	if out := run("status", url); !strings.Contains(out, "Not signed in") {
		t.Fatalf("status after logout: %s", out)
	}
	tc := &oauth.TokenClient{TokenURL: srv.URL + "/oauth/token", ClientID: clientID, Resource: url}
	if _, err := tc.Refresh(context.Background(), refresh); !oauth.IsInvalidGrant(err) {
		t.Fatalf("the refresh token must be revoked after logout, got %v", err)
	}
}
