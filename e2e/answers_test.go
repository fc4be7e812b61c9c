package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// strayServer is an MCP server that answers what the client never asked for: tools/call "twice" gets a stranger's
// answer, the same id as a string, its own answer, and that answer again; "utf8" gets a text with bytes that are
// not UTF-8; "hold" waits until release is closed. It counts the requests for each id it is sent.
type strayServer struct {
	*httptest.Server
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	calls   map[string]int // requests by id
}

func startStrayServer(t *testing.T) *strayServer {
	t.Helper()
	s := &strayServer{release: make(chan struct{}), calls: map[string]int{}}
	t.Cleanup(s.releaseAll)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &req) != nil || req.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		s.mu.Lock()
		s.calls[string(req.ID)]++
		s.mu.Unlock()
		id := string(req.ID)
		answer := func(result string) string { return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, id, result) }
		switch {
		case req.Method == "initialize":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Mcp-Session-Id", "stray-1")
			io.WriteString(w, answer(`{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"stray","version":"1"}}`))
			return
		case req.Method != "tools/call":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, answer(`{}`))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		event := func(msg string) { fmt.Fprintf(w, "event: message\ndata: %s\n\n", msg) }
		text := func(s string) string { return answer(`{"content":[{"type":"text","text":"` + s + `"}]}`) }
		switch req.Params.Name {
		case "twice":
			event(`{"jsonrpc":"2.0","id":424242,"result":{"content":[{"type":"text","text":"a stranger's"}]}}`)
			event(fmt.Sprintf(`{"jsonrpc":"2.0","id":"%s","result":{"content":[{"type":"text","text":"the id as a string"}]}}`, id))
			event(text("first"))
			event(text("second"))
		case "utf8":
			event(text("caf\xe9 \xff\xfe ok \xe2\x9c"))
		case "hold":
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-s.release
			event(text("held"))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// releaseAll answers the requests the server holds.
func (s *strayServer) releaseAll() { s.once.Do(func() { close(s.release) }) }

func (s *strayServer) requests(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func callLine(id, tool string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, id, tool)
}

// startStray starts a bridge on a strayServer, through the handshake.
func startStray(t *testing.T) (*strayServer, *rawBridge) {
	t.Helper()
	srv := startStrayServer(t)
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/mcp")
	rb.send(t, initLine)
	if m := rb.until(t, float64(1)); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return srv, rb
}

// waitStderr waits until the bridge's stderr holds n lines with want; the deadline only guards against a hang.
func waitStderr(t *testing.T, rb *rawBridge, want string, n int) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); strings.Count(rb.stderr.String(), want) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr never showed %d × %q", n, want)
		}
	}
}

// A server's second answer, an answer for an id the client never sent, and one for its id as a string never reach
// the client; each is logged.
func TestStrayAnswersAreDropped(t *testing.T) {
	_, rb := startStray(t)
	rb.send(t, callLine("2", "twice"))
	waitStderr(t, rb, "dropped an answer", 3)
	rb.send(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	var answers []map[string]any
	for {
		m := rb.next(t)
		if m["id"] == float64(3) {
			break
		}
		answers = append(answers, m)
	}
	if len(answers) != 1 || answers[0]["id"] != float64(2) || !strings.Contains(fmt.Sprint(answers[0]["result"]), "first") {
		t.Fatalf("the client got %v, want the first answer to 2 alone", answers)
	}
}

// Twenty requests sharing one id while the first is in flight: the first goes to the server and gets its answer,
// the nineteen others get a -32600 at once and never reach the server — no "answered HTTP 200 without a JSON-RPC
// response" for any.
func TestIDInUseGetsOneClearError(t *testing.T) {
	srv, rb := startStray(t)
	for range 20 {
		rb.send(t, callLine("5", "hold"))
	}
	for i := range 19 {
		m := rb.until(t, float64(5))
		e, _ := m["error"].(map[string]any)
		if e["code"] != float64(-32600) || e["message"] != "Invalid Request: id 5 is already in use by a request in flight" {
			t.Fatalf("answer %d for id 5: %v", i, m)
		}
	}
	srv.releaseAll()
	if m := rb.until(t, float64(5)); !strings.Contains(fmt.Sprint(m["result"]), "held") {
		t.Fatalf("the request in flight got %v", m)
	}
	if n := srv.requests("5"); n != 1 {
		t.Errorf("the server got %d requests with id 5, want 1", n)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":5,"method":"ping"}`) // free again once answered
	if m := rb.until(t, float64(5)); m["result"] == nil {
		t.Errorf("id 5 after its answer: %v", m)
	}
	if strings.Contains(rb.stderr.String(), "without a JSON-RPC response") {
		t.Error("a request was failed for want of an answer")
	}
}

// Bytes that are not UTF-8 in a server's answer reach the client as U+FFFD, and the log counts them.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	_, rb := startStray(t)
	rb.send(t, callLine("4", "utf8"))
	var line string
	for line == "" {
		select {
		case l, ok := <-rb.lines:
			if !ok {
				t.Fatal("stdout closed")
			}
			if strings.Contains(l, `"id":4`) {
				line = l
			}
		case <-time.After(hangGuard):
			t.Fatal("no answer to 4")
		}
	}
	if !utf8.ValidString(line) || !json.Valid([]byte(line)) {
		t.Fatalf("stdout carried bytes that are not UTF-8: %q", line)
	}
	if want := "caf\uFFFD \uFFFD\uFFFD ok \uFFFD\uFFFD"; !strings.Contains(line, want) {
		t.Errorf("answer %q, want the text %q", line, want)
	}
	waitStderr(t, rb, "bytes=5", 1)
}

// A request nested 100,000 deep, past the bridge's limit of 10,000, is answered with its id.
func TestDeepRequestKeepsItsID(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, c := range []struct{ line, id string }{
		{`{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"x","arguments":{"a":` + deep + `}}}`, "77"},
		{`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x","arguments":{"a":` + deep + `}},"id":"last"}`, `"last"`},
	} {
		rb.send(t, c.line)
		m := rb.next(t)
		id, _ := json.Marshal(m["id"])
		e, _ := m["error"].(map[string]any)
		if string(id) != c.id || e["code"] != float64(-32600) || !strings.Contains(fmt.Sprint(e["message"]), "10000 levels") {
			t.Errorf("answer %v, want -32600 for id %s", m, c.id)
		}
	}
}
