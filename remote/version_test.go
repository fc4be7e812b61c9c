package remote

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestDiscoveredVersion(t *testing.T) {
	const modern = `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`
	tests := []struct {
		name, params, answer, want string
	}{
		{"listed", modern, `{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28","2025-11-25"],"capabilities":{}}}`, "2026-07-28"},
		{"no list", modern, `{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}`, "2026-07-28"},
		{"not listed", modern, `{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2025-11-25"]}}`, "old"},
		{"refused", modern, `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}`, "old"},
		{"no version in the request", `{}`, `{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"]}}`, "old"},
	}
	for _, tt := range tests {
		if got := discoveredVersion([]byte(tt.params), []byte(tt.answer), "old"); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// headerLog records the version and method headers of each POST, by JSON-RPC method.
type headerLog struct {
	mu   sync.Mutex
	seen map[string]http.Header
}

func (l *headerLog) get(method string) http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[method]
}

// After a 2026-07-28 client's server/discover, its requests without a _meta version (ping, logging/setLevel,
// as the official Go SDK sends them) carry the version it settled, with Mcp-Method, and the server answers
// them as 2026-07-28 requests rather than as requests missing a session.
func TestVersionFromServerDiscover(t *testing.T) {
	log := &headerLog{seen: map[string]http.Header{}}
	srv, _ := recordedDev(t, func(w http.ResponseWriter, r *http.Request, method string, seen int) bool {
		log.mu.Lock()
		log.seen[method] = r.Header.Clone()
		log.mu.Unlock()
		return false
	})
	u, _ := url.Parse(srv.URL + "/v1/mcp")
	b := &inbox{}
	c := newClient(t, u.String(), HTTPOnly, b)
	t.Cleanup(func() { c.Close(context.Background()) })
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",`+
		`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`))
	if got := b.wait(t, `"id":1`); !strings.Contains(got, `"supportedVersions"`) {
		t.Fatalf("server/discover: %s", got)
	}
	for i, req := range []struct{ method, params string }{{"ping", ""}, {"logging/setLevel", `,"params":{"level":"info"}`}} {
		method, id := req.method, i+2
		c.Send(mustParse(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q%s}`, id, method, req.params)))
		got := b.wait(t, fmt.Sprintf(`"id":%d`, id))
		h := log.get(method)
		if h.Get(hdrVersion) != "2026-07-28" || h.Get(hdrMethod) != method {
			t.Errorf("%s went out with %s %q, %s %q", method, hdrVersion, h.Get(hdrVersion), hdrMethod, h.Get(hdrMethod))
		}
		// The server's own answer (mcp-go wants the version in _meta as well: it says so with -32602).
		if strings.Contains(got, `"code":-32000`) || strings.Contains(got, "session") {
			t.Errorf("%s: %s", method, got)
		}
	}
}
