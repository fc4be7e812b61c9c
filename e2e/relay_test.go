package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// The protocol revisions a desktop client may speak; "" lets mcp-go pick (the 2026-07-28 stateless core).
var revisions = []string{mcp.ProtocolVersion20250326, mcp.ProtocolVersion20250618, mcp.LATEST_LEGACY_PROTOCOL_VERSION, ""}

func TestRelayEveryRevision(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	for _, rev := range revisions {
		name := rev
		if name == "" {
			name = "negotiated"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			var opts []client.ClientOption
			if rev != "" {
				opts = append(opts, client.WithProtocolVersion(rev))
			}
			c, _ := mcpClient(t, bridgeEnv(t), []string{srv.URL + "/v1/mcp"}, opts...)
			res := initialize(t, ctx, c, rev)
			if res.ServerInfo.Name != "meshai" || (rev != "" && res.ProtocolVersion != rev) {
				t.Fatalf("initialize answered %+v", res)
			}
			tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, tool := range tools.Tools {
				names[tool.Name] = true
			}
			for _, want := range []string{"mesh_execute", "list_agents", "submit_workflow", "search", "fetch", "approve_workflow", "get_artifact"} {
				if !names[want] {
					t.Errorf("tools/list lacks %s", want)
				}
			}
			r, err := callTool(ctx, c, "list_agents", map[string]any{"framework": "CrewAI"}, nil)
			if err != nil || r.IsError || !strings.Contains(text(r), "CrewAI") {
				t.Fatalf("list_agents: %v %+v", err, r)
			}
			// submit_workflow's workflow_type is annotated x-mcp-header: a 2026-07-28 server refuses the call unless
			// the bridge mirrors it into Mcp-Param-Workflow-Type, which it learns from the tools/list answer.
			r, err = callTool(ctx, c, "submit_workflow", map[string]any{"workflow_type": "parallel", "payload": map[string]any{"goal": "x"}}, nil)
			if err != nil || r.IsError || !strings.Contains(text(r), "queued") {
				t.Fatalf("submit_workflow: %v %+v", err, r)
			}
			tmpl, err := c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "meshai://docs/quickstart"}})
			if err != nil || len(tmpl.Contents) != 1 {
				t.Fatalf("resources/read: %v %+v", err, tmpl)
			}
			p, err := c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "plan_workflow", Arguments: map[string]string{"goal": "triage"}}})
			if err != nil || len(p.Messages) == 0 {
				t.Fatalf("prompts/get: %v %+v", err, p)
			}
		})
	}
}

func TestProgressIsRelayedInOrder(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	for _, rev := range []string{mcp.LATEST_LEGACY_PROTOCOL_VERSION, ""} {
		t.Run("rev="+rev, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			var opts []client.ClientOption
			if rev != "" {
				opts = append(opts, client.WithProtocolVersion(rev))
			}
			c, _ := mcpClient(t, bridgeEnv(t), []string{srv.URL + "/v1/mcp"}, opts...)
			var mu sync.Mutex
			var progress []map[string]any
			c.OnNotification(func(n mcp.JSONRPCNotification) {
				if n.Method == "notifications/progress" {
					mu.Lock()
					progress = append(progress, n.Params.AdditionalFields)
					mu.Unlock()
				}
			})
			initialize(t, ctx, c, rev)
			r, err := callTool(ctx, c, "mesh_execute", map[string]any{"task": "triage", "steps": 6}, "tok-1")
			if err != nil || r.IsError {
				t.Fatalf("mesh_execute: %v %+v", err, r)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(progress) != 6 {
				t.Fatalf("got %d progress notifications, want 6: %v", len(progress), progress)
			}
			for i, p := range progress {
				if p["progressToken"] != "tok-1" || p["progress"] != float64(i+1) || p["total"] != float64(6) || p["message"] == "" {
					t.Errorf("progress %d = %v", i, p)
				}
			}
		})
	}
}

func TestCancellationReachesTheServer(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, _ := mcpClient(t, bridgeEnv(t), []string{srv.URL + "/v1/mcp"}, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	started := make(chan struct{}, 100)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			started <- struct{}{}
		}
	})
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	callCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := callTool(callCtx, c, "mesh_execute", map[string]any{"task": "long", "steps": 1000}, "cancel-me")
		errc <- err
	}()
	<-started
	<-started
	stop()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled call must return an error")
	}
	// The server learns of it: its handler stops long before 1000 steps (which would leave Cancelled at 0).
	deadline := time.Now().Add(hangGuard)
	for srv.Stats().Cancelled == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the server never saw the cancellation: %+v", srv.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And the bridge is still fine.
	if _, err := callTool(ctx, c, "list_agents", nil, nil); err != nil {
		t.Fatalf("call after cancellation: %v", err)
	}
}

