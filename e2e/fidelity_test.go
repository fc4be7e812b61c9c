//go:build unix

//lint:file-ignore SA1019 the session pins 2025-11-25, whose ping, subscribe, setLevel and GET stream the bridge relays

package e2e

// TestFidelityEverything measures how faithfully the bridge relays a real MCP server it was not written
// against: @modelcontextprotocol/server-everything (see everything_test.go) in Streamable HTTP mode.
//
// The same scripted session runs twice, each against a fresh server process:
//   - direct: mcp-go's Streamable HTTP client to http://127.0.0.1:PORT/mcp, with the standalone GET stream
//     open (transport.WithContinuousListening), since the server sends its logs, resource updates and
//     roots/list requests there;
//   - bridged: mcp-go's stdio client running the bridge binary with that URL as its last argument.
//
// A tap between the mcp-go client and its transport (fidTap) records what the client received: the raw JSON
// of every response, every notification, and every server→client request with the answer the client's
// handler gave. The session is cut into features; each feature's record is compared as normalised JSON.
//
// Both runs pin protocol revision 2025-11-25. mcp-go v1.2.1's client otherwise prefers 2026-07-28: it probes
// with server/discover and, when that fails, falls back to the initialize handshake at 2025-11-25
// (mcp.LATEST_LEGACY_PROTOCOL_VERSION); pinning skips the probe, so both runs send the same first message.
//
// What is normalised, and why (fidNormalise), applied to both runs alike:
//   - UUIDs, anywhere in a string → "<uuid>": the server's Mcp-Session-Id is a random UUID per session, and
//     it quotes it in tool texts ("… for session <id>") and log messages.
//   - clock times such as "8:15:30 PM" → "<time>": the dynamic resources embed new Date().toLocaleTimeString().
//   - a "blob" that is base64 of UTF-8 text is decoded (then normalised as text), because the dynamic blob
//     resources are base64 of a text with that time in it.
//   - object keys are compared as sets (JSON objects are unordered); numbers keep their literal form.
//
// Timings are not compared: only counts, contents, and order within a stream.
//
// The server sends notifications/tools/list_changed on its standalone GET stream the moment it handles
// notifications/initialized (it registers its capability-dependent tools then), and a message sent while no
// GET stream is open is not delivered. mcp-go's HTTP client opens its GET stream when the initialize response
// arrives, in a goroutine, racing its own notifications/initialized POST; so that the direct run is a fixed
// baseline, its tap holds notifications/initialized back until the GET stream has been answered (at most
// fidWait): the direct run is what a client gets that listens as soon as it has a session. The bridge run is
// not helped: whether its client gets those notifications is the feature "list_changed on initialized".
//
// MESHAI_FIDELITY_DUMP=DIR writes both runs' normalised records to DIR/direct.json and DIR/bridge.json.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const fidProtocolVersion = "2025-11-25"

