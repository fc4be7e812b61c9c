package jsonrpc

import "testing"

func TestIDFromPrefix(t *testing.T) {
	for prefix, want := range map[string]string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"aaaa`: `7`,
		`{"jsonrpc":"2.0","method":"m","id":"a-b","params":[1,2`:            `"a-b"`,
		`{"params":{"big":"aaaaaaaa`:                                        ``,
		`{"jsonrpc":"2.0","id":12`:                                          ``, // the number may go on
		`{"id":null,"x":1`:                                                  ``,
		`{"id":{"a":1},`:                                                    ``,
		`[{"id":1}`:                                                         ``,
		`not json`:                                                          ``,
		``:                                                                  ``,
	} {
		if got := string(IDFromPrefix([]byte(prefix))); got != want {
			t.Errorf("IDFromPrefix(%q) = %q, want %q", prefix, got, want)
		}
	}
}
