package remote

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
)

// hostile is an MCP endpoint that answers initialize properly and then misbehaves on tools/call the way the
// test says, while ping keeps working: one bad request must not take the others down.
func hostile(t *testing.T, misbehave func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var body [4096]byte
		n, _ := r.Body.Read(body[:])
		req := string(body[:n])
		id := req[strings.Index(req, `"id":`)+5:]
		id = id[:strings.IndexAny(id, ",}")]
		switch {
		case strings.Contains(req, `"initialize"`):
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Mcp-Session-Id", "s1")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"h","version":"1"}}}`, id)
		case strings.Contains(req, `"tools/call"`):
			misbehave(w, r)
		case strings.Contains(req, `"ping"`):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{}}`, id)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sseStart(w http.ResponseWriter) http.Flusher {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	return f
}

// A server that misbehaves mid-answer costs the affected request an error that says what happened, within the
// stall timeout (or at the size limit), and nothing else: the next request works.
func TestHostileServerAnswers(t *testing.T) {
	tests := []struct {
		name      string
		misbehave func(w http.ResponseWriter, r *http.Request)
		want      string
		stall     time.Duration // the client's StallTimeout; 0: 300 ms, for the cases that end by it
	}{
		{"stops answering mid-stream", func(w http.ResponseWriter, r *http.Request) {
			f := sseStart(w)
			fmt.Fprint(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
			f.Flush()
			<-r.Context().Done()
		}, "sent nothing usable", 0},
		{"never ends an SSE stream of keep-alive comments", func(w http.ResponseWriter, r *http.Request) {
			f := sseStart(w)
			for r.Context().Err() == nil {
				fmt.Fprint(w, ": keep-alive\n\n")
				f.Flush()
				time.Sleep(20 * time.Millisecond)
			}
		}, "sent nothing usable", 0},
		{"trickles bytes that never make an event", func(w http.ResponseWriter, r *http.Request) {
			f := sseStart(w)
			fmt.Fprint(w, "data: {")
			for r.Context().Err() == nil {
				fmt.Fprint(w, "x")
				f.Flush()
				time.Sleep(10 * time.Millisecond)
			}
		}, "sent nothing usable", 0},
		{"stalls in a JSON body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"jsonrpc":"2.0","id":`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, "sent nothing usable", 0},
		{"sends an event larger than the limit (the 1 GB event)", func(w http.ResponseWriter, r *http.Request) {
			f := sseStart(w)
			fmt.Fprint(w, "data: ")
			chunk := strings.Repeat("x", 64<<10)
			for i := 0; i < 16<<10 && r.Context().Err() == nil; i++ { // up to 1 GiB, but the client stops reading long before
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
				f.Flush()
			}
		}, "over the bridge's limit of 1 MiB", hangGuard}, // ends at the size limit: a stall timer a slow machine could outrun would only hide it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostile(t, tt.misbehave)
			u, _ := url.Parse(srv.URL)
			ts, _ := auth.APIKey("k")
			b := &inbox{}
			stall := tt.stall
			if stall == 0 {
				stall = 300 * time.Millisecond
			}
			c := New(Options{URL: u, Mode: HTTPOnly, Token: ts, Deliver: b.deliver, StallTimeout: stall, MaxMessageBytes: 1 << 20})
			t.Cleanup(func() { c.Close(t.Context()) })
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			b.wait(t, `"id":1`)
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`))
			if got := b.wait(t, `"id":2`); !strings.Contains(got, tt.want) || !strings.Contains(got, `"error"`) {
				t.Errorf("answer to the affected request: %s", got)
			}
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`))
			if got := b.wait(t, `"id":3`); !strings.Contains(got, `"result"`) {
				t.Errorf("the next request: %s", got)
			}
		})
	}
}

// A redirect from the MCP endpoint to another origin is refused: the bearer token never travels there.
func TestRedirectToAnotherOriginKeepsTheToken(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/mcp", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ts, _ := auth.APIKey("secret-key")
	b := &inbox{}
	c := New(Options{URL: u, Mode: HTTPOnly, Token: ts, Deliver: b.deliver})
	defer c.Close(t.Context())
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	if got := b.wait(t, `"id":1`); !strings.Contains(got, "redirect") {
		t.Errorf("answer: %s", got)
	}
	if leaked.Load() != 0 {
		t.Fatal("the bearer token was sent to another origin")
	}
}