func TestFidelityEverything(t *testing.T) {
	entry := needEverything(t)
	start := time.Now()

	direct := fidRun(t, "direct", entry, "streamableHttp", func(t *testing.T, url string) *fidTap {
		rt := &fidGETWatch{next: http.DefaultTransport, open: make(chan struct{})}
		tr, err := transport.NewStreamableHTTP(url, transport.WithContinuousListening(),
			transport.WithHTTPBasicClient(&http.Client{Transport: rt}))
		if err != nil {
			t.Fatalf("streamable HTTP client: %v", err)
		}
		return &fidTap{inner: tr, http: tr, beforeInitialized: func() {
			select {
			case <-rt.open:
			case <-time.After(fidWait):
				t.Logf("direct: the GET stream was not open %s after initialize; sending notifications/initialized anyway", fidWait)
			}
		}}
	})
	fidBaseline(t, direct)

	// Through the bridge twice: to the same server over Streamable HTTP, and to its legacy HTTP+SSE transport
	// (2024-11-05), where server requests (roots, sampling, elicitation) travel on the one SSE stream.
	total, same := 0, 0
	var sessions []*fidSession
	for _, run := range []struct{ label, mode, transport string }{
		{"bridge", "streamableHttp", "http-first"},
		{"bridge over legacy SSE", "sse", "sse-only"},
	} {
		var bridgeStderr *fidBuffer
		bridged := fidRun(t, run.label, entry, run.mode, func(t *testing.T, url string) *fidTap {
			bridgeStderr = &fidBuffer{}
			env := []string{"MESHAI_CONFIG_DIR=" + t.TempDir()}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "MESHAI_") {
					env = append(env, kv)
				}
			}
			tr := transport.NewStdioWithOptions(bridgeBin, env, []string{"--transport", run.transport, url},
				transport.WithCommandStderrWriter(bridgeStderr))
			return &fidTap{inner: tr}
		})
		sessions = append(sessions, bridged)
		n, diffs := fidCompare(direct, bridged)
		total += len(direct.order)
		same += n
		t.Logf("fidelity (%s): %d/%d features identical", run.label, n, len(direct.order))
		if len(diffs) > 0 {
			t.Errorf("%s: %d of %d features differ from the direct session:\n\n%s",
				run.label, len(diffs), len(direct.order), strings.Join(diffs, "\n"))
			t.Logf("bridge stderr:\n%s", fidTail(bridgeStderr.String(), 6000))
		}
	}
	if dir := os.Getenv("MESHAI_FIDELITY_DUMP"); dir != "" {
		fidDump(t, dir, append([]*fidSession{direct}, sessions...)...)
	}
	t.Logf("fidelity: %d/%d features identical (%s)", same, total, time.Since(start).Round(100*time.Millisecond))
}

// fidCompare counts the features of bridged identical to direct's, and describes each difference.
func fidCompare(direct, bridged *fidSession) (int, []string) {
	same, diffs := 0, []string{}
	for _, name := range direct.order {
		a := fidPretty(direct.records[name])
		b, ok := bridged.records[name]
		bs := "(feature not reached: the session through the bridge stopped before it)"
		if ok {
			bs = fidPretty(b)
		}
		if a == bs {
			same++
			continue
		}
		diffs = append(diffs, fmt.Sprintf("=== %s (- direct, + %s)\n%s", name, bridged.label, fidDiff(a, bs)))
	}
	return same, diffs
}

// fidDump writes both sessions' normalised records to dir/{direct,bridge}.json, to read what was compared.
func fidDump(t *testing.T, dir string, sessions ...*fidSession) {
	for _, s := range sessions {
		path := filepath.Join(dir, s.label+".json")
		if err := os.WriteFile(path, []byte(fidPretty(s.records)+"\n"), 0o644); err != nil {
			t.Errorf("MESHAI_FIDELITY_DUMP: %v", err)
		}
	}
}

