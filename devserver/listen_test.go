package devserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestCloseAndListenAgain simulates an upstream crash: Close drops open streams, the same address can be
// listened on again, and sessions of the old process are gone there.
func TestCloseAndListenAgain(t *testing.T) {
	first, err := Listen("127.0.0.1:0", Config{APIKey: testKey, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	if first.URL != "http://"+first.Addr {
		t.Errorf("URL %q, Addr %q", first.URL, first.Addr)
	}
	old := rawSession(t, first)
	sse := openSSE(t, first)
	get := old.do(testCtx(t), http.MethodGet, nil, map[string]string{"Accept": "text/event-stream"})
	if get.StatusCode != http.StatusOK {
		t.Fatalf("standalone GET: %d", get.StatusCode)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, body := range map[string]io.ReadCloser{"standalone GET": get.Body, "legacy SSE": sse} {
		if err := drained(body); err != nil {
			t.Errorf("%s stream still open after Close: %v", name, err)
		}
	}

	second, err := Listen(first.Addr, Config{APIKey: testKey, Logger: testLogger()})
	if err != nil {
		t.Fatalf("Listen again on %s: %v", first.Addr, err)
	}
	t.Cleanup(func() { _ = second.Close() })
	if second.Addr != first.Addr || second.URL != first.URL {
		t.Errorf("restarted on %s, want %s", second.Addr, first.Addr)
	}

	stale := &raw{t: t, base: second.URL, id: old.id}
	tests := []struct {
		name   string
		method string
		body   any
		header map[string]string
		want   int
	}{
		{"POST with old session", http.MethodPost, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, nil, 404},
		{"GET with old session", http.MethodGet, nil, map[string]string{"Accept": "text/event-stream"}, 404},
		{"resume with old session", http.MethodGet, nil, map[string]string{"Accept": "text/event-stream", "Last-Event-ID": "1"}, 404},
		{"DELETE old session", http.MethodDelete, nil, nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := stale.do(testCtx(t), tc.method, tc.body, tc.header)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	c := connect(t, second)
	if _, err := c.ListTools(testCtx(t), mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("new session after restart: %v", err)
	}
}

// TestSessionHeaderRequired checks GET and DELETE without a session.
func TestSessionHeaderRequired(t *testing.T) {
	r := start(t, 0)
	anon := &raw{t: t, base: r.URL}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		resp := anon.do(testCtx(t), method, nil, map[string]string{"Accept": "text/event-stream"})
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s without session: %d, want 400", method, resp.StatusCode)
		}
	}
}

// openSSE opens a legacy SSE stream and waits for its endpoint event.
func openSSE(t *testing.T, r *Running) io.ReadCloser {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, r.URL+"/v1/sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "event: endpoint\n" {
		t.Fatalf("first SSE line %q: %v", line, err)
	}
	return resp.Body
}

// drained reads body to its end. The stream was opened with testCtx, whose deadline only guards against a hang:
// a stream that ended only when that deadline passed was never closed by the server.
func drained(body io.ReadCloser) error {
	defer body.Close()
	if _, err := io.Copy(io.Discard, body); errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("the stream ended only with the test's deadline: %w", err)
	}
	return nil
}
