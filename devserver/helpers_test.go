package devserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const testKey = "test-key"

// testLogger logs server activity when MESHAI_DEVSERVER_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("MESHAI_DEVSERVER_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start listens on a free port with the test API key and a short step.
func start(t *testing.T, step time.Duration) *Running {
	t.Helper()
	r, err := Listen("127.0.0.1:0", Config{APIKey: testKey, Step: step, Logger: testLogger()})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// cancelLog records, from the server's log, why each mesh_execute was cancelled (the "cause" of its
// "mesh_execute cancelled" line), and passes every record on to testLogger's handler when there is one.
type cancelLog struct {
	mu     sync.Mutex
	causes []string
	next   slog.Handler
}

func (c *cancelLog) Enabled(context.Context, slog.Level) bool { return true }

func (c *cancelLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "mesh_execute cancelled" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "cause" {
				c.mu.Lock()
				c.causes = append(c.causes, a.Value.String())
				c.mu.Unlock()
			}
			return true
		})
	}
	if c.next != nil && c.next.Enabled(ctx, r.Level) {
		return c.next.Handle(ctx, r)
	}
	return nil
}

func (c *cancelLog) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *cancelLog) WithGroup(string) slog.Handler      { return c }

// all returns the causes recorded so far.
func (c *cancelLog) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.causes...)
}

// startLogged is start with the server's cancellations recorded.
func startLogged(t *testing.T, step time.Duration) (*Running, *cancelLog) {
	t.Helper()
	cl := &cancelLog{}
	if l := testLogger(); l != nil {
		cl.next = l.Handler()
	}
	r, err := Listen("127.0.0.1:0", Config{APIKey: testKey, Step: step, Logger: slog.New(cl)})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, cl
}

// oneCause waits for the one cancellation of the test's call and returns its cause.
func (c *cancelLog) oneCause(t *testing.T) string {
	t.Helper()
	waitFor(t, "the call to be cancelled", func() bool { return len(c.all()) > 0 })
	got := c.all()
	if len(got) != 1 {
		t.Fatalf("%d cancellations %q, want 1", len(got), got)
	}
	return got[0]
}

// hangGuard bounds a wait that only a hang would exhaust; it never decides a pass on a fast machine.
const hangGuard = 2 * time.Minute

// testCtx is a context for one exchange with the server; its deadline only guards against a hang.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// authHeaders are the headers of an authorised client.
func authHeaders() map[string]string { return map[string]string{"Authorization": "Bearer " + testKey} }

// connect starts and initializes an mcp-go Streamable HTTP client against r.
func connect(t *testing.T, r *Running, opts ...client.ClientOption) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(r.URL+"/v1/mcp", transport.WithHTTPHeaders(authHeaders()))
	if err != nil {
		t.Fatalf("NewStreamableHTTP: %v", err)
	}
	return initialize(t, client.NewClient(tr, opts...))
}

// initialize starts c and runs the initialize handshake.
func initialize(t *testing.T, c *client.Client) *client.Client {
	t.Helper()
	ctx := testCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.ProtocolVersion20251125 // session-based; TestStatelessEra covers 2026-07-28
	req.Params.ClientInfo = mcp.Implementation{Name: "devserver-test", Version: "1"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if res.ProtocolVersion != mcp.ProtocolVersion20251125 {
		t.Fatalf("negotiated %q, want the session-based %q", res.ProtocolVersion, mcp.ProtocolVersion20251125)
	}
	return c
}

// callTool calls a tool and fails the test on a protocol error.
func callTool(t *testing.T, c *client.Client, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(testCtx(t), req)
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// text returns the text of a result's only content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want 1 content, got %d", len(res.Content))
	}
	tc, ok := mcp.AsTextContent(res.Content[0])
	if !ok {
		t.Fatalf("content is %T, not text", res.Content[0])
	}
	return tc.Text
}

// structured decodes a result's structuredContent into v.
func structured(t *testing.T, res *mcp.CallToolResult, v any) {
	t.Helper()
	raw := res.RawStructuredContent
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(res.StructuredContent); err != nil {
			t.Fatalf("encode structuredContent: %v", err)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode structuredContent %s: %v", raw, err)
	}
}

// notes collects the notifications a client receives.
type notes struct {
	mu  sync.Mutex
	all []mcp.JSONRPCNotification
}

// add is the client's notification handler.
func (n *notes) add(nt mcp.JSONRPCNotification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all = append(n.all, nt)
}

// of returns the notifications with the given method.
func (n *notes) of(method string) []mcp.JSONRPCNotification {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []mcp.JSONRPCNotification
	for _, nt := range n.all {
		if nt.Method == method {
			out = append(out, nt)
		}
	}
	return out
}

// waitFor polls cond until it holds; the deadline only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", hangGuard, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	ID   string
	Data string
}

// message decodes the event's JSON-RPC message.
func (e sseEvent) message(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
		t.Fatalf("event data %q: %v", e.Data, err)
	}
	return m
}

// readEvent reads the next event that carries data.
func readEvent(br *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "" && ev.Data != "":
			return ev, nil
		case strings.HasPrefix(line, "id:"):
			ev.ID = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			ev.Data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
}

// raw is an MCP session driven with plain net/http.
type raw struct {
	t    *testing.T
	base string
	id   string
}

// rawSession initializes a session on /v1/mcp without the mcp-go client.
func rawSession(t *testing.T, r *Running) *raw {
	t.Helper()
	s := &raw{t: t, base: r.URL}
	resp := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
		"protocolVersion": mcp.ProtocolVersion20251125, "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "raw", "version": "1"},
	}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: %d %s", resp.StatusCode, body)
	}
	s.id = resp.Header.Get("Mcp-Session-Id")
	if s.id == "" {
		t.Fatalf("initialize: no Mcp-Session-Id header")
	}
	resp = s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d", resp.StatusCode)
	}
	return s
}

// do sends a request on the session and returns the response; the caller closes its body.
func (s *raw) do(ctx context.Context, method string, body any, header map[string]string) *http.Response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatalf("encode: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+"/v1/mcp", rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
		req.Header.Set("Mcp-Protocol-Version", mcp.ProtocolVersion20251125)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s /v1/mcp: %v", method, err)
	}
	return resp
}

// post sends a JSON-RPC message.
func (s *raw) post(ctx context.Context, msg any) *http.Response {
	s.t.Helper()
	return s.do(ctx, http.MethodPost, msg, nil)
}

// callExecute posts a mesh_execute tools/call with a progress token and expects an SSE response.
func (s *raw) callExecute(ctx context.Context, id, steps int, token string) (*http.Response, *bufio.Reader) {
	s.t.Helper()
	resp := s.post(ctx, map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{
		"name": "mesh_execute", "arguments": map[string]any{"task": "summarize the quarterly report", "steps": steps},
		"_meta": map[string]any{"progressToken": token},
	}})
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		s.t.Fatalf("tools/call: status %d, content type %q", resp.StatusCode, ct)
	}
	return resp, bufio.NewReader(resp.Body)
}

// progressOf returns the progress number of a notifications/progress message, or 0.
func progressOf(m map[string]any) int {
	if m["method"] != "notifications/progress" {
		return 0
	}
	p, _ := m["params"].(map[string]any)["progress"].(float64)
	return int(p)
}

// describe renders a message for failure output.
func describe(m map[string]any) string {
	b, _ := json.Marshal(m)
	return fmt.Sprintf("%.300s", b)
}