// fidRun starts a fresh server, connects a client through the transport dial makes, and runs the session.
func fidRun(t *testing.T, label, entry, mode string, dial func(t *testing.T, url string) *fidTap) *fidSession {
	t.Helper()
	began := time.Now()
	srv := startEverything(t, entry, mode)
	tap := dial(t, srv.URL)
	tap.changed = make(chan struct{}, 1)
	c := client.NewClient(tap,
		client.WithProtocolVersion(fidProtocolVersion),
		client.WithSamplingHandler(fidSampler{}),
		client.WithElicitationHandler(fidElicitor{}),
		client.WithRootsHandler(fidRoots{}),
	)
	// Client.Start, not only the transport's Start: it is Client.Start that installs the client's notification
	// handler and, on transports that carry server→client requests (stdio and Streamable HTTP both do), the
	// handler that routes sampling/createMessage, elicitation/create and roots/list to the handlers above.
	// Without it the stdio transport answers every server request with "No request handler configured".
	// Its context outlives the session: the stdio transport keeps it for the bridge process and for handling
	// server requests, the HTTP transport for its GET stream.
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("%s: start client: %v", label, err)
	}
	t.Cleanup(func() { _ = c.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	s := &fidSession{t: t, label: label, ctx: ctx, c: c, tap: tap, records: map[string]any{}}
	s.run()
	t.Logf("%s session: %d features recorded in %s", label, len(s.order), time.Since(began).Round(100*time.Millisecond))
	return s
}

// The session's fixed data.
const (
	fidProgressToken = "fidelity-progress"
	fidSubscribeURI  = "demo://resource/static/document/features.md"
	fidLoggingURI    = "demo://resource/static/document/architecture.md"
	fidSamplingText  = "fixed sampling answer from the fidelity test"
	fidRootURI       = "file:///tmp/fidelity-root"
	// fidWait bounds each wait for a message the server sends on its own (logs, updates, roots/list); they
	// normally arrive within milliseconds. What a wait saw is part of the record compared, so the bound is far
	// beyond what a busy machine needs: a message that never comes costs a minute, a slow one costs nothing.
	fidWait = time.Minute
	// fidEcho exercises escapes, non-ASCII and an embedded newline in both directions.
	fidEcho = "fidelity ✓ \"quoted\" \\ back\\slash\nsecond line \u2028 \U0001F600 <tag> &amp;"
)

type fidSampler struct{}

func (fidSampler) CreateMessage(context.Context, mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
	return &mcp.CreateMessageResult{
		SamplingMessage: mcp.SamplingMessage{Role: mcp.RoleAssistant, Content: mcp.TextContent{Type: "text", Text: fidSamplingText}},
		Model:           "fidelity-model",
		StopReason:      "endTurn",
	}, nil
}

type fidElicitor struct{}

func (fidElicitor) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept,
		Content: map[string]any{
			"name": "Ada Lovelace", "check": true, "email": "ada@example.com", "homepage": "https://example.com/ada",
			"birthdate": "1815-12-10", "integer": 7, "number": 2.5, "untitledSingleSelectEnum": "Joey",
		},
	}}, nil
}

type fidRoots struct{}

func (fidRoots) ListRoots(context.Context, mcp.ListRootsRequest) (*mcp.ListRootsResult, error) {
	return &mcp.ListRootsResult{Roots: []mcp.Root{{URI: fidRootURI, Name: "fidelity root"}}}, nil
}

// fidSession is one run of the scripted session and what each feature of it recorded.
type fidSession struct {
	t       *testing.T
	label   string
	ctx     context.Context
	c       *client.Client
	tap     *fidTap
	order   []string
	records map[string]any
}

func (s *fidSession) op() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, hangGuard)
}

// feature records what the client received while body ran; body may add entries of its own to the record.
func (s *fidSession) feature(name string, body func() map[string]any) {
	from := s.tap.mark()
	extra := body()
	rec := s.tap.capture(from, s.tap.mark(), nil)
	for k, v := range extra {
		rec[k] = v
	}
	s.add(name, rec)
}

func (s *fidSession) add(name string, rec map[string]any) {
	s.order = append(s.order, name)
	s.records[name] = fidNormalise(rec)
}

func (s *fidSession) callTool(name string, args map[string]any, progressToken any) (*mcp.CallToolResult, error) {
	ctx, cancel := s.op()
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	if args == nil {
		args = map[string]any{} // a nil map would go out as "arguments": null, which the server rejects
	}
	req.Params.Arguments = args
	if progressToken != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: progressToken}
	}
	return s.c.CallTool(ctx, req)
}

// waitLog waits up to d for a log message (notifications/message) containing text, received since from.
func (s *fidSession) waitLog(from int, text string, d time.Duration) bool {
	return s.tap.waitFor(s.ctx, from, d, func(evs []*fidEvent) bool { return fidHasLog(evs, text) })
}

