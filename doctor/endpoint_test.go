package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEndpointAnswers(t *testing.T) {
	html := map[string]string{"Content-Type": "text/html"}
	for _, c := range []struct {
		name        string
		routes      map[string]route
		path        string
		st          Status
		detail, fix string
	}{
		{"firewall page", map[string]route{"/mcp": {403, html, "<html>Access denied</html>"}}, "/mcp",
			Fail, "403 with an HTML page", "WAF or bot-protection exception"},
		{"plain 403", map[string]route{"/mcp": {403, map[string]string{"Content-Type": "text/plain"}, "forbidden"}}, "/mcp",
			Fail, "refuses this client outright", "IP allowlist"},
		{"cloudflare page without cf-mitigated", map[string]route{"/mcp": {503, map[string]string{"Content-Type": "text/html", "Server": "cloudflare"},
			"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"}}, "/mcp",
			Fail, `Cloudflare's bot protection challenge (server: cloudflare, title "Just a moment...")`, "WAF skip rule"},
		{"rate limited", map[string]route{"/mcp": {429, nil, ""}}, "/mcp", Fail, "rate limiting (429)", "wait a minute"},
		{"server error", map[string]route{"/mcp": {502, nil, "bad gateway"}}, "/mcp", Fail, "failed with HTTP 502: bad gateway", "try again later"},
		{"teapot", map[string]route{"/mcp": {418, nil, "I'm a teapot"}}, "/mcp", Fail, "answered HTTP 418, not MCP", "check that the URL"},
		{"wrong path, nothing found", map[string]route{}, "/api", Fail, "no MCP endpoint at", "usually /mcp, /v1/mcp (MeshAI) or /sse"},
		{"web page", map[string]route{"/": {200, html, "<!doctype html><html>Welcome</html>"}}, "/", Fail, "HTTP 200 with an HTML page", "usually /mcp"},
		{"wrong path, /sse found", map[string]route{"GET /sse": {200, map[string]string{"Content-Type": "text/event-stream"}, "event: endpoint\ndata: /messages\n\n"}}, "/api",
			Fail, "/sse answers like MCP", "/sse"},
		{"legacy SSE endpoint", map[string]route{"POST /sse": {405, nil, ""}, "GET /sse": {200, map[string]string{"Content-Type": "text/event-stream"}, "event: endpoint\ndata: /messages\n\n"}}, "/sse",
			Warn, "legacy HTTP+SSE endpoint", "Streamable HTTP"},
		{"open over SSE", map[string]route{"POST /mcp": {200, map[string]string{"Content-Type": "text/event-stream"},
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-06-18\",\"serverInfo\":{\"name\":\"sse-server\",\"version\":\"1\"}}}\n\n"}}, "/mcp",
			OK, "sse-server 1, protocol 2025-06-18", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, c.routes)
			r := unit(t, Options{URL: srv.URL + c.path}, (*runner).checkURL, (*runner).checkEndpoint)
			want(t, r.rep, "mcp.endpoint", c.st, c.detail, c.fix)
		})
	}
}

func TestChallenge(t *testing.T) {
	for _, c := range []struct {
		name, header string
		key          string // MESHAI_API_KEY
		st           Status
		detail, fix  string
	}{
		{"basic only", `Basic realm="api"`, "", Fail, "names no Bearer scheme (only Basic)", "pass it with --header \"Authorization: …\" or MESHAI_API_KEY"},
		{"basic only, key set", `Basic realm="api"`, "k", Warn, "names no Bearer scheme (only Basic)", "the bridge sends MESHAI_API_KEY as a Bearer token, which this server does not ask for: pass the credential it wants with --header"},
		{"bad resource_metadata", `Bearer resource_metadata="javascript:alert(1)"`, "", Fail, "is not usable", "https (or loopback http) URL"},
		{"no scope", `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`, "", OK, "no scope", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, map[string]route{"/mcp": {401, map[string]string{"WWW-Authenticate": c.header}, ""}})
			getenv := testEnv(t)
			if c.key != "" {
				getenv = testEnv(t, "MESHAI_API_KEY", c.key)
			}
			r := unit(t, Options{URL: srv.URL + "/mcp", Getenv: getenv}, (*runner).checkURL, (*runner).checkEndpoint, (*runner).checkChallenge)
			want(t, r.rep, "mcp.challenge", c.st, c.detail, c.fix)
		})
	}
}

// mcpServer answers initialize (id 1) and tools/list (id 2) with the given results or errors, when the bearer is
// "key"; anything else gets 401.
func mcpServer(t *testing.T, initialize, tools string, authStatus int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			return
		}
		if r.Header.Get("Authorization") != "Bearer key" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if authStatus != 0 {
			if authStatus == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "120")
			}
			w.WriteHeader(authStatus)
			_, _ = io.WriteString(w, "not for you")
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		body := map[string]string{"initialize": initialize, "tools/list": tools}[m.Method]
		if body == "" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Mcp-Session-Id", "s1")
		_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,%s}`, m.ID, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRoundTrip(t *testing.T) {
	okInit := `"result":{"protocolVersion":"2025-06-18","serverInfo":{"name":"x","version":"2"}}`
	for _, c := range []struct {
		name             string
		initialize, list string
		authStatus       int
		id               string
		st               Status
		detail, fix      string
	}{
		{"paged tools", okInit, `"result":{"tools":[{"name":"a"},{"name":"b"}],"nextCursor":"c"}`, 0, "session.tools", OK, "2 tools on the first page (more follow)", ""},
		{"initialize error", `"error":{"code":-32602,"message":"unsupported protocol version"}`, "", 0, "session.initialize", Fail, "unsupported protocol version", "fix its initialize handling"},
		{"tools/list error", okInit, `"error":{"code":-32601,"message":"method not found"}`, 0, "session.tools", Fail, "tools/list failed: JSON-RPC error -32601", "must fix tools/list"},
		{"403", okInit, "", 403, "session.initialize", Fail, "refused access (403)", "lacks permission"},
		{"500", okInit, "", 500, "session.initialize", Fail, "answered HTTP 500, not a JSON-RPC response", "run doctor again"},
		{"429 beyond the step's time", okInit, "", 429, "session.initialize", Fail, "rate limiting (429): it asks to wait", "run doctor again after"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := mcpServer(t, c.initialize, c.list, c.authStatus)
			rep := run(t, Options{URL: srv.URL + "/mcp", Getenv: testEnv(t, "MESHAI_API_KEY", "key")})
			want(t, rep, c.id, c.st, c.detail, c.fix)
			if strings.Contains(dump(rep), "Bearer key") {
				t.Error("the key shows")
			}
		})
	}
}

// A server that takes the authenticated initialize and never answers: the step's time limit ends the wait, and
// the session is closed (every Send returned) before the check reports.
func TestRoundTripNoAnswer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			_, _ = io.Copy(io.Discard, r.Body) // read, so that the server notices the client going away
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test
	r := unit(t, Options{URL: srv.URL + "/mcp", Getenv: testEnv(t, "MESHAI_API_KEY", "key")},
		(*runner).checkURL, (*runner).checkEndpoint, (*runner).checkStored)
	want(t, r.rep, "mcp.endpoint", OK, "answered 401", "")
	// The server never answers, so any step timeout ends the same way; a short one keeps the test short.
	r.opts.Timeout = 200 * time.Millisecond
	r.checkRoundTrip(context.Background())
	want(t, r.rep, "session.initialize", Fail, "no answer from", "check your network")
	want(t, r.rep, "session.tools", Skip, "initialize did not succeed", "")
}
