package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	discoverLine = `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
		`"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
)

// A 2026-07-28 client that sends ping and logging/setLevel without a _meta version after server/discover (as the
// official Go SDK does) is not told to check the path: the bridge sends the version it discovered, and the client
// reads the server's own answer.
func TestRequestsWithoutMetaAfterServerDiscover(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, discoverLine)
	if m := rb.until(t, float64(1)); m["result"] == nil {
		t.Fatalf("server/discover: %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"info"}}`)
	answers := map[any]map[string]any{}
	for len(answers) < 2 { // the two answers may come in either order
		if m := rb.next(t); m["id"] == float64(2) || m["id"] == float64(3) {
			answers[m["id"]] = m
		}
	}
	for id, m := range answers {
		if m["result"] != nil {
			continue
		}
		e, _ := m["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code, _ := e["code"].(float64); code == -32000 || strings.Contains(msg, "check the path") || strings.Contains(msg, "session") {
			t.Errorf("request %v: the bridge's own error %q (code %v), want the server's answer", id, msg, e["code"])
		}
	}
}

// A server that answers an HTTP 400 whose body is the JSON-RPC error for the request (as 2026-07-28 servers do)
// has that error reach the client unchanged: code, message and data.
func TestJSONRPCErrorBodyIsRelayed(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID json.RawMessage `json:"id"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID,
			"error": map[string]any{"code": -32602, "message": "Unknown tool: nope", "data": map[string]any{"tool": "nope"}}})
		w.Write(b)
	}))
	t.Cleanup(upstream.Close)
	rb := startRaw(t, bridgeEnv(t), "--transport", "http-only", upstream.URL+"/mcp")
	rb.send(t, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope","arguments":{},`+
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`)
	m := rb.until(t, float64(7))
	e, _ := m["error"].(map[string]any)
	data, _ := e["data"].(map[string]any)
	if e["code"] != float64(-32602) || e["message"] != "Unknown tool: nope" || data["tool"] != "nope" {
		t.Fatalf("answer %v, want the server's own error unchanged", m)
	}
}