func (s *fidSession) run() {
	// initialize, and the roots/list request the server sends 350 ms after notifications/initialized, answered
	// by fidRoots, which the server acknowledges with a log message.
	m0 := s.tap.mark()
	{
		ctx, cancel := s.op()
		req := mcp.InitializeRequest{}
		req.Params.ProtocolVersion = fidProtocolVersion
		req.Params.ClientInfo = mcp.Implementation{Name: "meshai-fidelity", Version: "1.0.0"}
		_, err := s.c.Initialize(ctx, req)
		cancel()
		if err != nil {
			s.add("initialize", s.tap.capture(m0, s.tap.mark(), nil))
			s.t.Errorf("%s: initialize: %v (the session stops here)", s.label, err)
			return
		}
	}
	synced := s.tap.waitFor(s.ctx, m0, fidWait, func(evs []*fidEvent) bool {
		answered := false
		for _, e := range evs {
			if e.Kind == "server-request" && e.Method == "roots/list" && e.Answer != nil {
				answered = true
			}
		}
		return answered && fidHasLog(evs, "Roots updated")
	})
	m1 := s.tap.mark()
	_, _ = s.callTool("get-roots-list", nil, nil)
	m2 := s.tap.mark()
	s.add("initialize", s.tap.capture(m0, m1, func(e *fidEvent) bool { return e.Method == "initialize" }))
	s.add("list_changed on initialized", s.tap.capture(m0, m2, fidListChanged))
	roots := s.tap.capture(m0, m2, func(e *fidEvent) bool { return e.Method != "initialize" && !fidListChanged(e) })
	roots["rootsSyncedBeforeToolCall"] = synced
	s.add("roots (server→client roots/list)", roots)

	s.feature("tools/list", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		_, _ = s.c.ListTools(ctx, mcp.ListToolsRequest{})
		return nil
	})

	s.feature("ping", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		_ = s.c.Ping(ctx)
		return nil
	})

	s.feature("tools/call (echo and other simple tools)", func() map[string]any {
		_, _ = s.callTool("echo", map[string]any{"message": fidEcho}, nil)
		_, _ = s.callTool("get-sum", map[string]any{"a": 0.1, "b": 0.2}, nil)
		_, _ = s.callTool("get-tiny-image", nil, nil)
		_, _ = s.callTool("get-structured-content", map[string]any{"location": "Chicago"}, nil)
		_, _ = s.callTool("get-annotated-message", map[string]any{"messageType": "error", "includeImage": true}, nil)
		_, _ = s.callTool("get-resource-links", map[string]any{"count": 3}, nil)
		_, _ = s.callTool("get-resource-reference", map[string]any{"resourceType": "Blob", "resourceId": 4}, nil)
		return nil
	})

	s.feature("progress (trigger-long-running-operation)", func() map[string]any {
		from := s.tap.mark()
		_, _ = s.callTool("trigger-long-running-operation", map[string]any{"duration": 1, "steps": 5}, fidProgressToken)
		// Progress that arrives after the result is useless to a client; count what came before it.
		before := 0
		s.tap.mu.Lock()
		for _, e := range s.tap.events[from:] {
			if e.Kind == "notification" && e.Method == "notifications/progress" {
				before++
			}
			if e.Kind != "notification" && e.Method == "tools/call" {
				break
			}
		}
		s.tap.mu.Unlock()
		return map[string]any{"progressBeforeResult": before}
	})

	s.feature("resources/list + resources/templates/list", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		_, _ = s.c.ListResources(ctx, mcp.ListResourcesRequest{})
		_, _ = s.c.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
		return nil
	})

	s.feature("resources/read", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		for _, uri := range []string{fidSubscribeURI, "demo://resource/dynamic/text/1", "demo://resource/dynamic/blob/2"} {
			_, _ = s.c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
		}
		return nil
	})

	s.feature("resources/subscribe + notifications/resources/updated", func() map[string]any {
		from := s.tap.mark()
		ctx, cancel := s.op()
		defer cancel()
		_ = s.c.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: fidSubscribeURI}})
		ack := s.waitLog(from, "Received Subscribe Resource request for URI: "+fidSubscribeURI, fidWait)
		// toggle-subscriber-updates sends one notifications/resources/updated per subscribed URI at once, then
		// every 5 s until toggled off: toggle it off after the first.
		from = s.tap.mark()
		_, _ = s.callTool("toggle-subscriber-updates", nil, nil)
		updated := s.tap.waitFor(s.ctx, from, fidWait, func(evs []*fidEvent) bool {
			for _, e := range evs {
				if e.Kind == "notification" && e.Method == "notifications/resources/updated" {
					return true
				}
			}
			return false
		})
		_, _ = s.callTool("toggle-subscriber-updates", nil, nil)
		from = s.tap.mark()
		_ = s.c.Unsubscribe(ctx, mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: fidSubscribeURI}})
		unack := s.waitLog(from, "Received Unsubscribe Resource request: "+fidSubscribeURI, fidWait)
		return map[string]any{"subscribeLogged": ack, "updateReceived": updated, "unsubscribeLogged": unack}
	})

	s.feature("prompts/list", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		_, _ = s.c.ListPrompts(ctx, mcp.ListPromptsRequest{})
		return nil
	})

	s.feature("prompts/get (with arguments)", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		for _, p := range []mcp.GetPromptParams{
			{Name: "simple-prompt"},
			{Name: "args-prompt", Arguments: map[string]string{"city": "Zürich", "state": "ZH"}},
			{Name: "completable-prompt", Arguments: map[string]string{"department": "Engineering", "name": "Alice"}},
			{Name: "resource-prompt", Arguments: map[string]string{"resourceType": "Text", "resourceId": "3"}},
		} {
			_, _ = s.c.GetPrompt(ctx, mcp.GetPromptRequest{Params: p})
		}
		return nil
	})

	s.feature("completion/complete", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		for _, p := range []mcp.CompleteParams{
			{Ref: mcp.PromptReference{Type: "ref/prompt", Name: "completable-prompt"}, Argument: mcp.CompleteArgument{Name: "department", Value: "S"}},
			{Ref: mcp.PromptReference{Type: "ref/prompt", Name: "completable-prompt"}, Argument: mcp.CompleteArgument{Name: "name", Value: ""},
				Context: mcp.CompleteContext{Arguments: map[string]string{"department": "Engineering"}}},
			{Ref: mcp.PromptReference{Type: "ref/prompt", Name: "resource-prompt"}, Argument: mcp.CompleteArgument{Name: "resourceType", Value: "B"}},
			{Ref: mcp.ResourceReference{Type: "ref/resource", URI: "demo://resource/dynamic/text/{resourceId}"}, Argument: mcp.CompleteArgument{Name: "resourceId", Value: "12"}},
		} {
			_, _ = s.c.Complete(ctx, mcp.CompleteRequest{Params: p})
		}
		return nil
	})

	s.feature("logging/setLevel + notifications/message", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		// At debug, subscribing is acknowledged with an info-level log message; at error, unsubscribing is not.
		_ = s.c.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelDebug}})
		from := s.tap.mark()
		_ = s.c.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: fidLoggingURI}})
		logged := s.waitLog(from, fidLoggingURI, fidWait)
		_ = s.c.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelError}})
		from = s.tap.mark()
		_ = s.c.Unsubscribe(ctx, mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: fidLoggingURI}})
		filtered := !s.waitLog(from, fidLoggingURI, 700*time.Millisecond)
		return map[string]any{"infoLoggedAtDebug": logged, "infoFilteredAtError": filtered}
	})

	s.feature("sampling (trigger-sampling-request)", func() map[string]any {
		_, _ = s.callTool("trigger-sampling-request", map[string]any{"prompt": "Say something faithful.", "maxTokens": 42}, nil)
		return nil
	})

	s.feature("elicitation (trigger-elicitation-request)", func() map[string]any {
		_, _ = s.callTool("trigger-elicitation-request", nil, nil)
		return nil
	})

	s.feature("errors (unknown tool, invalid arguments, unknown resource, unknown prompt)", func() map[string]any {
		ctx, cancel := s.op()
		defer cancel()
		_, _ = s.callTool("no-such-tool", nil, nil)
		_, _ = s.callTool("get-sum", map[string]any{"a": "one"}, nil)
		_, _ = s.c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "demo://resource/dynamic/text/0"}})
		_, _ = s.c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "no-such-prompt"}})
		return nil
	})
}

