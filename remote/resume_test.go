package remote

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// resumable is an MCP endpoint whose tools/call stream carries one progress event (id e1) and then breaks;
// resumed answers each GET with Last-Event-ID and counts them.
func resumable(t *testing.T, resumed func(w http.ResponseWriter, id string)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var resumes atomic.Int32
	var callID atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if r.Header.Get(hdrLastEventID) == "" {
				w.WriteHeader(http.StatusMethodNotAllowed) // no stream of the server's own
				return
			}
			resumes.Add(1)
			resumed(w, callID.Load().(string))
			return
		}
		body, _ := io.ReadAll(r.Body)
		m, err := jsonrpc.Parse(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch m.Method {
		case "initialize":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(hdrSession, "s1")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"r","version":"1"}}}`, m.ID)
		case "tools/call":
			callID.Store(string(m.ID))
			f := sseStart(w)
			fmt.Fprint(w, "id: e1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
			f.Flush() // and the stream ends here, before the answer
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &resumes
}

// A resumed stream that fails with an error of its own delivers that error to the client after one resume, and
// a server that keeps ending the stream with nothing new is resumed a bounded number of times.
func TestResumedStreamFailure(t *testing.T) {
	tests := []struct {
		name        string
		resumed     func(w http.ResponseWriter, id string)
		want        string
		wantResumes int32
	}{
		{"the resumed stream carries the answer", func(w http.ResponseWriter, id string) {
			sseStart(w)
			fmt.Fprintf(w, "id: e2\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[]}}\n\n", id)
		}, `"result"`, 1},
		{"the resumed stream carries a message over the size limit", func(w http.ResponseWriter, id string) {
			sseStart(w)
			fmt.Fprint(w, "id: e2\ndata: "+strings.Repeat("x", 100<<10)+"\n\n")
		}, "was 100 KiB, over the bridge's limit of 64 KiB for one message", 1},
		{"the resumed stream ends with nothing new, again and again", func(w http.ResponseWriter, id string) {
			sseStart(w)
		}, "keeps dropping the answer's stream without answering", resumeLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, resumes := resumable(t, tt.resumed)
			u, _ := url.Parse(srv.URL)
			b := &inbox{}
			c := New(Options{URL: u, Mode: HTTPOnly, Deliver: b.deliver, MaxMessageBytes: 64 << 10})
			t.Cleanup(func() { c.Close(t.Context()) })
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			b.wait(t, `"id":1`)
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":1}}}`))
			if got := b.wait(t, `"id":2`); !strings.Contains(got, tt.want) {
				t.Errorf("answer: %s, want it to contain %q", got, tt.want)
			}
			if n := resumes.Load(); n != tt.wantResumes {
				t.Errorf("resumed %d times, want %d", n, tt.wantResumes)
			}
			if n := c.Pending(); n != 0 {
				t.Errorf("%d requests still pending", n)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int]string{
		128 << 20: "128 MiB", 64 << 10: "64 KiB", 3 << 19: "1.5 MiB", 1000: "1000 bytes", 1 << 30: "1 GiB", 1536: "1.5 KiB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
