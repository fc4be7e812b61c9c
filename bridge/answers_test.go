package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// scriptUp is a server that answers as the test says: respond gets each request and hands the relay what the
// server sends for it, through Deliver, before Send returns.
type scriptUp struct {
	relay   *Relay
	respond func(m jsonrpc.Message, deliver func(string))
	mu      sync.Mutex
	sent    []string
}

func (u *scriptUp) Send(m jsonrpc.Message) {
	u.mu.Lock()
	u.sent = append(u.sent, string(m.Raw))
	u.mu.Unlock()
	u.respond(m, func(s string) { u.relay.Deliver([]byte(s)) })
}
func (u *scriptUp) Close(context.Context) error { return nil }

// answerAs answers request m with a result that says who answered.
func answerAs(m jsonrpc.Message, who string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"by":%q}}`, m.ID, who)
}

// runScript relays input to a scriptUp and returns what the client got, what the server got and the log.
func runScript(t *testing.T, input string, respond func(jsonrpc.Message, func(string))) (out []string, sent []string, log string) {
	t.Helper()
	var stdout, logs bytes.Buffer
	up := &scriptUp{respond: respond}
	r := &Relay{In: strings.NewReader(input), Out: NewWriter(&stdout), Up: up, Grace: time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	up.relay = r
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if l != "" {
			if !json.Valid([]byte(l)) {
				t.Fatalf("stdout line is not JSON: %q", l)
			}
			out = append(out, l)
		}
	}
	return out, up.sent, logs.String()
}

func req(id, method string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":%q}`, id, method) + "\n"
}

