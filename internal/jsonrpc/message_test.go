package jsonrpc

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"weak"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		kind    Kind
		method  string
		id      string
		wantErr error
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, KindRequest, "tools/list", "1", nil},
		{"string id", `{"jsonrpc":"2.0","id":"a-1","method":"ping"}`, KindRequest, "ping", `"a-1"`, nil},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, "notifications/initialized", "", nil},
		{"null id is a notification", `{"jsonrpc":"2.0","id":null,"method":"x"}`, KindNotification, "x", "", nil},
		{"result", `{"jsonrpc":"2.0","id":7,"result":{}}`, KindResponse, "", "7", nil},
		{"error response", `{"jsonrpc":"2.0","id":"7","error":{"code":-1,"message":"m","data":{"x":[1]}}}`, KindResponse, "", `"7"`, nil},
		{"null result is still an answer", `{"jsonrpc":"2.0","id":3,"result":null}`, KindResponse, "", "3", nil},
		{"padded", "  {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"m\"}\r\n", KindRequest, "m", "2", nil},
		{"garbage", `{"jsonrpc":`, KindInvalid, "", "", ErrParse},
		{"not an object", `42`, KindInvalid, "", "", ErrInvalid},
		{"no method nor result", `{"jsonrpc":"2.0","id":9}`, KindInvalid, "", "9", ErrInvalid},
		{"empty", ``, KindInvalid, "", "", ErrParse},
		{"empty batch", `[]`, KindInvalid, "", "", ErrInvalid},
		{"broken batch", `[{"id":1,"method":"a"},`, KindInvalid, "", "", ErrParse},
		{"spaced id kept as written", `{ "id" : [ 1 ,2 ] , "method" : "m" }`, KindRequest, "m", "[ 1 ,2 ]", nil},
		{"escaped method", `{"id":1,"method":"tools\/li\u0073t"}`, KindRequest, "tools/list", "1", nil},
		{"invalid UTF-8 passes, as encoding/json lets it", "{\"id\":1,\"method\":\"m\",\"params\":{\"x\":\"\xff\"}}", KindRequest, "m", "1", nil},
		{"repeated name: the last counts", `{"id":1,"id":2,"method":"a","method":"b"}`, KindRequest, "b", "2", nil},
		{"names match exactly", `{"ID":1,"Method":"m","id":3,"result":{}}`, KindResponse, "", "3", nil},
		{"method not a string", `{"id":1,"method":7}`, KindInvalid, "", "", ErrInvalid},
		{"method null, result", `{"id":1,"method":null,"result":1}`, KindResponse, "", "1", nil},
		{"trailing value keeps the id", `{"id":1,"method":"m"} {}`, KindInvalid, "", "1", ErrParse},
		{"trailing garbage keeps the id", `{"id":1,"method":"m"}x`, KindInvalid, "", "1", ErrParse},
		{"broken after the id keeps it", `{"jsonrpc":"2.0","id":"r-9","method":"m","params":{oops}}`, KindInvalid, "", `"r-9"`, ErrParse},
		{"broken before the id: none", `{"jsonrpc":"2.0","method":"m","params":{oops},"id":4}`, KindInvalid, "", "", ErrParse},
		{"null id is no id", `{"id":null,"params":{oops}}`, KindInvalid, "", "", ErrParse},
		{"deep params after the id", `{"jsonrpc":"2.0","id":7,"method":"m","params":` + nested(100000) + `}`, KindInvalid, "", "7", ErrInvalid},
		{"deep params before the id", `{"jsonrpc":"2.0","method":"m","params":` + nested(100000) + `,"id":"x"}`, KindInvalid, "", `"x"`, ErrInvalid},
		{"deep params, escaped name", `{"params":` + nested(20000) + `,"\u0069d":8,"method":"m"}`, KindInvalid, "", "8", ErrInvalid},
		{"deep id is no id", `{"method":"m","id":` + nested(20000) + `}`, KindInvalid, "", "", ErrInvalid},
		{"deep and broken", `{"method":"m","params":` + nested(20000)[:100000] + `,"id":3}`, KindInvalid, "", "", ErrInvalid},
		{"just within the limit", `{"id":5,"method":"m","params":` + nested(9998) + `}`, KindRequest, "m", "5", nil},
		{"unclosed string in a skipped value", `{"id":1,"result":{"a":"b}}`, KindInvalid, "", "1", ErrParse},
		{"number key", `{1:2}`, KindInvalid, "", "", ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if m.Kind != tt.kind || m.Method != tt.method || string(m.ID) != tt.id {
				t.Errorf("got kind %v method %q id %q; want %v %q %q", m.Kind, m.Method, m.ID, tt.kind, tt.method, tt.id)
			}
			if err == nil && string(m.Raw) != strings.TrimSpace(tt.in) {
				t.Errorf("Raw changed: %q", m.Raw)
			}
		})
	}
}

