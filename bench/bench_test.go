package bench

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/bridge"
	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// The benchmarks below measure; they never fail on a timing. Their setup (a reference server, an in-process
// bridge) runs only under -bench, so a plain go test of this package does nothing slow.

// inProcess is the bridge wired as cmd/meshai-mcp-server wires it, its stdio replaced by pipes.
type inProcess struct {
	in     *io.PipeWriter // the client's side of stdin
	out    *bufio.Reader  // the client's side of stdout
	cancel context.CancelFunc
	done   chan struct{}
	wmu    sync.Mutex
}

func startInProcess(b *testing.B, s *Server, log *slog.Logger) *inProcess {
	b.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		b.Fatal(err)
	}
	key, err := auth.APIKey(APIKey)
	if err != nil {
		b.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	relay := &bridge.Relay{In: inR, Out: bridge.NewWriter(outW), Log: log}
	relay.Up = remote.New(remote.Options{URL: u, Token: key, Deliver: relay.Deliver, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{in: inW, out: bufio.NewReaderSize(outR, 1<<20), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = relay.Run(ctx)
		outW.Close()
	}()
	p.send(b, []byte(InitLine))
	p.until(b, 1)
	p.send(b, []byte(InitializedLine))
	b.Cleanup(func() {
		inW.Close()
		cancel()
		<-p.done
	})
	return p
}

func (p *inProcess) send(b *testing.B, msg []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if _, err := p.in.Write(append(msg, '\n')); err != nil {
		b.Fatal(err)
	}
}

func (p *inProcess) until(b *testing.B, id int) {
	for {
		line, err := p.out.ReadBytes('\n')
		if err != nil {
			b.Fatal(err)
		}
		if AnswerID(line) == id {
			return
		}
	}
}

// infoLog is the bridge's log at its default level, written nowhere: the cost of formatting stays in.
func infoLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	s, err := StartServer(2 * time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkRelayedCall is one small tools/call (list_agents) through an in-process bridge, one at a time.
func BenchmarkRelayedCall(b *testing.B) {
	s := benchServer(b)
	p := startInProcess(b, s, infoLog())
	b.ReportAllocs()
	id := 100
	for b.Loop() {
		id++
		p.send(b, CallLine(id))
		p.until(b, id)
	}
}

// BenchmarkDirectCall is the same call as BenchmarkRelayedCall, POSTed straight to the server.
func BenchmarkDirectCall(b *testing.B) {
	s := benchServer(b)
	d := NewDirect(s.URL)
	ctx := context.Background()
	if err := d.Initialize(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	id := 100
	for b.Loop() {
		id++
		if _, err := d.Call(ctx, CallLine(id), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelayedCall16 keeps 16 small calls in flight through an in-process bridge.
func BenchmarkRelayedCall16(b *testing.B) {
	s := benchServer(b)
	p := startInProcess(b, s, infoLog())
	b.ReportAllocs()
	slots := make(chan struct{}, 16)
	go func() {
		for i := range b.N {
			slots <- struct{}{}
			p.send(b, CallLine(1000+i))
		}
	}()
	for got := 0; got < b.N; {
		line, err := p.out.ReadBytes('\n')
		if err != nil {
			b.Fatal(err)
		}
		if AnswerID(line) >= 1000 {
			got++
			<-slots
		}
	}
}

var (
	smallRequest  = CallLine(42)
	smallResponse = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"7 agents"}],"structuredContent":{"agents":[{"id":"a","name":"A"}]}}}`)
)

// BenchmarkParseRequest is jsonrpc.Parse of a small tools/call.
func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsonrpc.Parse(smallRequest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseResponse is jsonrpc.Parse of a small tool result.
func BenchmarkParseResponse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsonrpc.Parse(smallResponse); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIDKey is jsonrpc.IDKey of a numeric id.
func BenchmarkIDKey(b *testing.B) {
	b.ReportAllocs()
	id := []byte("12345")
	for b.Loop() {
		_ = jsonrpc.IDKey(id)
	}
}

// BenchmarkWriter is one message written to the client through bridge.Writer.
func BenchmarkWriter(b *testing.B) {
	w := bridge.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		w.Write(smallResponse)
	}
}
