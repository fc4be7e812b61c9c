package e2e

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

var linkRE = regexp.MustCompile(`https?://\S+/oauth/authorize\?\S+`)

// follow plays the user's browser: it opens the sign-in link, which the auto-approving server redirects to the
// bridge's loopback callback.
func follow(t *testing.T, link string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatalf("open the sign-in link: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in link: HTTP %d", resp.StatusCode)
	}
}

// A first sign-in slower than the client's patience never fails the handshake: a real desktop-like client
// (mcp-go over stdio) initializes at once, finds the sign-in tool with the link, and once the user has signed in
// gets notifications/tools/list_changed and the server's real tools, with no restart.
func TestSignInPendingDoesNotFailTheHandshake(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := mcpClient(t, signInEnv(dir), []string{"--no-browser", "--sign-in-wait", "300ms", srv.URL + "/v1/mcp"})
	changed := make(chan struct{}, 4)
	logged := make(chan string, 16)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		switch n.Method {
		case "notifications/tools/list_changed":
			changed <- struct{}{}
		case "notifications/message":
			if s, ok := n.Params.AdditionalFields["data"].(string); ok {
				logged <- s
			}
		}
	})
	init := initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if init.Capabilities.Tools == nil || !init.Capabilities.Tools.ListChanged {
		t.Fatalf("the bridge's own initialize must promise tools with listChanged: %+v", init.Capabilities)
	}
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "meshai_sign_in" {
		t.Fatalf("tools while signing in: %+v %v", tools, err)
	}
	res, err := callTool(ctx, c, "meshai_sign_in", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := linkRE.FindString(text(res))
	if link == "" {
		t.Fatalf("the sign-in tool gave no link: %q", text(res))
	}
	if !strings.Contains(stderr.String(), link) {
		t.Error("the sign-in link must also be on stderr, for a user who reads the client's logs")
	}
	select {
	case msg := <-logged:
		if !strings.Contains(msg, "/oauth/authorize?") {
			t.Errorf("log message to the client: %q", msg)
		}
	case <-ctx.Done():
		t.Fatal("no log message to the client with the link")
	}
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || !r.IsError || !strings.Contains(text(r), "Not signed in") {
		t.Errorf("a server tool before sign-in: %+v %v", r, err)
	}

	follow(t, link)
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatalf("no tools/list_changed after the sign-in\n%s", stderr.String())
	}
	tools, err = c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) < 5 {
		t.Fatalf("tools after sign-in: %+v %v", tools, err)
	}
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after sign-in: %+v %v", r, err)
	}
	// Promised capabilities stay: the reference server has prompts and resources, and completion is answered.
	if _, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{}); err != nil {
		t.Errorf("prompts/list after sign-in: %v", err)
	}
	if n := srv.Stats().Authorizations; n != 1 {
		t.Errorf("%d authorizations, want 1", n)
	}
}

// mcp-remote's command line works unchanged: `<url> <callback-port>`, --host, --callback-path, --authorize-param,
// --ignore-tool, --silent and --enable-proxy, through a complete sign-in against the reference server.
func TestMcpRemoteCommandLine(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	port := freePort(t)
	// initialize waits for the sign-in (--sign-in-wait) however long the "user" below takes on a busy machine;
	// --auth-timeout takes mcp-remote's seconds.
	c, stderr := mcpClient(t, signInEnv(dir), []string{srv.URL + "/v1/mcp", port, "--no-browser", "--sign-in-wait", hangGuard.String(),
		"--host", "localhost", "--callback-path", "/oauth/callback", "--authorize-param", "audience=meshai-test",
		"--ignore-tool", "submit_*", "--ignore-tool", "APPROVE_WORKFLOW", "--silent", "--enable-proxy",
		"--auth-timeout", strconv.Itoa(int(hangGuard / time.Second))})
	go func() {
		// The user: open the link the bridge prints.
		for ctx.Err() == nil {
			if link := linkRE.FindString(stderr.String()); link != "" {
				u, _ := url.Parse(link)
				q := u.Query()
				if q.Get("redirect_uri") != "http://localhost:"+port+"/oauth/callback" || q.Get("audience") != "meshai-test" {
					t.Errorf("authorization request: redirect_uri=%s audience=%s", q.Get("redirect_uri"), q.Get("audience"))
				}
				follow(t, link)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	got := strings.Join(names, ",")
	if strings.Contains(got, "submit_workflow") || strings.Contains(got, "approve_workflow") || !strings.Contains(got, "mesh_execute") {
		t.Errorf("tools with submit_* and APPROVE_WORKFLOW ignored: %s", got)
	}
	if _, err := callTool(ctx, c, "submit_workflow", map[string]any{"name": "x"}, nil); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("an ignored tool's call must be refused: %v", err)
	}
	if strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("--silent: log lines on stderr:\n%s", stderr.String())
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// --device-code signs in with no browser and no port: the bridge shows a code on stderr (and through the sign-in
// tool), the user approves it on another device, and the bridge's polling gets the tokens (RFC 8628).
func TestDeviceCodeSignIn(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, DeviceInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := mcpClient(t, signInEnv(dir), []string{"--device-code", "--sign-in-wait", "100ms", srv.URL + "/v1/mcp"})
	changed := make(chan struct{}, 4)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/tools/list_changed" {
			changed <- struct{}{}
		}
	})
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	res, err := callTool(ctx, c, "meshai_sign_in", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https?://\S+/oauth/device/verify\?user_code=[A-Z-]+`).FindString(text(res))
	if link == "" {
		t.Fatalf("the sign-in tool gave no verification link: %q", text(res))
	}
	if !regexp.MustCompile(`enter the code [A-Z]{4}-[A-Z]{4}`).MatchString(stderr.String()) {
		t.Errorf("stderr must show the user code:\n%s", stderr.String())
	}
	follow(t, link) // the user approves on their phone
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatalf("no tools/list_changed after the device sign-in\n%s", stderr.String())
	}
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after the device sign-in: %+v %v", r, err)
	}
	if n := srv.Stats().Authorizations; n != 0 {
		t.Errorf("%d browser authorizations, want none", n)
	}
	if strings.Contains(stderr.String(), "/oauth/authorize?") {
		t.Error("--device-code must not start the browser flow")
	}
}

// --resource is what the authorization request asks tokens for (RFC 8707), instead of the server URL.
func TestResourceFlagReachesTheAuthorizationRequest(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	rb := startRaw(t, signInEnv(t.TempDir()), "--no-browser", "--sign-in-wait", "100ms", "--resource", "https://tenant-a.example.com/", srv.URL+"/v1/mcp")
	rb.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	rb.until(t, float64(1))
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		if link := linkRE.FindString(rb.stderr.String()); link != "" {
			u, _ := url.Parse(link)
			if got := u.Query().Get("resource"); got != "https://tenant-a.example.com/" {
				t.Fatalf("resource=%q in the authorization request", got)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no sign-in link on stderr:\n%s", rb.stderr.String())
}
