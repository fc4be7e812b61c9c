package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// A server whose endpoint moved from /v1/mcp to /mcp (the reference server's mcp-404 fault): the bridge, given
// the old URL, finds the new one, says so in its log, and the session works there.
func TestFaultMCP404EndpointIsFound(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{APIKey: testKey, Faults: []devserver.Fault{devserver.FaultMCP404}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	if m := rb.until(t, float64(1)); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m := rb.until(t, float64(2)); m["result"] == nil {
		t.Fatalf("tools/list: %v", m)
	}
	if line := "the server's MCP endpoint is at " + srv.URL + "/mcp; using it"; !strings.Contains(rb.stderr.String(), line) {
		t.Errorf("the log does not say %q", line)
	}
}

// The client's initialize failed (here the server failed it with 503): the bridge does not stay without a
// session, answering "check the path" for ever; the next request opens one by replaying the initialize.
func TestSessionOpenedAfterFailedInitialize(t *testing.T) {
	var initializes atomic.Int32
	dev := devserver.New(devserver.Config{APIKey: testKey}).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"method":"initialize"`)) && initializes.Add(1) == 1 {
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			return
		}
		dev.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rb := startRaw(t, bridgeEnv(t), "--transport", "http-only", srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	m := rb.until(t, float64(1))
	if e, _ := m["error"].(map[string]any); e == nil || !strings.Contains(e["message"].(string), "503") {
		t.Fatalf("initialize: %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m := rb.until(t, float64(2)); m["result"] == nil {
		t.Fatalf("tools/list: %v", m)
	}
	if n := initializes.Load(); n != 2 {
		t.Errorf("the server saw %d initialize requests, want 2 (the client's and one replay)", n)
	}
}
