package remote

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// syncBuffer is a log destination the client's goroutines may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// legacyOnly is mcp-go's legacy HTTP+SSE server, at /sse and /message; every other path answers 404.
func legacyOnly(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(server.NewSSEServer(server.NewMCPServer("legacy", "1", server.WithToolCapabilities(true))))
	t.Cleanup(srv.Close)
	return srv.URL
}

// nothingHere answers 404 to everything and notes the paths asked for.
func nothingHere(t *testing.T, paths *[]string) string {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*paths = append(*paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// website serves a web site at / (a page for GET, 404 for POST) and the reference server at /v1/mcp.
func website(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/v1/mcp", devserver.New(devserver.Config{APIKey: "k"}).Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>MeshAI</title>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// A URL that answers 404 to the client's first message is not the end: the usual paths on its origin are
// probed in order, and the first that answers like MCP is used from then on, with a log line that says so.
func TestMovedEndpointIsFound(t *testing.T) {
	moved, err := devserver.Listen("127.0.0.1:0", devserver.Config{APIKey: "k", Faults: []devserver.Fault{devserver.FaultMCP404}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { moved.Close() })
	plain := startDev(t)
	legacy, site := legacyOnly(t), website(t)
	var asked []string
	tests := []struct {
		name   string
		url    string
		mode   Mode
		first  string // the client's first request
		want   string // in the answer to it
		usedAt string // the endpoint the log names; "" for none
	}{
		{"/v1/mcp moved to /mcp", moved.URL + "/v1/mcp", HTTPFirst, initialize, `"result"`, moved.URL + "/mcp"},
		{"/v1/mcp moved to /mcp (http-only)", moved.URL + "/v1/mcp", HTTPOnly, initialize, `"result"`, moved.URL + "/mcp"},
		{"a URL without a path", plain.URL, HTTPFirst, initialize, `"result"`, plain.URL + "/v1/mcp"},
		{"a URL without a path, server/discover first", plain.URL, HTTPOnly,
			`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
				`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`,
			`"supportedVersions"`, plain.URL + "/v1/mcp"},
		{"a web site at the root", site, HTTPFirst, initialize, `"result"`, site + "/v1/mcp"},
		{"a legacy server at /sse", legacy, HTTPFirst, initialize, `"result"`, legacy + "/sse"},
		{"nothing anywhere", nothingHere(t, &asked), HTTPFirst, initialize, "check the path", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			u, _ := url.Parse(tt.url)
			ts, _ := auth.APIKey("k")
			b := &inbox{}
			c := New(Options{URL: u, Mode: tt.mode, Token: ts, Deliver: b.deliver,
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			t.Cleanup(func() { c.Close(context.Background()) })
			c.Send(mustParse(t, tt.first))
			if got := b.wait(t, `"id":1`); !strings.Contains(got, tt.want) {
				t.Fatalf("first answer: %s, want %q", got, tt.want)
			}
			if tt.usedAt == "" {
				if strings.Contains(logs.String(), "using it") {
					t.Errorf("log: %s", logs.String())
				}
				return
			}
			if line := "the server's MCP endpoint is at " + tt.usedAt; !strings.Contains(logs.String(), line) {
				t.Errorf("the log does not say %q:\n%s", line, logs.String())
			}
			if tt.first != initialize {
				return
			}
			c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`))
			if got := b.wait(t, `"id":2`); !strings.Contains(got, `"tools"`) {
				t.Errorf("tools/list: %s", got)
			}
		})
	}
	want := []string{"POST /", "GET /", "POST /v1/mcp", "POST /mcp", "GET /sse"}
	if strings.Join(asked, ", ") != strings.Join(want, ", ") {
		t.Errorf("nothing anywhere: asked %q, want %q", asked, want)
	}
	// The probe's own initialize opened a session on the moved server: it was ended, the clients' were too.
	if n := moved.Stats().Sessions; n != 0 {
		t.Errorf("%d sessions left open on the server", n)
	}
}
