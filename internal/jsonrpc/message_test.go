package jsonrpc

import (
	"errors"
	"strings"
	"testing"
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
		{"trailing value", `{"id":1,"method":"m"} {}`, KindInvalid, "", "", ErrParse},
		{"trailing garbage", `{"id":1,"method":"m"}x`, KindInvalid, "", "", ErrParse},
		{"unclosed string in a skipped value", `{"id":1,"result":{"a":"b}}`, KindInvalid, "", "", ErrParse},
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
	if IDKey([]byte(` "a" `)) != IDKey([]byte(`"a"`)) || IDKey([]byte("1")) == IDKey([]byte(`"1"`)) {
		t.Error("IDKey must ignore spacing and keep types apart")
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
