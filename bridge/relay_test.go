package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// echoUp answers every request with a result that echoes its method, the way a server would, through the
// relay's Deliver.
type echoUp struct {
	relay  *Relay
	twice  bool // answer every request twice, as a hostile server may
	mu     sync.Mutex
	sent   []jsonrpc.Message
	closed bool
}

func (u *echoUp) Send(m jsonrpc.Message) {
	u.mu.Lock()
	u.sent = append(u.sent, m)
	u.mu.Unlock()
	for _, id := range m.IDs(jsonrpc.KindRequest) {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"method": m.Method}})
		u.relay.Deliver(b)
		if u.twice {
			u.relay.Deliver(b)
		}
	}
}
func (u *echoUp) Close(context.Context) error {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	return nil
}

func run(t *testing.T, input string, max int) ([]map[string]any, *echoUp) {
	t.Helper()
	return runRelay(t, &Relay{MaxMessageBytes: max}, input)
}

// runRelay runs r over input, with an echoUp as its server and a fresh Writer as its output, until the input
// ends, and returns what it wrote to the client.
func runRelay(t *testing.T, r *Relay, input string) ([]map[string]any, *echoUp) {
	t.Helper()
	var out bytes.Buffer
	up := &echoUp{relay: r}
	r.In, r.Out, r.Up = strings.NewReader(input), NewWriter(&out), up
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		msgs = append(msgs, m)
	}
	if !up.closed {
		t.Error("upstream not closed at end of input")
	}
	return msgs, up
}

func TestFraming(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantCode []float64 // per answer: 0 for a result, else the error code
		relayed  int
	}{
		{"one request", `{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n", []float64{0}, 1},
		{"no final newline", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, []float64{0}, 1},
		{"CRLF and blank lines", "\r\n\n" + `{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\r\n\n", []float64{0}, 1},
		{"garbage then valid", "{oops\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n", []float64{-32700, 0}, 1},
		{"invalid utf-8", "\xff\xfe\n", []float64{-32700}, 0},
		{"not an object", "\"hello\"\n", []float64{-32600}, 0},
		{"notification only", `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n", nil, 1},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}]` + "\n", []float64{0, 0}, 1},
		{"too long", `{"jsonrpc":"2.0","id":1,"method":"` + strings.Repeat("x", 300) + `"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n", []float64{-32600, 0}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, up := run(t, tt.input, 200)
			if len(msgs) != len(tt.wantCode) {
				t.Fatalf("got %d answers %v, want %d", len(msgs), msgs, len(tt.wantCode))
			}
			for i, m := range msgs {
				code := 0.0
				if e, ok := m["error"].(map[string]any); ok {
					code = e["code"].(float64)
				}
				if code != tt.wantCode[i] {
					t.Errorf("answer %d = %v, want code %v", i, m, tt.wantCode[i])
				}
			}
			if len(up.sent) != tt.relayed {
				t.Errorf("relayed %d messages, want %d", len(up.sent), tt.relayed)
			}
		})
	}
}

// hangGuard bounds a wait that only a hang would exhaust; it never decides a pass on a fast machine.
const hangGuard = 2 * time.Minute

func TestRawBytesAreRelayedUnchanged(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"a","_meta":{"progressToken":7,"k":"é"},"z":[1.50,2e3]},"extra":{}}`
	_, up := run(t, "  "+in+"  \n", 1<<20)
	if len(up.sent) != 1 || string(up.sent[0].Raw) != in {
		t.Fatalf("relayed %q", up.sent[0].Raw)
	}
}

func TestLargeMessage(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":1,"method":"x","params":{"blob":"` + strings.Repeat("a", 20<<20) + `"}}`
	_, up := run(t, big+"\n", 64<<20)
	if len(up.sent) != 1 || len(up.sent[0].Raw) != len(big) {
		t.Fatal("a 20 MB message must pass whole")
	}
}

func TestWriterKeepsLinesWhole(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			w.Write([]byte(`{"n":` + strings.Repeat("1", 1000+i) + `}`))
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("got %d lines", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved output: %.60q", l)
		}
	}
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestRunStopsWhenTheClientStopsReading(t *testing.T) {
	w := NewWriter(brokenPipe{})
	pr, pw := io.Pipe()
	defer pw.Close()
	up := &echoUp{}
	up.relay = &Relay{In: pr, Out: w, Up: up}
	done := make(chan error, 1)
	go func() { done <- up.relay.Run(context.Background()) }()
	io.WriteString(pw, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("the relay kept running after stdout broke")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	w := NewWriter(io.Discard)
	up := &echoUp{}
	up.relay = &Relay{In: pr, Out: w, Up: up}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- up.relay.Run(ctx) }()
	cancel()
	select {
	case <-done:
		if !up.closed {
			t.Error("upstream not closed on cancel")
		}
	case <-time.After(hangGuard):
		t.Fatal("the relay ignored cancellation")
	}
}
