package jsonrpc

import (
	"encoding/json"
	"testing"
)

func TestWithID(t *testing.T) {
	for _, c := range []struct {
		name, raw, id, want string
		kind                Kind
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"a":"<b>"}}`, `"x/1"`,
			`{"jsonrpc":"2.0","id":"x/1","method":"initialize","params":{"a":"<b>"}}`, KindRequest},
		{"spacing and order kept", "{ \"method\" : \"m\",\n \"id\" : 7 , \"z\":[1, 2] }", `8`,
			"{ \"method\" : \"m\",\n \"id\" : 8 , \"z\":[1, 2] }", KindRequest},
		{"notification gets an id", `{"jsonrpc":"2.0","method":"ping"}`, `3`,
			`{"id":3,"jsonrpc":"2.0","method":"ping"}`, KindRequest},
		{"empty object", `{}`, `3`, `{"id":3}`, KindInvalid},
		{"response", `{"jsonrpc":"2.0","id":"a","result":{}}`, `"b"`, `{"jsonrpc":"2.0","id":"b","result":{}}`, KindResponse},
		{"repeated id: both replaced", `{"jsonrpc":"2.0","id":1,"method":"m","id":2}`, `9`, `{"jsonrpc":"2.0","id":9,"method":"m","id":9}`, KindRequest},
		{"escaped name", `{"jsonrpc":"2.0","\u0069d":1,"method":"m"}`, `2`, `{"jsonrpc":"2.0","\u0069d":2,"method":"m"}`, KindRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := WithID([]byte(c.raw), json.RawMessage(c.id))
			if err != nil && c.kind != KindInvalid {
				t.Fatal(err)
			}
			if string(m.Raw) != c.want || m.Kind != c.kind {
				t.Errorf("WithID = %s (%v), want %s (%v)", m.Raw, m.Kind, c.want, c.kind)
			}
			if c.kind != KindInvalid && string(m.ID) != c.id {
				t.Errorf("id = %s, want %s", m.ID, c.id)
			}
		})
	}
	for _, bad := range []struct{ raw, id string }{{`[1]`, `1`}, {`{"id":1`, `1`}, {`{"id":1} {}`, `1`}, {`{"id":1}`, `nope`}, {`not json`, `1`}} {
		if m, err := WithID([]byte(bad.raw), json.RawMessage(bad.id)); err == nil {
			t.Errorf("WithID(%s, %s) = %s, want an error", bad.raw, bad.id, m.Raw)
		}
	}
}