// Every request of the client gets exactly one answer: a second answer, an answer for an id the client never sent
// and one for a request it cancelled are dropped with a log line each; a request whose id is in use by one in
// flight gets one -32600 at once and never reaches the server; ids compare as JSON values.
func TestOneAnswerPerRequest(t *testing.T) {
	var held []jsonrpc.Message
	// "hold" requests wait; "flush" answers them all, then itself.
	holding := func(m jsonrpc.Message, deliver func(string)) {
		switch m.Method {
		case "hold":
			held = append(held, m)
		case "flush":
			for _, h := range held {
				deliver(answerAs(h, "server"))
			}
			held = nil
			deliver(answerAs(m, "server"))
		default: // a batch's requests are answered one by one
			for _, id := range m.IDs(jsonrpc.KindRequest) {
				deliver(answerAs(jsonrpc.Message{ID: id}, "server"))
			}
		}
	}
	tests := []struct {
		name    string
		input   string
		respond func(jsonrpc.Message, func(string))
		want    []string // the answers, in order
		sent    int      // messages that reach the server
		drops   int      // log lines for dropped answers
	}{
		{"two answers for one id", req("1", "ping"), func(m jsonrpc.Message, d func(string)) {
			d(answerAs(m, "first"))
			d(answerAs(m, "second"))
		}, []string{`{"jsonrpc":"2.0","id":1,"result":{"by":"first"}}`}, 1, 1},
		{"an answer for an id never sent", req("1", "ping"), func(m jsonrpc.Message, d func(string)) {
			d(`{"jsonrpc":"2.0","id":99,"result":{"by":"stranger"}}`)
			d(`{"jsonrpc":"2.0","id":"1","result":{"by":"string id"}}`)
			d(`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`)
			d(answerAs(m, "server"))
		}, []string{`{"jsonrpc":"2.0","id":1,"result":{"by":"server"}}`}, 1, 3},
		{"an error and a result for one id", req(`"a"`, "ping"), func(m jsonrpc.Message, d func(string)) {
			d(string(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeUpstream, "failed", nil)))
			d(answerAs(m, "late"))
		}, []string{`{"jsonrpc":"2.0","id":"a","error":{"code":-32000,"message":"failed"}}`}, 1, 1},
		{"a batch answer with a stranger in it", `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}]` + "\n",
			func(m jsonrpc.Message, d func(string)) {
				d(`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":3,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":1,"result":{}}]`)
			}, []string{`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]`}, 1, 2},
		{"an id in use by a request in flight", req("5", "hold") + req("5", "ping") + req("6", "flush"), holding, []string{
			`{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"Invalid Request: id 5 is already in use by a request in flight"}}`,
			`{"jsonrpc":"2.0","id":5,"result":{"by":"server"}}`,
			`{"jsonrpc":"2.0","id":6,"result":{"by":"server"}}`,
		}, 2, 0},
		{"numbers compare by value", req("5", "hold") + req("5.0", "ping") + req("50e-1", "ping") + req("6", "flush"), holding, []string{
			`{"jsonrpc":"2.0","id":5.0,"error":{"code":-32600,"message":"Invalid Request: id 5.0 is already in use by a request in flight"}}`,
			`{"jsonrpc":"2.0","id":50e-1,"error":{"code":-32600,"message":"Invalid Request: id 50e-1 is already in use by a request in flight"}}`,
			`{"jsonrpc":"2.0","id":5,"result":{"by":"server"}}`,
			`{"jsonrpc":"2.0","id":6,"result":{"by":"server"}}`,
		}, 2, 0},
		{"1 and \"1\" are two ids", req("1", "hold") + req(`"1"`, "hold") + req("2", "flush"), holding, []string{
			`{"jsonrpc":"2.0","id":1,"result":{"by":"server"}}`,
			`{"jsonrpc":"2.0","id":"1","result":{"by":"server"}}`,
			`{"jsonrpc":"2.0","id":2,"result":{"by":"server"}}`,
		}, 3, 0},
		{"an id is free again once answered", req("7", "ping") + req("7", "ping"), holding, []string{
			`{"jsonrpc":"2.0","id":7,"result":{"by":"server"}}`,
			`{"jsonrpc":"2.0","id":7,"result":{"by":"server"}}`,
		}, 2, 0},
		{"twenty requests with one id", req("9", "hold") + strings.Repeat(req("9", "ping"), 19) + req("10", "flush"), holding,
			append(slices.Repeat([]string{`{"jsonrpc":"2.0","id":9,"error":{"code":-32600,"message":"Invalid Request: id 9 is already in use by a request in flight"}}`}, 19),
				`{"jsonrpc":"2.0","id":9,"result":{"by":"server"}}`, `{"jsonrpc":"2.0","id":10,"result":{"by":"server"}}`), 2, 0},
		{"a batch reusing an id in flight", req("1", "hold") + `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"},{"jsonrpc":"2.0","id":2,"method":"c"}]` + "\n" + req("3", "flush"),
			holding, []string{
				`{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request: id 1 is already in use by a request in flight"}}`,
				`{"jsonrpc":"2.0","id":2,"error":{"code":-32600,"message":"Invalid Request: id 2 is already in use by a request in flight"}}`,
				`{"jsonrpc":"2.0","id":2,"result":{"by":"server"}}`,
				`{"jsonrpc":"2.0","id":1,"result":{"by":"server"}}`,
				`{"jsonrpc":"2.0","id":3,"result":{"by":"server"}}`,
			}, 3, 0},
		{"a cancelled request's answer is dropped, its id free", req("4", "hold") +
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}}` + "\n" + req("5", "flush") + req("4", "ping"),
			holding, []string{`{"jsonrpc":"2.0","id":5,"result":{"by":"server"}}`, `{"jsonrpc":"2.0","id":4,"result":{"by":"server"}}`}, 4, 1},
		{"server requests and notifications pass; the client's answers go up", req("1", "ping") +
			`{"jsonrpc":"2.0","id":"s1","result":{"roots":[]}}` + "\n",
			func(m jsonrpc.Message, d func(string)) {
				if m.Kind == jsonrpc.KindRequest {
					d(`{"jsonrpc":"2.0","id":"s1","method":"roots/list"}`)
					d(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`)
					d(answerAs(m, "server"))
				}
			}, []string{
				`{"jsonrpc":"2.0","id":"s1","method":"roots/list"}`,
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`,
				`{"jsonrpc":"2.0","id":1,"result":{"by":"server"}}`,
			}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held = nil
			out, sent, log := runScript(t, tt.input, tt.respond)
			if strings.Join(out, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("the client got\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(sent) != tt.sent {
				t.Errorf("%d messages reached the server, want %d: %q", len(sent), tt.sent, sent)
			}
			if n := strings.Count(log, "dropped an answer"); n != tt.drops {
				t.Errorf("%d log lines for dropped answers, want %d\n%s", n, tt.drops, log)
			}
		})
	}
}

// Once the client's input has ended the client gets the answers it still waits for, and nothing else: no
// notification, no request of the server, no word from the relay (a client that hung up may raise on it).
func TestAfterEndOfInputOnlyAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stdout bytes.Buffer
		up := &scriptUp{respond: func(jsonrpc.Message, func(string)) {}} // the server holds every request
		r := &Relay{In: strings.NewReader(req("1", "tools/call")), Out: NewWriter(&stdout), Up: up, Grace: time.Hour}
		up.relay = r
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		synctest.Wait() // the input is read to its end; the relay waits for the answer to 1
		r.Deliver([]byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`))
		r.Deliver([]byte(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{}}`))
		r.notifyClient("error", "the bridge is shutting down")
		r.Deliver([]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`))
		r.Deliver([]byte(`{"jsonrpc":"2.0","id":1,"result":{"again":true}}`))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := stdout.String(); got != `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`+"\n" {
			t.Errorf("after the end of input the client got\n%s", got)
		}
	})
}

// Drain waits for the client's requests only: the relay's own (a sign-in's initialize) do not hold up the exit.
func TestDrainWaitsForTheClientsRequestsOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &scriptUp{respond: func(jsonrpc.Message, func(string)) {}}
		r := &Relay{In: strings.NewReader(req("1", "ping")), Out: NewWriter(io.Discard), Up: up, Grace: time.Hour}
		up.relay = r
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		synctest.Wait()
		r.Deliver([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
		<-done
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the relay waited %s after the last answer", waited)
		}
	})
}