// fidBaseline checks that the direct session exercised what it is meant to: if server-everything or mcp-go
// change under the test, a feature could otherwise compare equal only because it did nothing in both runs.
func fidBaseline(t *testing.T, s *fidSession) {
	t.Helper()
	want := map[string][]string{
		"list_changed on initialized":      {`"notifications/tools/list_changed"`},
		"initialize":                       {`"protocolVersion": "2025-11-25"`, `"mcp-servers/everything"`},
		"roots (server→client roots/list)": {`"roots/list"`, `Roots updated: 1 root(s)`, fidRootURI, `"rootsSyncedBeforeToolCall": true`},
		"tools/list":                       {`"trigger-sampling-request"`, `"trigger-elicitation-request"`, `"trigger-long-running-operation"`},
		"ping":                             {`"method": "ping"`},
		"tools/call (echo and other simple tools)":  {`Echo: fidelity`, `0.30000000000000004`, `"image/png"`, `"structuredContent"`, `"resource_link"`},
		"progress (trigger-long-running-operation)": {`"progressBeforeResult": 5`, fidProgressToken, `Long running operation completed`},
		"resources/read": {`"text/markdown"`, `Resource 1: This is a plaintext resource created at <time>`},
		"resources/subscribe + notifications/resources/updated":                      {`"subscribeLogged": true`, `"updateReceived": true`, `"unsubscribeLogged": true`},
		"prompts/get (with arguments)":                                               {`What's weather in Zürich, ZH?`},
		"completion/complete":                                                        {`"Sales"`, `"Alice"`, `"Blob"`},
		"logging/setLevel + notifications/message":                                   {`"infoLoggedAtDebug": true`, `"infoFilteredAtError": true`},
		"sampling (trigger-sampling-request)":                                        {`"sampling/createMessage"`, fidSamplingText},
		"elicitation (trigger-elicitation-request)":                                  {`"elicitation/create"`, `Ada Lovelace`},
		"errors (unknown tool, invalid arguments, unknown resource, unknown prompt)": {`no-such-tool`, `no-such-prompt`},
	}
	for name, subs := range want {
		rec, ok := s.records[name]
		if !ok {
			t.Errorf("baseline: the direct session did not reach feature %q", name)
			continue
		}
		js := fidPretty(rec)
		for _, sub := range subs {
			if !strings.Contains(js, sub) {
				t.Errorf("baseline: direct session, feature %q lacks %q: the test no longer exercises it as meant\n%s", name, sub, fidTail(js, 3000))
			}
		}
	}
}

