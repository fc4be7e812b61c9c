package remote

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
)

// An answer that does not fit fails its request with CauseTooLarge and a message giving its size and the limit;
// the budget is whole again afterwards, and the next request works.
func TestAnswersOverTheBudget(t *testing.T) {
	result := func(id string, n int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}]}}`, id, strings.Repeat("x", n))
	}
	idOf := func(r *http.Request) string { return "2" }
	tests := []struct {
		name      string
		misbehave func(w http.ResponseWriter, r *http.Request)
		held      int64
		want      string
	}{
		{"a JSON body over the one-message limit, its length announced", func(w http.ResponseWriter, r *http.Request) {
			body := result(idOf(r), 600<<10)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			fmt.Fprint(w, body)
		}, 0, fmt.Sprintf("the server's answer was %s, over the bridge's limit of 512 KiB", exactly(int64(len(result("2", 600<<10)))))},
		{"an SSE event over the one-message limit", func(w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			fmt.Fprintf(w, "data: %s\n\n", result(idOf(r), 600<<10))
		}, 0, "over the bridge's limit of 512 KiB for one message"},
		{"an SSE event that does not fit beside what is held", func(w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			fmt.Fprintf(w, "data: %s\n\n", result(idOf(r), 300<<10))
		}, 800 << 10, "did not fit in the bridge's memory for messages: 800 KiB of other messages were held at once, and the bridge holds at most 1 MiB"},
		{"a JSON body that does not fit beside what is held", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, result(idOf(r), 300<<10))
		}, 800 << 10, "did not fit in the bridge's memory for messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostile(t, tt.misbehave)
			u, _ := url.Parse(srv.URL)
			budget := membudget.New(1 << 20)
			budget.Take(tt.held)
			b := &inbox{}
			var cause Cause
			c := New(Options{URL: u, Mode: HTTPOnly, Deliver: b.deliver, Budget: budget,
				Advise: func(e *UpstreamError) string { cause = e.Cause; return "" }})
			t.Cleanup(func() { c.Close(t.Context()) })
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			b.wait(t, `"id":1`)
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`))
			if got := b.wait(t, `"id":2`); !strings.Contains(got, `"error"`) || !strings.Contains(got, tt.want) {
				t.Errorf("answer: %s\nwant it to contain %q", got, tt.want)
			}
			if cause != CauseTooLarge {
				t.Errorf("cause %v, want CauseTooLarge", cause)
			}
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`))
			if got := b.wait(t, `"id":3`); !strings.Contains(got, `"result"`) {
				t.Errorf("the next request: %s", got)
			}
			if h := budget.Held(); h != tt.held {
				t.Errorf("the budget holds %d, want %d", h, tt.held)
			}
		})
	}
}

// An answer that comes on the GET stream (the POST was accepted with 202) and does not fit fails its request
// there: the stream's reader sees its id in the message's start, and the request does not wait for ever.
func TestAnswerOnTheGETStreamOverTheLimit(t *testing.T) {
	answers := make(chan string, 1)
	srv := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		answers <- "2"
		w.WriteHeader(http.StatusAccepted)
	})
	get := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			get.ServeHTTP(w, r)
			return
		}
		sseStart(w)
		select {
		case id := <-answers:
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"text\":\"%s\"}}\n\n", id, strings.Repeat("x", 600<<10))
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
		}
		<-r.Context().Done()
	})
	u, _ := url.Parse(srv.URL)
	b := &inbox{}
	c := New(Options{URL: u, Mode: HTTPOnly, Deliver: b.deliver, Budget: membudget.New(1 << 20)})
	t.Cleanup(func() { c.Close(t.Context()) })
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	b.wait(t, `"id":1`)
	c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`))
	if got := b.wait(t, `"id":2`); !strings.Contains(got, "over the bridge's limit of 512 KiB for one message") {
		t.Errorf("answer: %s", got)
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("%d requests still pending", n)
	}
}