func TestWriterReplacesInvalidUTF8(t *testing.T) {
	tests := []struct {
		name, in, want string
		replaced       int
	}{
		{"valid passes as is", `{"a":"é ✓ 𝄞"}`, `{"a":"é ✓ 𝄞"}`, 0},
		{"a lone byte", "{\"a\":\"x\xffy\"}", "{\"a\":\"x\uFFFDy\"}", 1},
		{"a cut sequence", "{\"a\":\"\xe2\x9c\"}", "{\"a\":\"\uFFFD\uFFFD\"}", 2},
		{"a surrogate half", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\uFFFD\uFFFD\uFFFD\"}", 3},
		{"in a name", "{\"\xc0\":1}", "{\"\uFFFD\":1}", 1},
		{"valid around invalid", "{\"a\":\"é\xfe✓\"}", "{\"a\":\"é\uFFFD✓\"}", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, logs bytes.Buffer
			w := NewWriter(&out)
			w.setLog(slog.New(slog.NewTextHandler(&logs, nil)))
			w.Write([]byte(tt.in))
			if got := strings.TrimSuffix(out.String(), "\n"); got != tt.want || !json.Valid([]byte(got)) {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			switch {
			case tt.replaced == 0 && logs.Len() != 0:
				t.Errorf("logged %q for valid UTF-8", logs.String())
			case tt.replaced > 0 && (strings.Count(logs.String(), "\n") != 1 || !strings.Contains(logs.String(), fmt.Sprintf("bytes=%d", tt.replaced))):
				t.Errorf("want one log line counting %d bytes, got %q", tt.replaced, logs.String())
			}
		})
	}
}

// A server that floods with stray answers costs a few log lines, each counting the drops it did not log.
func TestDroppedAnswersLogIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		r := &Relay{Out: NewWriter(io.Discard), Log: slog.New(slog.NewTextHandler(&logs, nil))}
		for i := range 1000 {
			r.Deliver(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"result":{}}`, i))
		}
		if n := strings.Count(logs.String(), "dropped an answer"); n != dropBurst {
			t.Errorf("%d lines for 1000 drops at once, want %d", n, dropBurst)
		}
		time.Sleep(time.Second)
		logs.Reset()
		r.Deliver([]byte(`{"jsonrpc":"2.0","id":"late","result":{}}`))
		if !strings.Contains(logs.String(), "not_logged_before=990") {
			t.Errorf("the next line must count the drops left unlogged: %q", logs.String())
		}
	})
}

// A request the relay cannot read is answered with its id when the id can be read and is not in use.
func TestUnreadableRequestKeepsItsID(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	tests := []struct {
		name, input, want string
	}{
		{"nested 100,000 deep", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"a":` + deep + `}}` + "\n",
			`{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"Invalid Request: nested more than 10000 levels deep, the bridge's limit"}}`},
		{"nested, the id last", `{"jsonrpc":"2.0","method":"tools/call","params":` + deep + `,"id":"q"}` + "\n",
			`{"jsonrpc":"2.0","id":"q","error":{"code":-32600,"message":"Invalid Request: nested more than 10000 levels deep, the bridge's limit"}}`},
		{"broken after the id", `{"jsonrpc":"2.0","id":4,"method":"m","params":{x}}` + "\n",
			`{"jsonrpc":"2.0","id":4,"error":{"code":-32700,"message":"Parse error: invalid JSON at byte 47"}}`},
		{"broken, its id in use", req("5", "hold") + `{"jsonrpc":"2.0","id":5,"method":"m","params":{x}}` + "\n",
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: invalid JSON at byte 47"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, sent, _ := runScript(t, tt.input, func(jsonrpc.Message, func(string)) {})
			if len(out) != 1 || out[0] != tt.want {
				t.Errorf("the client got %q, want %s", out, tt.want)
			}
			if n := strings.Count(tt.input, "\n") - 1; len(sent) != n {
				t.Errorf("%d messages reached the server, want %d", len(sent), n)
			}
		})
	}
}

// closingServer is a slowServer whose Close fails the initialize it holds, as remote.Client's Close fails what is
// in flight.
type closingServer struct{ *slowServer }

func (s closingServer) Close(context.Context) error {
	s.gate <- "the bridge is shutting down"
	return nil
}

// A client that disconnects while a sign-in is pending gets no advice after its input ended: the sign-in's
// initialize, failed by the shutdown, says nothing to it.
func TestNoAdviceAfterEndOfInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stdout bytes.Buffer
		si := &fakeSignIn{}
		si.set(true, "https://as.example/authorize?x=1")
		r := &Relay{In: strings.NewReader(initLine + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"),
			Out: NewWriter(&stdout), SignIn: si, SignInWait: time.Second, ServerName: "MeshAI"}
		r.Up = closingServer{&slowServer{relay: r, caps: `{"tools":{}}`, gate: make(chan string)}}
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"id":1`) || !strings.Contains(lines[1], "as.example/authorize") {
			t.Errorf("want the initialize answer and the link, nothing after the input ended; got\n%s", stdout.String())
		}
	})
}