// fidEvent is one message the client received, in arrival order.
type fidEvent struct {
	Kind   string          // "result", "error", "transport-error", "notification" or "server-request"
	Method string          // the request's method for results and errors
	Data   json.RawMessage // the result, error object, notification or server request params
	Answer json.RawMessage // for a server request: the response the client's handler produced
}

// fidTap sits between mcp-go's Client and its transport, recording what the client receives.
// It forwards the optional interfaces the client looks for (server→client requests; for HTTP, the
// negotiated protocol version and the standalone GET stream's need for a legacy revision).
type fidTap struct {
	inner transport.Interface
	http  *transport.StreamableHTTP // nil on stdio
	// beforeInitialized, if set, runs before notifications/initialized is sent.
	beforeInitialized func()
	mu                sync.Mutex
	events            []*fidEvent
	changed           chan struct{}
}

var (
	_ transport.BidirectionalInterface = (*fidTap)(nil)
	_ transport.HTTPConnection         = (*fidTap)(nil)
)

func (p *fidTap) record(e *fidEvent) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
	p.signal()
}

func (p *fidTap) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *fidTap) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// waitFor waits up to d until cond holds for the events received since from.
func (p *fidTap) waitFor(ctx context.Context, from int, d time.Duration, cond func([]*fidEvent) bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok := cond(p.events[from:])
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-p.changed:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// capture turns the events in [from, to) that keep accepts into a feature record: the responses in the order
// the requests were made, the notifications grouped by method (each group in arrival order: different
// methods may come on different streams, whose relative order is not defined), and the server requests.
func (p *fidTap) capture(from, to int, keep func(*fidEvent) bool) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var calls, requests []any
	notes := map[string]any{}
	for _, e := range p.events[from:to] {
		if keep != nil && !keep(e) {
			continue
		}
		switch e.Kind {
		case "result":
			calls = append(calls, map[string]any{"method": e.Method, "result": fidDecode(e.Data)})
		case "error":
			calls = append(calls, map[string]any{"method": e.Method, "error": fidDecode(e.Data)})
		case "transport-error":
			calls = append(calls, map[string]any{"method": e.Method, "transportError": fidDecode(e.Data)})
		case "notification":
			group, _ := notes[e.Method].([]any)
			notes[e.Method] = append(group, fidDecode(e.Data))
		case "server-request":
			requests = append(requests, map[string]any{"method": e.Method, "params": fidDecode(e.Data), "clientAnswer": fidDecode(e.Answer)})
		}
	}
	rec := map[string]any{}
	if calls != nil {
		rec["responses"] = calls
	}
	if len(notes) > 0 {
		rec["notifications"] = notes
	}
	if requests != nil {
		rec["serverRequests"] = requests
	}
	return rec
}

