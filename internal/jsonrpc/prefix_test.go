package jsonrpc

import "testing"

func TestIDFromPrefix(t *testing.T) {
	for _, tt := range []struct {
		prefix       string
		id, response string
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"aaaa`, `7`, ``},
		{`{"jsonrpc":"2.0","method":"m","id":"a-b","params":[1,2`, `"a-b"`, ``},
		{`{"jsonrpc":"2.0","id":3,"result":{"content":[{"text":"aaa`, `3`, `3`},
		{`{"jsonrpc":"2.0","error":{"code":1,"message":"x"},"id":"e"}`, `"e"`, `"e"`},
		{`{"result":{"big":"aaaaaaaa`, ``, ``},
		{`{"params":{"big":"aaaaaaaa`, ``, ``},
		{`{"jsonrpc":"2.0","id":12`, ``, ``}, // the number may go on
		{`{"id":null,"x":1`, ``, ``},
		{`{"id":{"a":1},`, ``, ``},
		{`[{"id":1}`, ``, ``},
		{`not json`, ``, ``},
		{``, ``, ``},
	} {
		if got := string(IDFromPrefix([]byte(tt.prefix))); got != tt.id {
			t.Errorf("IDFromPrefix(%q) = %q, want %q", tt.prefix, got, tt.id)
		}
		if got := string(ResponseIDFromPrefix([]byte(tt.prefix))); got != tt.response {
			t.Errorf("ResponseIDFromPrefix(%q) = %q, want %q", tt.prefix, got, tt.response)
		}
	}
}
