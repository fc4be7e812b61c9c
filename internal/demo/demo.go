// Package demo runs the bridge against the built-in MeshAI reference server and prints the exchange: README's
// first command (go run ./cmd/meshai-demo). It lives outside the shipped binary so that the reference server and
// mcp-go's server and client (whose JSON-schema package alone costs 13 ms of init) never slow a real start.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/clientconfig"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// BridgeArg, as the first argument of the demo binary, makes it run as the bridge (cli.Main with the rest).
const BridgeArg = "--run-bridge"

// Main starts the reference MeshAI server on loopback, launches this very binary as the bridge (with BridgeArg)
// the way a desktop client would, and prints the exchange: the tools, a mesh_execute call with live progress, and
// its result. It returns the exit code.
func Main(out, stderr io.Writer) int {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := demo(ctx, out); err != nil {
		fmt.Fprintln(stderr, "demo failed:", err)
		return 1
	}
	fmt.Fprintf(out, "\nDone in %.1f s. Add the bridge to your desktop clients with:\n  npx -y meshai-mcp-server install\n"+
		"or by hand (README: Install):\n  %s\n", time.Since(start).Seconds(), handEntry())
	return 0
}

// handEntry is the mcpServers entry install writes, for a client's file edited by hand.
func handEntry() string {
	b, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{clientconfig.Name: clientconfig.NewEntry(clientconfig.EntryOptions{})}})
	return string(b)
}

func demo(ctx context.Context, out io.Writer) error {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Step: 250 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("start the reference server: %w", err)
	}
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "meshai-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mcpURL := srv.URL + "/v1/mcp"
	fmt.Fprintf(out, "MeshAI MCP bridge demo\n  reference server  %s (OAuth 2.1, approves sign-ins at once)\n  bridge            %s %s  (stdio)\n\n",
		mcpURL, "meshai-mcp-server", mcpURL)

	// The demo plays the user's browser: it watches the bridge's stderr for the sign-in URL and follows it.
	stderr := &signInWatcher{out: out}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MESHAI_") {
			env = append(env, kv)
		}
	}
	env = append(env, config.EnvConfigDir+"="+dir, config.EnvTokenStore+"="+credstore.KindFile)
	c := client.NewClient(transport.NewStdioWithOptions(self, env, []string{BridgeArg, "--no-browser", mcpURL},
		transport.WithCommandStderrWriter(stderr)))
	if err := c.Start(ctx); err != nil { // Start also wires the notification handler
		return fmt.Errorf("launch the bridge: %w", err)
	}
	defer c.Close()
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method != "notifications/progress" {
			return
		}
		f := n.Params.AdditionalFields
		fmt.Fprintf(out, "    progress %v/%v  %v\n", f["progress"], f["total"], f["message"])
	})
	fail := func(step string, err error) error {
		return fmt.Errorf("%s: %w\nbridge log:\n%s", step, err, stderr.String())
	}
	fmt.Fprintf(out, "→ initialize\n")

	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "meshai-demo", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		return fail("initialize", err)
	}
	fmt.Fprintf(out, "← %s %s, protocol %s\n\n", res.ServerInfo.Name, res.ServerInfo.Version, res.ProtocolVersion)

	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fail("tools/list", err)
	}
	fmt.Fprintf(out, "→ tools/list\n← %d tools\n", len(tools.Tools))
	for _, t := range tools.Tools {
		fmt.Fprintf(out, "    %-16s %s\n", t.Name, firstSentence(t.Description))
	}

	call := mcp.CallToolRequest{}
	call.Params.Name = "mesh_execute"
	call.Params.Arguments = map[string]any{
		"task":         "Summarise this week's support tickets and draft a reply plan",
		"capabilities": []string{"summarization", "planning"},
		"steps":        4,
	}
	call.Params.Meta = &mcp.Meta{ProgressToken: "demo-1"}
	args, _ := json.Marshal(call.Params.Arguments)
	fmt.Fprintf(out, "\n→ tools/call mesh_execute %s\n", args)
	result, err := c.CallTool(ctx, call)
	if err != nil {
		return fail("tools/call", err)
	}
	fmt.Fprintf(out, "← result:\n")
	for _, content := range result.Content {
		if t, ok := content.(mcp.TextContent); ok {
			for _, line := range strings.Split(strings.TrimSpace(t.Text), "\n") {
				fmt.Fprintf(out, "    %s\n", line)
			}
		}
	}
	if result.IsError {
		return fail("tools/call", fmt.Errorf("the tool reported an error"))
	}
	return nil
}

func firstSentence(s string) string {
	if i := strings.IndexAny(s, ".\n"); i > 0 {
		s = s[:i]
	}
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return s
}

// signInWatcher collects the bridge's stderr and, when the bridge prints a sign-in URL, follows it the way a
// browser would; the reference server approves at once and redirects to the bridge's loopback callback.
type signInWatcher struct {
	out  io.Writer
	mu   sync.Mutex
	b    bytes.Buffer
	seen int
}

func (w *signInWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	for {
		rest := w.b.String()[w.seen:]
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.seen += i + 1
		line := strings.TrimSpace(rest[:i])
		if u, err := oauth.BrowserURL(line); err == nil && strings.Contains(line, "/oauth/authorize?") {
			fmt.Fprintf(w.out, "  the server answered 401: the bridge signs in (PKCE S256) and asks the user to open\n    %s://%s%s?…\n", u.Scheme, u.Host, u.Path)
			go func() {
				resp, err := http.Get(line)
				if err == nil {
					resp.Body.Close()
				}
			}()
		}
	}
	return len(p), nil
}

func (w *signInWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
