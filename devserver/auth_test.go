package devserver

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

func TestAPIKey(t *testing.T) {
	r := start(t, 0)
	const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",` +
		`"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name, method, path, auth string
		wantStatus               int
		wantChallenge            string
	}{
		{"mcp missing", http.MethodPost, "/v1/mcp", "", 401, `Bearer realm="meshai"`},
		{"mcp wrong scheme", http.MethodPost, "/v1/mcp", "Basic " + testKey, 401, `Bearer realm="meshai"`},
		{"mcp wrong key", http.MethodPost, "/v1/mcp", "Bearer nope", 401, `Bearer realm="meshai", error="invalid_token"`},
		{"mcp right key", http.MethodPost, "/v1/mcp", "Bearer " + testKey, 200, ""},
		{"mcp scheme case", http.MethodPost, "/v1/mcp", "bearer " + testKey, 200, ""},
		{"sse missing", http.MethodGet, "/v1/sse", "", 401, `Bearer realm="meshai"`},
		{"sse wrong key", http.MethodGet, "/v1/sse", "Bearer nope", 401, `Bearer realm="meshai", error="invalid_token"`},
		{"message missing", http.MethodPost, "/v1/message?sessionId=x", "", 401, `Bearer realm="meshai"`},
		{"healthz needs no key", http.MethodGet, "/healthz", "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testCtx(t), tc.method, r.URL+tc.path, strings.NewReader(initBody))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantChallenge)
			}
			if tc.path == "/healthz" && string(body) != "ok" {
				t.Errorf("healthz body %q", body)
			}
		})
	}
}

func TestAPIKeyWithClient(t *testing.T) {
	r := start(t, 0)
	tests := []struct {
		name    string
		headers map[string]string
		wantErr bool
	}{
		{"missing", nil, true},
		{"wrong", map[string]string{"Authorization": "Bearer wrong"}, true},
		{"right", authHeaders(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := transport.NewStreamableHTTP(r.URL+"/v1/mcp", transport.WithHTTPHeaders(tc.headers))
			if err != nil {
				t.Fatal(err)
			}
			c := client.NewClient(tr)
			defer c.Close()
			if err := c.Start(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			req := mcp.InitializeRequest{}
			req.Params.ProtocolVersion = mcp.ProtocolVersion20251125
			req.Params.ClientInfo = mcp.Implementation{Name: "t", Version: "1"}
			res, err := c.Initialize(testCtx(t), req)
			if tc.wantErr {
				var authErr *transport.AuthorizationRequiredError
				if !errors.As(err, &authErr) {
					t.Fatalf("Initialize error %v, want AuthorizationRequiredError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Initialize: %v", err)
			}
			if res.ServerInfo.Name != "meshai" || res.ServerInfo.Version != "0.1.0-dev" {
				t.Errorf("server info %+v", res.ServerInfo)
			}
			if res.ProtocolVersion != mcp.ProtocolVersion20251125 {
				t.Errorf("negotiated %q, want the session-based %q", res.ProtocolVersion, mcp.ProtocolVersion20251125)
			}
			caps := res.Capabilities
			if caps.Tools == nil || !caps.Tools.ListChanged || caps.Resources == nil || !caps.Resources.Subscribe ||
				!caps.Resources.ListChanged || caps.Prompts == nil || caps.Logging == nil || caps.Elicitation == nil {
				t.Errorf("capabilities %+v", caps)
			}
			if c.GetSessionId() == "" {
				t.Error("no session id: want a stateful session")
			}
		})
	}
}

// TestHostHeader checks mcp-go's DNS-rebinding protection: loopback Host values pass, others get 403.
func TestHostHeader(t *testing.T) {
	r := start(t, 0)
	port := r.Addr[strings.LastIndex(r.Addr, ":"):]
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1" + port, http.StatusOK},
		{"localhost" + port, http.StatusOK},
		{"[::1]" + port, http.StatusOK},
		{"evil.example" + port, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",` +
				`"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, r.URL+"/v1/mcp", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