type elicitor struct{ asked chan string }

func (e *elicitor) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.asked <- req.Params.Message
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": true, "note": "ship it"}}}, nil
}

func TestElicitationRoundTrip(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	for _, tc := range []struct{ name, path, rev string }{
		{"streamable 2025-11-25", "/v1/mcp", mcp.LATEST_LEGACY_PROTOCOL_VERSION},
		{"streamable 2025-06-18", "/v1/mcp", mcp.ProtocolVersion20250618},
		// Not over legacy SSE here: mcp-go's SSE server cannot send requests to a client. The fidelity test runs
		// server requests over legacy SSE against the official TypeScript server instead.
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			e := &elicitor{asked: make(chan string, 1)}
			c, _ := mcpClient(t, bridgeEnv(t), []string{srv.URL + tc.path},
				client.WithProtocolVersion(tc.rev), client.WithElicitationHandler(e))
			initialize(t, ctx, c, tc.rev)
			r, err := callTool(ctx, c, "approve_workflow", map[string]any{"workflow": "wf-0001"}, nil)
			if err != nil || r.IsError {
				t.Fatalf("approve_workflow: %v %+v", err, r)
			}
			select {
			case <-e.asked:
			default:
				t.Fatal("the client was never asked")
			}
			if got := text(r); !strings.Contains(got, "accept") || !strings.Contains(got, "ship it") {
				t.Errorf("the server did not get the answer: %q", got)
			}
		})
	}
}

func TestTwentyMegabyteResult(t *testing.T) {
	if testing.Short() {
		t.Skip("long: run without -short")
	}
	srv := startServer(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, _ := mcpClient(t, bridgeEnv(t), []string{srv.URL + "/v1/mcp"}, client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	const size = 20 << 20
	r, err := callTool(ctx, c, "get_artifact", map[string]any{"size_bytes": size}, nil)
	if err != nil || r.IsError {
		t.Fatalf("get_artifact: %v", err)
	}
	if n := len(text(r)); n != size {
		t.Fatalf("got %d bytes, want %d", n, size)
	}
}

func TestLegacySSEFallback(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	for _, mode := range []string{"http-first", "sse-only", "sse-first"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			c, stderr := mcpClient(t, bridgeEnv(t), []string{"--transport", mode, srv.URL + "/v1/sse"},
				client.WithProtocolVersion(mcp.ProtocolVersion20241105))
			var mu sync.Mutex
			progress := 0
			c.OnNotification(func(n mcp.JSONRPCNotification) {
				if n.Method == "notifications/progress" {
					mu.Lock()
					progress++
					mu.Unlock()
				}
			})
			initialize(t, ctx, c, mcp.ProtocolVersion20241105)
			r, err := callTool(ctx, c, "mesh_execute", map[string]any{"task": "legacy", "steps": 3}, "p")
			if err != nil || r.IsError {
				t.Fatalf("mesh_execute over legacy SSE: %v %+v", err, r)
			}
			mu.Lock()
			defer mu.Unlock()
			if progress != 3 {
				t.Errorf("got %d progress notifications over legacy SSE, want 3", progress)
			}
			if !strings.Contains(stderr.String(), "legacy HTTP+SSE") {
				t.Errorf("the log should say the bridge speaks legacy SSE:\n%s", stderr.String())
			}
		})
	}
}

func TestUpstreamRestartIsInvisible(t *testing.T) {
	for _, tc := range []struct{ name, path, rev string }{
		{"streamable", "/v1/mcp", mcp.LATEST_LEGACY_PROTOCOL_VERSION},
		{"legacy sse", "/v1/sse", mcp.ProtocolVersion20241105},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, "127.0.0.1:0")
			addr := srv.Addr
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			c, stderr := mcpClient(t, bridgeEnv(t), []string{srv.URL + tc.path}, client.WithProtocolVersion(tc.rev))
			initialize(t, ctx, c, tc.rev)
			if _, err := callTool(ctx, c, "list_agents", nil, nil); err != nil {
				t.Fatal(err)
			}
			srv.Close()
			// The next call comes once the bridge has seen its connections to the old process close, as a person's
			// next call would: one sent on a connection the bridge has not yet seen close fails, honestly, with "the
			// request may or may not have run", which is not what this test is about.
			waitConnectionsClosed(t, addr)
			startServer(t, addr) // a new process would have forgotten every session, and so does this one
			r, err := callTool(ctx, c, "submit_workflow", map[string]any{"workflow_type": "sequential", "payload": map[string]any{"a": 1}}, nil)
			if err != nil || r.IsError {
				t.Fatalf("the first call after the restart failed: %v %+v", err, r)
			}
			// The bridge may log it just after the answer.
			for deadline := time.Now().Add(hangGuard); !strings.Contains(stderr.String(), "re-initialized"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("expected the bridge to re-initialize:\n%s", stderr.String())
				}
			}
		})
	}
}

