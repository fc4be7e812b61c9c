package e2e

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// When the server's tools are missing for a cause other than the sign-in, the bridge's own initialize answer
// (its title and instructions) and a tool call name that cause — a rate-limited MCP endpoint (answered within the
// sign-in wait, not after the 30 s the server asked for), nothing listening, a plain web server — and never send
// the user to a sign-in link. A sign-in held up by its registration endpoint's rate limit says it waits for it.
func TestHandshakeNamesTheRealCause(t *testing.T) {
	rateLimited := func(f devserver.Fault) func(t *testing.T) string {
		return func(t *testing.T) string {
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true,
				Faults: []devserver.Fault{f}, RetryAfter: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			return srv.URL + "/v1/mcp"
		}
	}
	tests := []struct {
		name   string
		server func(t *testing.T) string // the URL the bridge is given
		title  string
		want   string // in the instructions and in a tool call's answer
		// passing: a tool call's answer the bridge may give before the cause shows (the sign-in starting).
		passing string
	}{
		{"MCP endpoint rate limited", rateLimited(devserver.FaultRateLimitMCP),
			"127.0.0.1 (rate limited)", "127.0.0.1 is rate limiting its MCP endpoint until ", ""},
		{"nothing listening", func(t *testing.T) string { return "http://127.0.0.1:" + freePort(t) + "/mcp" },
			"127.0.0.1 (not connected)", "nothing is listening there", ""},
		{"a plain web server", func(t *testing.T) string {
			web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusNotImplemented) // what Python's http.server answers a POST
				_, _ = w.Write([]byte("<html><title>Error response</title>Unsupported method ('POST')</html>"))
			}))
			t.Cleanup(web.Close)
			return web.URL + "/mcp"
		}, "127.0.0.1 (not an MCP endpoint)", "is not an MCP endpoint (it answered HTTP 501 to an MCP request): check the URL", ""},
		{"sign-in registration rate limited", rateLimited(devserver.FaultRateLimitRegister),
			"127.0.0.1 (signing in)", "Waiting for 127.0.0.1's rate limit until ", "call the meshai_sign_in tool for the sign-in link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := startRaw(t, signInEnv(t.TempDir()), "--no-browser", "--sign-in-wait", "300ms", tt.server(t))
			rb.send(t, initLine)
			res, _ := rb.until(t, float64(1))["result"].(map[string]any)
			if res == nil {
				t.Fatal("initialize failed: the bridge's handshake must hold")
			}
			title := res["serverInfo"].(map[string]any)["title"]
			instructions, _ := res["instructions"].(string)
			// A sign-in that has not reached its rate limit yet is told as a sign-in: the tool call below tells the wait.
			early := tt.passing != "" && strings.Contains(instructions, "Signing in to 127.0.0.1 is not finished")
			if title != tt.title || !strings.Contains(instructions, tt.want) && !early {
				t.Errorf("initialize answer: title %q, instructions %q; want %q and %q", title, instructions, tt.title, tt.want)
			}
			if tt.passing == "" && (strings.Contains(instructions, "sign-in link") || strings.Contains(instructions, "Signing in")) {
				t.Errorf("a cause that is not the sign-in is told as one: %q", instructions)
			}
			rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			deadline := time.Now().Add(hangGuard) // a guard against a hang, not a window the test is judged by
			for id := 2; ; id++ {
				rb.send(t, `{"jsonrpc":"2.0","id":`+strconv.Itoa(id)+`,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`)
				text := toolText(rb.until(t, float64(id)))
				if strings.Contains(text, tt.want) {
					if strings.Contains(text, "nothing is lost") || strings.Count(text, "try again") > 1 {
						t.Errorf("a tool call answers %q: more than one thing to do", text)
					}
					break
				}
				if tt.passing == "" || !strings.Contains(text, tt.passing) || time.Now().After(deadline) {
					t.Fatalf("a tool call answers %q; want %q", text, tt.want)
				}
			}
		})
	}
}

// toolText is the text of a tools/call answer.
func toolText(m map[string]any) string {
	res, _ := m["result"].(map[string]any)
	content, _ := res["content"].([]any)
	if len(content) == 0 {
		return ""
	}
	text, _ := content[0].(map[string]any)["text"].(string)
	return text
}