// nested is n arrays, one in the other, with strings that hold brackets.
func nested(n int) string {
	return strings.Repeat(`["]\\",`, n) + `0` + strings.Repeat(`]`, n)
}

func TestParseBatch(t *testing.T) {
	m, err := Parse([]byte(`[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":"x","method":"b"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindBatch || len(m.Batch) != 3 || !m.HasRequest() {
		t.Fatalf("bad batch: %+v", m)
	}
	ids := m.IDs(KindRequest)
	if len(ids) != 2 || string(ids[0]) != "1" || string(ids[1]) != `"x"` {
		t.Errorf("ids = %q", ids)
	}
	if _, err := Parse([]byte(`[{"jsonrpc":"2.0","id":1,"method":"a"}, 5]`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("batch with a non-object: err = %v", err)
	}
}

func TestParseErrorHidesContent(t *testing.T) {
	_, err := Parse([]byte(`{"token":"s3cr3t-value", oops}`))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error must not echo the input: %v", err)
	}
}

func TestIDKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{` "a" `, `"a"`, true},
		{`"a"`, `"\u0061"`, true},
		{`"a\"b"`, `"a\u0022b"`, true},
		{`"a"`, `"b"`, false},
		{`1`, `"1"`, false},
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`100`, `1E2`, true},
		{`100`, `1.00e+2`, true},
		{`0`, `-0`, true},
		{`0`, `0.000e5`, true},
		{`-5`, `-5.0`, true},
		{`-5`, `5`, false},
		{`1.5`, `15e-1`, true},
		{`1.5`, `1.50`, true},
		{`1.5`, `1.05`, false},
		{`12`, `1.2`, false},
		{`9007199254740993`, `9007199254740992`, false}, // equal as float64: not as ids
		{`1000000000000000000000000000000`, `1e30`, true},
		{`10000000000000000000000000000000000000000`, `1e40`, true},
		{`1e999999999999`, `1e999999999999`, true},
		{`1e999999999999`, `1e999999999998`, false},
		{`[ 1 ,2 ]`, `[1,2]`, true},
		{`{"a":1}`, `[1]`, false},
	}
	for _, tt := range tests {
		if got := IDKey([]byte(tt.a)) == IDKey([]byte(tt.b)); got != tt.same {
			t.Errorf("IDKey(%s) == IDKey(%s) is %v, want %v (%q, %q)", tt.a, tt.b, got, tt.same, IDKey([]byte(tt.a)), IDKey([]byte(tt.b)))
		}
	}
	if k := IDKey([]byte("12345")); k != "12345" {
		t.Errorf("an integer id is its own key, got %q", k)
	}
}

func TestPeek(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		id   string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, KindRequest, "1"},
		{`{"jsonrpc":"2.0","method":"n","id":null}`, KindNotification, ""},
		{`{"jsonrpc":"2.0","method":"n"}`, KindNotification, ""},
		{`{"result":{"text":"a \"}\\\" ] [ {"},"id" : "x" }`, KindResponse, `"x"`},
		{`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}}`, KindResponse, "null"},
		{`{"method":null,"result":[1,{"a":[2]}],"id":[ 1 ,2 ]}`, KindResponse, "[ 1 ,2 ]"},
		{`{"method":"","error":{},"id":3}`, KindResponse, "3"},
		{`{"\u0069d":4,"\u006dethod":"m"}`, KindRequest, "4"},
		{`{"id":1,"id":2,"result":{}}`, KindResponse, "2"},
		{`{"result":"` + strings.Repeat("x", 40) + `\"` + strings.Repeat("y", 40) + `\"}","id":5}`, KindResponse, "5"},
		{`{"result":"` + strings.Repeat("x", 40) + `\\","id":` + strings.Repeat(" ", 40) + `6}`, KindResponse, "6"},
		{`{"result":"` + strings.Repeat(`\"`, 3000) + `","id":7}`, KindResponse, "7"},
		{`[{"id":1,"result":{}}]`, KindBatch, ""},
		{`{"id":1}`, KindInvalid, ""},
		{`{"id":1,"result":`, KindInvalid, ""},
		{`{"id":1,"result":"abc`, KindInvalid, ""},
		{`"s"`, KindInvalid, ""},
		{``, KindInvalid, ""},
	}
	for _, tt := range tests {
		kind, id := Peek([]byte(tt.in))
		if kind != tt.kind || string(id) != tt.id {
			t.Errorf("Peek(%s) = %v %s, want %v %s", tt.in, kind, id, tt.kind, tt.id)
		}
		if m, err := Parse([]byte(tt.in)); err == nil && (m.Kind != kind || string(m.ID) != string(id)) {
			t.Errorf("Peek(%s) = %v %s, Parse says %v %s", tt.in, kind, id, m.Kind, m.ID)
		}
	}
}

func TestOneLine(t *testing.T) {
	in := "{\n  \"a\": \"x\\ny\",\n  \"b\": [1, 2]\n}"
	got := string(OneLine([]byte(in)))
	if got != `{  "a": "x\ny",  "b": [1, 2]}` { // only the newlines go: the rest is kept as written
		t.Errorf("OneLine = %s", got)
	}
	flat := []byte(`{"a": 1}`)
	if string(OneLine(flat)) != `{"a": 1}` {
		t.Error("a message without newlines must pass untouched")
	}
}

func TestErrorResponse(t *testing.T) {
	got := string(ErrorResponse(nil, CodeParseError, "Parse error", nil))
	if got != `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}` {
		t.Errorf("got %s", got)
	}
	got = string(ErrorResponse([]byte(`"q"`), CodeUpstream, "down", map[string]any{"status": 502}))
	if got != `{"jsonrpc":"2.0","id":"q","error":{"code":-32000,"message":"down","data":{"status":502}}}` {
		t.Errorf("got %s", got)
	}
}

func TestResponseIDs(t *testing.T) {
	for in, wantErr := range map[string]bool{
		`{"jsonrpc":"2.0","result":{}}`:                                     true,
		`{"jsonrpc":"2.0","id":null,"result":{}}`:                           true,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`: false,
		`{"jsonrpc":"2.0","id":0,"result":{}}`:                              false,
	} {
		m, err := Parse([]byte(in))
		if (err != nil) != wantErr || (err == nil && m.Kind != KindResponse) {
			t.Errorf("%s: kind %v err %v", in, m.Kind, err)
		}
	}
}

// Detail says what was wrong once: the sentinel's own words are left to the answer's "Parse error" or
// "Invalid Request".
func TestDetail(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"jsonrpc":`, "invalid JSON at byte 11"},
		{``, "empty message"},
		{`[]`, "empty batch"},
		{`42`, "a JSON-RPC message must be a JSON object"},
		{`[{"jsonrpc":"2.0"}]`, "batch element: no method, result or error"},
		{`{"jsonrpc":"2.0","result":{}}`, "a response without an id"},
	} {
		_, err := Parse([]byte(tc.raw))
		if err == nil {
			t.Fatalf("Parse(%q) should fail", tc.raw)
		}
		if got := Detail(err); got != tc.want {
			t.Errorf("Detail(Parse(%q)) = %q, want %q (error %q)", tc.raw, got, tc.want, err)
		}
	}
	if got := Detail(errors.New("something else: parse error: x")); got != "something else: parse error: x" {
		t.Errorf("an error that wraps no sentinel should pass unchanged, got %q", got)
	}
}

// Reading a message leaves nothing holding it: a pooled decoder kept the last message it read alive through a
// collection, so a large answer stayed in memory while the next one was read in beside it.
func TestReadersKeepNoMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(raw []byte)
	}{
		{"Parse", func(raw []byte) { Parse(raw) }},
		{"IDFromPrefix", func(raw []byte) { IDFromPrefix(raw) }},
		{"WithID", func(raw []byte) { WithID(raw, json.RawMessage(`2`)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(`{"jsonrpc":"2.0","id":1,"result":{"text":"` + strings.Repeat("x", 1<<20) + `"}}`)
			held := weak.Make(&raw[0])
			tc.read(raw)
			runtime.GC()
			if held.Value() != nil {
				t.Errorf("the message %s read is still held after a collection", tc.name)
			}
		})
	}
}
