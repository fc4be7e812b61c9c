package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
)

// answerWith answers with status and a JSON body.
func answerWith(status int, contentType, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// An HTTP error whose body is the server's JSON-RPC error for the request (as 2026-07-28 servers send them)
// reaches the client as the server wrote it; anything else gets the bridge's own error that describes it.
func TestServerErrorAnswersAreRelayed(t *testing.T) {
	const toolNotFound = `{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"tool not found","data":{"name":"x"}}}`
	tests := []struct {
		name      string
		misbehave func(w http.ResponseWriter, r *http.Request)
		token     oauth2.TokenSource
		req       string
		want      map[string]string // id → the answer as JSON, to the byte (prefixed bytes=), its error object (prefixed error=), or a part of it (prefixed ~)
	}{
		{"400 with the request's id", answerWith(400, "application/json", toolNotFound), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": toolNotFound}},
		{"404 with the request's id, on a session (an unknown method)", answerWith(404, "application/json; charset=utf-8",
			`{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}}`), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`,
			map[string]string{"7": `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}}`}},
		{"500 with a null id: the request's id put in, every other byte as the server wrote it", answerWith(500, "application/json",
			`{"jsonrpc": "2.0","id":null,"error":{"code":-32603, "message":"internal <b>&","data":[1]}}`), nil,
			`{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"x"}}`,
			map[string]string{`"abc"`: `bytes={"jsonrpc": "2.0","id":"abc","error":{"code":-32603, "message":"internal <b>&","data":[1]}}`}},
		{"400 with another request's id", answerWith(400, "application/json", strings.Replace(toolNotFound, `"id":7`, `"id":8`, 1)), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": `~"code":-32000`}},
		{"400 in plain text", answerWith(400, "text/plain", toolNotFound), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": `~"code":-32000`}},
		{"429 with a JSON-RPC body", answerWith(429, "application/json", toolNotFound), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": "~rate limiting"}},
		{"401 with a JSON-RPC body and an API key", answerWith(401, "application/json", toolNotFound), nil,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": "~refused the credentials (401)"}},
		{"403 for more scope goes to the Reauthorizer first", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer k" {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="more"`)
				answerWith(403, "application/json", toolNotFound)(w, r)
				return
			}
			answerWith(200, "application/json", `{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`)(w, r)
		}, &switchingSource{key: "expired", fix: true},
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`, map[string]string{"7": `~"result"`}},
		{"a batch, one of whose requests is answered", answerWith(400, "application/json", toolNotFound), nil,
			`[{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}},{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"y"}}]`,
			map[string]string{"7": toolNotFound, "9": `~"code":-32000`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hostile(t, tt.misbehave)
			u, _ := url.Parse(srv.URL)
			token := tt.token
			if token == nil {
				token, _ = auth.APIKey("k")
			}
			b := &inbox{}
			c := New(Options{URL: u, Mode: HTTPOnly, Token: token, Deliver: b.deliver})
			t.Cleanup(func() { c.Close(context.Background()) })
			c.Send(mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			b.wait(t, `"id":1`)
			c.Send(mustParse(t, tt.req))
			for id, want := range tt.want {
				got := b.wait(t, `"id":`+id)
				part, contains := strings.CutPrefix(want, "~")
				errObj, isErr := strings.CutPrefix(want, "error=")
				exact, isExact := strings.CutPrefix(want, "bytes=")
				switch {
				case contains && !strings.Contains(got, part),
					isErr && !sameJSON(t, errorOf(t, got), errObj),
					isExact && got != exact,
					!contains && !isErr && !isExact && !sameJSON(t, got, want):
					t.Errorf("id %s: got %s, want %s", id, got, want)
				}
			}
			if src, ok := tt.token.(*switchingSource); ok && len(src.seen) != 1 {
				t.Errorf("reauthorized %d times, want 1", len(src.seen))
			}
		})
	}
}

// sameJSON compares two JSON texts as values.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// errorOf returns the error object of a response.
func errorOf(t *testing.T, raw string) string {
	t.Helper()
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal([]byte(raw), &r)
	return string(r.Error)
}
