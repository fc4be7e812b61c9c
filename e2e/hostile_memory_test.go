package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// rpcServer answers initialize as an MCP server would and hands tools/call to call; other POSTs get 202 and a GET
// (the server's own stream) goes to get, or 405 when get is nil.
func rpcServer(t *testing.T, call func(w http.ResponseWriter, r *http.Request, id string), get http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if get == nil {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			get(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
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
			w.Header().Set("Mcp-Session-Id", "s1")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"hostile","version":"1"}}}`, m.ID)
		case "tools/call":
			call(w, r, string(m.ID))
		case "ping":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{}}`, m.ID)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A server that answers a call, and every resume of its stream, with one event carrying a new id and no message,
// then ends the stream (and its own GET stream the same way), is resumed at most five times: the request then
// gets an error that says the server keeps dropping the stream, and the log has a line for it, not one per resume.
func TestResumeStormStopsThroughTheBinary(t *testing.T) {
	var resumes, listens, seq atomic.Int32
	idle := func(w http.ResponseWriter, prefix string) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: %s-%d\ndata:\n\n", prefix, seq.Add(1))
	}
	srv := rpcServer(t, func(w http.ResponseWriter, r *http.Request, id string) { idle(w, "call") },
		func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.Header.Get("Last-Event-ID"), "call-") {
				resumes.Add(1)
				idle(w, "call")
				return
			}
			listens.Add(1)
			idle(w, "listen")
		})
	rb := startRaw(t, bridgeEnv(t), "--transport", "http-only", srv.URL+"/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{}}}`)
	m := rb.until(t, float64(2))
	e, _ := m["error"].(map[string]any)
	if e == nil || !strings.Contains(e["message"].(string), "keeps dropping the answer's stream without answering") {
		t.Errorf("answer: %v", m)
	}
	if n := resumes.Load(); n > 5 {
		t.Errorf("the server saw %d resume requests, want at most 5", n)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	if m := rb.until(t, float64(3)); m["result"] == nil {
		t.Errorf("the next request: %v", m)
	}
	if n := strings.Count(rb.stderr.String(), "resum"); n > 2 {
		t.Errorf("%d log lines about resuming for one request:\n%s", n, rb.stderr.String())
	}
	t.Logf("resume requests: %d; GET streams of the server's own meanwhile: %d", resumes.Load(), listens.Load())
}

// Large answers that arrive at once share one budget. Four SSE events, each written in part, then (once all four
// are) the rest: with --max-memory 64MiB, 30 MiB events fit one at a time but not four (the four 140 MiB
// events against the default 256 MiB, scaled to a 2-core CI: 120 MiB of events against 64 MiB). The first part
// is 26 MiB: the server's writes return only once the bridge has read all but what the kernel buffers (well
// under 10 MiB on loopback), so when every first part is written the bridge holds at least 16 MiB of each, or
// has refused one already; either way not all four can be taken, and a reader that finds no room waits for it,
// so at least one gets through (two fit).
// Every request gets one answer, those that did not fit an error naming the limit and the flag, the bridge goes
// on, and its peak RSS (VmHWM) stays under twice the budget + 64 MiB: the budget itself, a block more for each
// message while it is joined, the collector's lag (the Go memory limit is set to twice the budget + 32 MiB) and
// the runtime, binary included. The default budget is
// measured too, with four events over its one-message limit of 128 MiB, which are dropped unread.
func TestConcurrentLargeEventsStayInTheBudget(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name    string
		args    []string
		event   int   // bytes of text in each result
		first   int   // bytes of it written before all four have started
		budget  int64 // the --max-memory in force
		wantErr string
		taken   int // answers that must get through at least: those that fit wait for room, and two fit
	}{
		{"four 30 MiB events, --max-memory 64MiB", []string{"--max-memory", "64MiB"}, 30 * mib, 26 * mib, 64 * mib, "did not fit in the bridge's memory for messages", 1},
		{"four 140 MiB events, the default budget", nil, 140 * mib, 70 * mib, 256 * mib, "over the bridge's limit of 128 MiB for one message", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunk := bytes.Repeat([]byte("x"), mib)
			var started sync.WaitGroup
			started.Add(4)
			allStarted := make(chan struct{})
			go func() { started.Wait(); close(allStarted) }()
			srv := rpcServer(t, func(w http.ResponseWriter, r *http.Request, id string) {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, `data: {"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"`, id)
				half := tt.first / mib
				for range half {
					w.Write(chunk)
				}
				w.(http.Flusher).Flush()
				started.Done()
				select {
				case <-allStarted:
				case <-r.Context().Done():
					return
				}
				for range tt.event/mib - half {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
				fmt.Fprint(w, "\"}]}}\n\n")
			}, nil)
			rb := startRaw(t, bridgeEnv(t), append([]string{"--transport", "http-only"}, append(tt.args, srv.URL+"/mcp")...)...)
			rb.send(t, initLine)
			rb.until(t, float64(1))
			rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			for id := 2; id <= 5; id++ {
				rb.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"big","arguments":{}}}`, id))
			}
			answers, refused := map[float64]bool{}, 0
			for len(answers) < 4 {
				m := rb.next(t)
				id, _ := m["id"].(float64)
				if id < 2 || id > 5 {
					continue
				}
				if answers[id] {
					t.Errorf("a second answer to %v", id)
				}
				answers[id] = true
				if e, _ := m["error"].(map[string]any); e != nil {
					refused++
					msg := e["message"].(string)
					if !strings.Contains(msg, tt.wantErr) && !strings.Contains(msg, "did not fit") || !strings.Contains(msg, "--max-memory") {
						t.Errorf("error for %v: %s", id, msg)
					}
				}
			}
			if refused == 0 {
				t.Errorf("all four answers were taken, %d MiB at once with a budget of %d MiB", 4*tt.event/mib, tt.budget/mib)
			}
			if taken := 4 - refused; taken < tt.taken {
				t.Errorf("%d of 4 answers got through, want at least %d: a reader that finds no room waits for it", taken, tt.taken)
			}
			rb.send(t, `{"jsonrpc":"2.0","id":6,"method":"ping"}`)
			if m := rb.until(t, float64(6)); m["result"] == nil {
				t.Errorf("the bridge after: %v", m)
			}
			hwm := vmHWM(t, rb.cmd.Process.Pid)
			bound := 2*tt.budget + 64*mib
			t.Logf("peak RSS %.1f MiB; %d of 4 answers refused; bound %d MiB", float64(hwm)/mib, refused, bound/mib)
			switch {
			case raceEnabled: // the race detector's shadow memory is several times the program's: no measure of it
				t.Logf("built with -race: peak RSS not held to the bound")
			case hwm > bound:
				t.Errorf("peak RSS %.1f MiB, over twice the budget + 64 MiB (%d MiB)", float64(hwm)/mib, bound/mib)
			}
		})
	}
}

// vmHWM reads a process's peak resident set, in bytes, from /proc/PID/status.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		msg := "needs /proc to read the bridge's peak RSS: " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// Calls written at once do not each open a connection: the bridge's transport opens at most 64 to the server
// and queues the rest (10,000 pipelined calls opened ~1,900 before).
func TestPipelinedCallsShareConnections(t *testing.T) {
	var mu sync.Mutex
	opened, open, peak := 0, 0, 0
	dev := devserver.New(devserver.Config{APIKey: testKey}).Handler()
	srv := httptest.NewUnstartedServer(dev)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			opened++
			open++
			peak = max(peak, open)
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	rb := startRaw(t, bridgeEnv(t), "--transport", "http-only", srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	const n = 2000
	var all strings.Builder
	for id := 10; id < 10+n; id++ {
		fmt.Fprintf(&all, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`+"\n", id)
	}
	if _, err := io.WriteString(rb.stdin, all.String()); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < n; {
		m := rb.next(t)
		if id, _ := m["id"].(float64); id >= 10 && id < 10+n {
			if m["result"] == nil {
				t.Fatalf("call %v: %v", id, m)
			}
			got++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d calls written at once: %d connections opened, at most %d open at once", n, opened, peak)
	if peak > 64 {
		t.Errorf("%d connections open at once, want at most 64", peak)
	}
}