func (p *fidTap) Start(ctx context.Context) error { return p.inner.Start(ctx) }
func (p *fidTap) Close() error                    { return p.inner.Close() }
func (p *fidTap) GetSessionId() string            { return p.inner.GetSessionId() }

func (p *fidTap) SendNotification(ctx context.Context, n mcp.JSONRPCNotification) error {
	if n.Method == string(mcp.MethodNotificationInitialized) && p.beforeInitialized != nil {
		p.beforeInitialized()
	}
	return p.inner.SendNotification(ctx, n)
}

func (p *fidTap) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	resp, err := p.inner.SendRequest(ctx, req)
	switch {
	case err != nil:
		p.record(&fidEvent{Kind: "transport-error", Method: req.Method, Data: fidJSON(err.Error())})
	case resp.Error != nil:
		p.record(&fidEvent{Kind: "error", Method: req.Method, Data: fidJSON(resp.Error)})
	default:
		p.record(&fidEvent{Kind: "result", Method: req.Method, Data: append(json.RawMessage(nil), resp.Result...)})
	}
	return resp, err
}

func (p *fidTap) SetNotificationHandler(h func(mcp.JSONRPCNotification)) {
	p.inner.SetNotificationHandler(func(n mcp.JSONRPCNotification) {
		p.record(&fidEvent{Kind: "notification", Method: n.Method, Data: fidJSON(n.Params)})
		h(n)
	})
}

