package remote

import (
	"context"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// inbox collects what the client would see on stdout.
type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (b *inbox) deliver(m []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, string(m))
}

// hangGuard bounds a wait that only a hang would exhaust; it never decides a pass on a fast machine.
const hangGuard = 2 * time.Minute

// wait returns the first message containing s.
func (b *inbox) wait(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		for _, m := range b.msgs {
			if strings.Contains(m, s) {
				b.mu.Unlock()
				return m
			}
		}
		b.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no message containing %q; got %q", s, b.msgs)
	return ""
}

func startDev(t *testing.T) *devserver.Running {
	t.Helper()
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{APIKey: "k", Step: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newClient(t *testing.T, rawURL string, mode Mode, b *inbox) *Client {
	t.Helper()
	u, _ := url.Parse(rawURL)
	ts, _ := auth.APIKey("k")
	return New(Options{URL: u, Mode: mode, Token: ts, Deliver: b.deliver})
}

// After Close no goroutine of this package is left, on either transport, with streams open and a call running.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	srv := startDev(t)
	for _, tc := range []struct {
		path string
		mode Mode
	}{{"/v1/mcp", HTTPFirst}, {"/v1/sse", SSEOnly}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			b := &inbox{}
			c := newClient(t, srv.URL+tc.path, tc.mode, b)
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			b.wait(t, `"id":1,"result"`)
			c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"mesh_execute","arguments":{"task":"x","steps":1000},"_meta":{"progressToken":1}}}`))
			b.wait(t, `notifications/progress`)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			if err := c.Close(ctx); err != nil {
				t.Fatal(err)
			}
			// The running call was answered, not dropped.
			if m := b.wait(t, `"id":2`); !strings.Contains(m, "shutting down") {
				t.Errorf("the call running at Close got %s", m)
			}
			deadline := time.Now().Add(hangGuard)
			for {
				stacks := ownGoroutines()
				if stacks == "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("goroutines left after Close:\n%s", stacks)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// ownGoroutines returns the stacks of goroutines running this package's code, other than the test's own.
func ownGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "meshai-mcp-server/remote.(*") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

// Requests sent after Close get an answer too.
func TestSendAfterClose(t *testing.T) {
	b := &inbox{}
	c := newClient(t, "http://127.0.0.1:9/mcp", HTTPFirst, b)
	_ = c.Close(context.Background())
	c.Send(mustParse(t, `{"jsonrpc":"2.0","id":"late","method":"ping"}`))
	if m := b.wait(t, `"late"`); !strings.Contains(m, `"code":-32000`) {
		t.Fatalf("got %s", m)
	}
}