func TestMalformedInputGetsAnErrorAndTheBridgeLivesOn(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, `{"jsonrpc":"2.0","id":1,"method":`)
	m := rb.next(t)
	if e, _ := m["error"].(map[string]any); m["id"] != float64(1) || e["code"] != float64(-32700) {
		t.Fatalf("want a parse error with the id read before the JSON broke (1), got %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","method":"x","params":{oops},"id":1}`)
	if m := rb.next(t); m["id"] != nil {
		t.Fatalf("an id after the break cannot be trusted: want id null, got %v", m)
	}
	rb.send(t, `[1,2]`)
	if e, _ := rb.next(t)["error"].(map[string]any); e["code"] != float64(-32600) {
		t.Fatalf("want an invalid-request error, got %v", e)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":"no-method"}`)
	if m := rb.next(t); m["id"] != "no-method" {
		t.Fatalf("an invalid request keeps its id in the error: %v", m)
	}
	rb.send(t, "")
	rb.send(t, initLine)
	if m := rb.until(t, float64(1)); m["result"] == nil {
		t.Fatalf("initialize after bad input failed: %v", m)
	}
}

func TestUnknownFieldsSurviveByteForByte(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	// An id of an unusual shape, _meta with custom keys, and an unknown top-level field.
	rb.send(t, `{"jsonrpc":"2.0","id":"req/ü-1","method":"tools/call","params":{"name":"fetch","arguments":{"id":"doc-quickstart"},"_meta":{"progressToken":{"nested":[1,2]},"x-custom":"é"}},"x-extra":true}`)
	m := rb.until(t, "req/ü-1")
	if m["result"] == nil {
		t.Fatalf("call with unusual id failed: %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":1e0,"method":"no/such/method","params":{}}`)
	m = rb.next(t)
	e, _ := m["error"].(map[string]any)
	if e["code"] != float64(-32601) {
		t.Fatalf("the server's own error must pass through unchanged: %v", m)
	}
}

func TestUnreachableServerAnswersWithAdvice(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	addr := srv.Addr
	srv.Close() // now nothing listens there
	rb := startRaw(t, bridgeEnv(t), fmt.Sprintf("http://%s/v1/mcp", addr))
	rb.send(t, initLine)
	m := rb.until(t, float64(1))
	e, _ := m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "Is the URL right") {
		t.Fatalf("want advice about a refused connection, got %v", m)
	}
	// The bridge lives on: once the server is up, the next initialize works.
	startServer(t, addr)
	rb.send(t, strings.Replace(initLine, `"id":1`, `"id":2`, 1))
	if m := rb.until(t, float64(2)); m["result"] == nil {
		t.Fatalf("initialize once the server is up: %v", m)
	}
}

func TestWrongKeySaysWhatToDo(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	env := append(bridgeEnv(t), "MESHAI_API_KEY=wrong-key")
	rb := startRaw(t, env, srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	m := rb.until(t, float64(1))
	e, _ := m["error"].(map[string]any)
	if msg, _ := e["message"].(string); !strings.Contains(msg, "401") || !strings.Contains(msg, "MESHAI_API_KEY") {
		t.Fatalf("got %v", m)
	}
	if strings.Contains(rb.stderr.String(), "wrong-key") {
		t.Error("the key must not appear in the log")
	}
}

func TestCleanExit(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	rb.until(t, float64(2))
	before := srv.Stats().Sessions
	rb.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- rb.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit on stdin EOF: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the bridge did not exit after stdin closed")
	}
	if after := srv.Stats().Sessions; after != before-1 {
		t.Errorf("the session was not deleted: %d open sessions before, %d after", before, after)
	}
}

func TestBatchIsForwarded(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, strings.Replace(initLine, "2025-11-25", "2025-03-26", 1))
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `[{"jsonrpc":"2.0","id":10,"method":"ping"},{"jsonrpc":"2.0","id":11,"method":"tools/list"}]`)
	seen := map[float64]bool{}
	for len(seen) < 2 {
		raw := rb.next(t)
		msgs := []any{raw}
		if b, ok := raw["batch"].([]any); ok {
			msgs = b
		}
		for _, m := range msgs {
			if m, ok := m.(map[string]any); ok && m["result"] != nil {
				if id, ok := m["id"].(float64); ok {
					seen[id] = true
				}
			}
		}
	}
	if !seen[10] || !seen[11] {
		t.Fatalf("batch answers: %v", seen)
	}
}
