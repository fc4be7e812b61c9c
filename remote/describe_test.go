package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

func TestDescribeNetError(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/v1/mcp?key=secret")
	tests := []struct {
		name string
		url  string // "" for u
		err  error
		want string
	}{
		{"refused", "", &net.OpError{Op: "dial", Err: &net.OpError{Err: syscall.ECONNREFUSED}}, "connection refused by mcp.example.com:443"},
		{"dns", "", &net.DNSError{Err: "no such host", Name: "mcp.example.com", IsNotFound: true}, "cannot resolve host"},
		{"plain http port", "", errors.New("http: server gave HTTP response to HTTPS client"), "speaks plain HTTP"},
		{"reset", "", fmt.Errorf("read: %w", syscall.ECONNRESET), "was reset"},
		{"closed after sending (server restart)", "", fmt.Errorf("Post \"http://x/mcp\": %w", io.EOF), "closed before the answer"},
		{"other", "", &url.Error{Op: "Post", URL: u.String(), Err: errors.New("boom")},
			`cannot reach mcp.example.com:443: Post "https://mcp.example.com/v1/mcp?…": boom`},
		{"IPv6 host, default port", "https://[::1]/mcp?key=secret", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED},
			"connection refused by [::1]:443"},
		{"IPv6 host, own port", "http://[2001:db8::1]:8080/mcp", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded},
			"no answer from [2001:db8::1]:8080 in time"},
		{"rate limited beyond the cap", "", &url.Error{Op: "Post", URL: u.String(), Err: &ratelimit.Error{Endpoint: ratelimit.Endpoint(u), Status: 429,
			Wait: 45 * time.Second, Until: time.Date(2026, 3, 4, 12, 3, 49, 0, time.UTC)}},
			"https://mcp.example.com/v1/mcp is rate limiting (429): it asks to wait 45s (until 12:03:49 UTC); the request was not sent again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			where := u
			if tt.url != "" {
				where, _ = url.Parse(tt.url)
			}
			got := describeNetError(where, tt.err).Message
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("the query (which may hold credentials) leaked: %q", got)
			}
		})
	}
}

func TestDescribeStatus(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/v1/mcp")
	tests := []struct {
		status int
		ct     string
		body   string
		want   string
	}{
		{401, "application/json", `{}`, "refused the credentials (401)"},
		{403, "text/html", `<!DOCTYPE html><title>Just a moment...</title>`, `a Cloudflare challenge page (title "Just a moment...")`},
		{403, "text/html", `<!DOCTYPE html><title>Forbidden</title>`, "403 with an HTML page"},
		{403, "application/json", `{}`, "lack permission"},
		{404, "text/plain", "not found", "/v1/mcp"},
		{429, "", "", "is rate limiting (429): try again later"},
		{502, "text/plain", "bad gateway", "try again later"},
		{501, "text/html", "<html><title>Error response</title>Unsupported method ('POST')</html>", "is not an MCP endpoint (it answered HTTP 501 to an MCP request): check the URL"},
		{405, "", "", "is not an MCP endpoint (it answered HTTP 405 to an MCP request): check the URL"},
		{200, "", "<html><body>login</body></html>", "HTML page"},
		{418, "text/plain", "I'm a\nteapot\x00", "I'm a teapot"},
		{418, "text/plain", "", "answered HTTP 418: (empty body)"},
		{418, "text/plain", strings.Repeat("x", 300), "answered HTTP 418: " + strings.Repeat("x", 199) + "…"},
	}
	for _, tt := range tests {
		got := describeStatus(u, tt.status, tt.ct, []byte(tt.body))
		if !strings.Contains(got.Message, tt.want) || got.Status != tt.status {
			t.Errorf("%d %s: got %q, want it to contain %q", tt.status, tt.ct, got.Message, tt.want)
		}
	}
}

func TestResolveEndpointRefusesOtherOrigins(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/v1/sse")
	c := New(Options{URL: u})
	for in, want := range map[string]string{
		"/v1/message?sessionId=abc":                   "http://127.0.0.1:8080/v1/message?sessionId=abc",
		"message?sessionId=abc":                       "http://127.0.0.1:8080/v1/message?sessionId=abc",
		"http://127.0.0.1:8080/v1/message?sessionId=": "http://127.0.0.1:8080/v1/message?sessionId=",
	} {
		got, err := c.sse.resolveEndpoint(in)
		if err != nil || got.String() != want {
			t.Errorf("%q: got %v %v, want %s", in, got, err, want)
		}
	}
	for _, evil := range []string{"https://evil.example/steal", "//evil.example/x", "http://127.0.0.1:9999/v1/message"} {
		if _, err := c.sse.resolveEndpoint(evil); err == nil {
			t.Errorf("%q: an endpoint on another origin must be refused", evil)
		}
	}
}

func TestVersionHeaders(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1/mcp")
	c := New(Options{URL: u})
	c.version = "2025-11-25"
	modern := mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"mesh_execute","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`)
	req, _ := http.NewRequest(http.MethodPost, u.String(), nil)
	c.versionHeaders(req, &modern)
	if req.Header.Get(hdrVersion) != "2026-07-28" || req.Header.Get(hdrMethod) != "tools/call" || req.Header.Get(hdrName) != "mesh_execute" {
		t.Errorf("2026-07-28 headers: %v", req.Header)
	}
	classic := mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"meshai://docs/quickstart"}}`)
	req, _ = http.NewRequest(http.MethodPost, u.String(), nil)
	c.versionHeaders(req, &classic)
	if req.Header.Get(hdrVersion) != "2025-11-25" || req.Header.Get(hdrName) != "" {
		t.Errorf("negotiated version header: %v", req.Header)
	}
	init := mustParse(t, `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}`)
	req, _ = http.NewRequest(http.MethodPost, u.String(), nil)
	c.versionHeaders(req, &init)
	if req.Header.Get(hdrVersion) != "" {
		t.Errorf("initialize must not carry a negotiated version: %v", req.Header)
	}
}

func TestParseMode(t *testing.T) {
	for _, ok := range []string{"http-first", "sse-first", "http-only", "sse-only"} {
		if _, err := ParseMode(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := ParseMode("websocket"); err == nil {
		t.Error("unknown modes must be refused")
	}
}
