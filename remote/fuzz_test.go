package remote

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
)

// FuzzReadSSE feeds the SSE reader arbitrary stream bytes: events split anywhere, CR/LF mixes, comments, ids,
// retry fields, oversized events, garbage data. Properties: no panic, the reader returns at the end of input,
// and every message reaching the client is one line of valid JSON no larger than the limit.
func FuzzReadSSE(f *testing.F) {
	for _, s := range []string{
		"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
		"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"method\":\"n\"}\r\n\r\n",
		": keep-alive\n\nretry: 100\nid:\ndata:\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\ndata: [1,2\n\n",
		"event: endpoint\ndata: /message?session=x\n\n",
		"data: " + string(bytes.Repeat([]byte("x"), 2000)) + "\n\n",
		"data: {\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1,\"message\":\"\\u2028\"}}\n\n",
		"\xff\xfe\x00data: \x00\n\n",
	} {
		f.Add([]byte(s))
	}
	u, _ := url.Parse("http://127.0.0.1:9/mcp")
	f.Fuzz(func(t *testing.T, in []byte) {
		var mu sync.Mutex
		var got [][]byte
		c := New(Options{URL: u, MaxMessageBytes: 1024, Deliver: func(m []byte) {
			mu.Lock()
			got = append(got, append([]byte(nil), m...))
			mu.Unlock()
		}})
		defer c.cancel()
		c.readSSE(bytes.NewReader(in), sseRead{other: func(string, []byte) {}})
		for _, m := range got {
			if !json.Valid(m) || bytes.ContainsAny(m, "\r\n") || len(m) > 1024 {
				t.Fatalf("delivered %q from %q", m, in)
			}
		}
	})
}