func (p *fidTap) SetRequestHandler(h transport.RequestHandler) {
	bidi, ok := p.inner.(transport.BidirectionalInterface)
	if !ok {
		return
	}
	bidi.SetRequestHandler(func(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
		e := &fidEvent{Kind: "server-request", Method: req.Method, Data: fidJSON(req.Params)}
		p.record(e)
		resp, err := h(ctx, req)
		p.mu.Lock()
		switch {
		case err != nil:
			e.Answer = fidJSON(map[string]any{"handlerError": err.Error()})
		case resp == nil:
			e.Answer = fidJSON("no response")
		case resp.Error != nil:
			e.Answer = fidJSON(map[string]any{"error": resp.Error})
		default:
			e.Answer = fidJSON(map[string]any{"result": resp.Result})
		}
		p.mu.Unlock()
		p.signal()
		return resp, err
	})
}

// SetProtocolVersion passes the negotiated revision to the HTTP transport (its Mcp-Protocol-Version header).
func (p *fidTap) SetProtocolVersion(v string) {
	if p.http != nil {
		p.http.SetProtocolVersion(v)
	}
}

// RequiresLegacyProtocol reports the HTTP transport's need, as the client would have asked it directly.
func (p *fidTap) RequiresLegacyProtocol() bool {
	return p.http != nil && p.http.RequiresLegacyProtocol()
}

// fidGETWatch is the direct client's HTTP transport: it closes open once a GET (the standalone stream) has
// been answered with 200, which the server does only after registering the stream.
type fidGETWatch struct {
	next http.RoundTripper
	open chan struct{}
	once sync.Once
}

func (w *fidGETWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
		w.once.Do(func() { close(w.open) })
	}
	return resp, err
}

func fidJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("unmarshalable %T: %v", v, err))
	}
	return b
}

// fidDecode parses JSON keeping numbers as written (json.Number), so 1 and 1.0 stay distinct.
func fidDecode(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Sprintf("invalid JSON (%v): %s", err, raw)
	}
	return v
}

func fidHasLog(evs []*fidEvent, text string) bool {
	for _, e := range evs {
		if e.Kind == "notification" && e.Method == "notifications/message" && strings.Contains(string(e.Data), text) {
			return true
		}
	}
	return false
}

func fidListChanged(e *fidEvent) bool {
	return e.Kind == "notification" && strings.HasPrefix(e.Method, "notifications/") && strings.HasSuffix(e.Method, "/list_changed")
}

var (
	fidUUID  = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	fidClock = regexp.MustCompile(`\b\d{1,2}:\d{2}:\d{2}(?:[ \x{202F}\x{00A0}]?[AaPp]\.?[Mm]\.?)?`)
)

// fidNormalise rewrites what legitimately differs between two sessions; see the comment at the top.
func fidNormalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := e.(string); ok && k == "blob" {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil && utf8.Valid(b) {
					out[k] = "base64 of: " + fidNormString(string(b))
					continue
				}
			}
			out[k] = fidNormalise(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fidNormalise(e)
		}
		return out
	case string:
		return fidNormString(x)
	}
	return v
}

func fidNormString(s string) string {
	return fidClock.ReplaceAllString(fidUUID.ReplaceAllString(s, "<uuid>"), "<time>")
}

// fidPretty renders a record as indented JSON with sorted keys, one value per line, for comparing and diffing.
func fidPretty(v any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("unmarshalable: %v", err)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// fidDiff is a line diff (longest common subsequence) of a and b with three lines of context.
func fidDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i]})
			i++
		default:
			lines = append(lines, line{'+', y[j]})
			j++
		}
	}
	const around, limit = 3, 150
	near := make([]bool, len(lines))
	for k, l := range lines {
		if l.op != ' ' {
			for d := max(0, k-around); d <= min(len(lines)-1, k+around); d++ {
				near[d] = true
			}
		}
	}
	var sb strings.Builder
	shown, skipped := 0, false
	for k, l := range lines {
		if !near[k] {
			skipped = true
			continue
		}
		if skipped {
			sb.WriteString("  …\n")
			skipped = false
		}
		if shown == limit {
			sb.WriteString("  … (diff cut)\n")
			break
		}
		fmt.Fprintf(&sb, "%c %s\n", l.op, l.text)
		shown++
	}
	return sb.String()
}
