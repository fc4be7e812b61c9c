package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// FuzzRelayFraming feeds the relay arbitrary stdin — partial lines, huge lines, invalid UTF-8, batches, garbage —
// with a server that answers every request twice. Properties: no panic, Run returns, stdout holds only whole JSON
// lines in UTF-8, every non-blank input line is either relayed or answered with a JSON-RPC error (never
// silence), and no request gets two results.
func FuzzRelayFraming(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n",
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		"{oops\n\n\r\n" + `{"jsonrpc":"2.0","id":"a","method":"tools/list"}` + "\r\n",
		`[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"}]` + "\n",
		"\xff\xfe\n\"just a string\"\n[]\n[1,2]\nnull\n",
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_all"}}` + "\n",
		strings.Repeat("x", 300) + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":{"x":1},"method":"m"}` + "\n" + `{"jsonrpc":"2.0","id":2,"result":{}}` + "\n",
		"{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"m\"}\n" + `{"jsonrpc":"2.0","id":1,"method":"a"}` + "\n" + `{"jsonrpc":"2.0","id":1.0,"method":"b"}` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		w := NewWriter(&out)
		up := &echoUp{twice: true}
		// A small limit makes "huge line" reachable; IgnoreTools turns on the tools/call and tools/list paths.
		r := &Relay{In: bytes.NewReader(in), Out: w, Up: up, MaxMessageBytes: 256, Grace: time.Millisecond,
			IgnoreTools: []string{"delete_*"}}
		up.relay = r
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		select {
		case <-done:
		case <-time.After(hangGuard):
			t.Fatalf("Run did not return for %q", in)
		}
		sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) || !utf8.Valid(sc.Bytes()) {
				t.Fatalf("stdout line is not JSON in UTF-8: %q", sc.Bytes())
			}
		}
		// Every input line that is not blank is accounted for: sent upstream, or answered with an error.
		lines := 0
		for _, l := range bytes.Split(in, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		up.mu.Lock()
		relayed, requests := len(up.sent), 0
		for _, m := range up.sent {
			requests += len(m.IDs(jsonrpc.KindRequest))
		}
		up.mu.Unlock()
		if results := bytes.Count(out.Bytes(), []byte(`"result":`)); results > requests {
			t.Fatalf("%d results for %d requests: a second answer got through\ninput %q\noutput %q", results, requests, in, out.Bytes())
		}
		errorsOut := bytes.Count(out.Bytes(), []byte(`"error":{"code":`))
		if relayed+errorsOut < lines {
			t.Fatalf("%d non-blank lines, %d relayed, %d answered with an error: a message was lost silently\ninput %q\noutput %q",
				lines, relayed, errorsOut, in, out.Bytes())
		}
	})
}
