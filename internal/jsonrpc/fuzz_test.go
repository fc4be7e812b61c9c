package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, classifies every input, keeps Raw byte-for-byte, and agrees with encoding/json
// on what is JSON at all.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}`,
		`{"jsonrpc":"2.0","id":"x","result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]`,
		`[]`, `[1]`, `"s"`, `{`, "\xff", `{"id":{"a":1},"method":""}`, `{"result":null,"id":[1]}`,
		`{"id":"\"]","method":"m","params":` + strings.Repeat("[", 10001) + `]}`, `{"id":2,"method":"m","params":{x}}`,
		`{"result":{"t":"` + strings.Repeat(`x`, 40) + `\\\"` + strings.Repeat(`y`, 40) + `\\"},"id":"` + strings.Repeat(`\\`, 20) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in)
		trimmed := bytes.TrimSpace(in)
		if err == nil {
			if m.Kind == KindInvalid || !bytes.Equal(m.Raw, trimmed) {
				t.Fatalf("accepted %q as %v with Raw %q", in, m.Kind, m.Raw)
			}
			if !json.Valid(trimmed) {
				t.Fatalf("accepted invalid JSON %q", in)
			}
			if (m.Kind == KindRequest || m.Kind == KindResponse) && m.ID == nil {
				t.Fatalf("%v without id: %q", m.Kind, in)
			}
			// Peek, which steps over what Parse validated, reads the same kind and id.
			if kind, id := Peek(m.Raw); m.Kind != KindBatch && (kind != m.Kind || !bytes.Equal(id, m.ID)) {
				t.Fatalf("Peek(%q) = %v %s, Parse says %v %s", in, kind, id, m.Kind, m.ID)
			}
			// The id and params are the very bytes of the message, whole values.
			for _, part := range [][]byte{m.ID, m.Params} {
				if part != nil && (!json.Valid(part) || !bytes.Contains(m.Raw, part)) {
					t.Fatalf("id or params %q is not a value of %q", part, in)
				}
			}
			return
		}
		if !errors.Is(err, ErrParse) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unclassified error %v", err)
		}
		if errors.Is(err, ErrParse) && len(trimmed) > 0 && json.Valid(trimmed) {
			t.Fatalf("valid JSON %q reported as a parse error", in)
		}
		// An id kept with an error is a whole value of the input.
		if m.ID != nil && (!json.Valid(m.ID) || !bytes.Contains(in, m.ID)) {
			t.Fatalf("error for %q keeps the id %q", in, m.ID)
		}
		// Whatever the input, the error answer is valid JSON.
		if !json.Valid(ErrorResponse(m.ID, CodeInvalidRequest, err.Error(), nil)) {
			t.Fatalf("error response for %q is not JSON", in)
		}
	})
}

// FuzzOneLine: the result has no newline and decodes to the same value.
func FuzzOneLine(f *testing.F) {
	f.Add([]byte("{\n \"a\": \"x\\ny\",\r\n \"b\": [1,\n2]\n}"))
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		out := OneLine(in)
		if bytes.ContainsAny(out, "\r\n") {
			t.Fatalf("newline left in %q", out)
		}
		a, errA := decodeNumbers(in)
		b, errB := decodeNumbers(out)
		if errA != nil || errB != nil {
			t.Fatalf("OneLine broke %q into %q", in, out)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("OneLine changed the value of %q", in)
		}
	})
}

// decodeNumbers decodes keeping numbers as written (1E700 overflows a float64 but is valid JSON).
func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}
