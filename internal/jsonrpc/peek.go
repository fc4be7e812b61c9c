package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Peek returns the kind and id of raw, a message that Parse accepted before (the transport parsed every message
// it hands on), reading only its top-level members: a result of many megabytes is stepped over, not decoded or
// validated a second time. A batch is KindBatch with no id: Parse it for its elements.
func Peek(raw []byte) (Kind, json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		return KindBatch, nil
	}
	var (
		id             []byte
		method, answer bool
	)
	ok := members(raw, func(name, value []byte) bool {
		n := name[1 : len(name)-1]
		if bytes.IndexByte(n, '\\') >= 0 {
			n = []byte(memberName(name))
		}
		switch string(n) {
		case "id":
			id = value
		case "method":
			method = len(value) > 2 && value[0] == '"' // a string, not empty
		case "result", "error":
			answer = true
		}
		return true
	})
	switch {
	case !ok:
		return KindInvalid, nil
	case method && (id == nil || bytes.Equal(id, []byte("null"))):
		return KindNotification, nil
	case method:
		return KindRequest, id
	case answer && id != nil:
		return KindResponse, id
	}
	return KindInvalid, nil
}

// memberName is a member's name without its quotes, its escapes decoded when it has any.
func memberName(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return ""
	}
	return s
}

// members calls visit with the quoted name and the raw value of each top-level member of raw, a JSON object, in
// order, until visit returns false. It steps over values without looking into them — strings with IndexByte,
// arrays and objects by counting brackets at any depth — and validates nothing: it is for JSON that was validated
// before, or, when validation failed, to find what can still be read. ok is false when raw is no object or ends
// early.
func members(raw []byte, visit func(name, value []byte) bool) (ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return true
	}
	for i < len(raw) && raw[i] == '"' {
		end := stringEnd(raw, i)
		if end < 0 {
			return false
		}
		name := raw[i:end]
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipSpace(raw, i+1)
		vend := valueEnd(raw, i)
		if vend < 0 {
			return false
		}
		if !visit(name, raw[i:vend]) {
			return true
		}
		i = skipSpace(raw, vend)
		switch {
		case i < len(raw) && raw[i] == '}':
			return true
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		default:
			return false
		}
	}
	return false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that opens at raw[i], or -1 when it is not closed. It jumps
// to the next quote with IndexByte when that is far (plain text), and walks byte by byte over stretches where
// quotes are close together (JSON quoted in a text), where a call per quote would cost more than it saves.
func stringEnd(raw []byte, i int) int {
	j := i + 1 // raw[j] never follows a backslash that escapes it
	for j < len(raw) {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			return -1
		}
		if k >= 32 {
			q := j + k
			escapes := 0
			for p := q - 1; p >= j && raw[p] == '\\'; p-- {
				escapes++
			}
			if escapes%2 == 0 {
				return q + 1
			}
			j = q + 1
			continue
		}
		for end := min(len(raw), j+4096); j < end; j++ {
			switch raw[j] {
			case '\\':
				j++ // the escaped byte
			case '"':
				return j + 1
			}
		}
	}
	return -1
}

// valueEnd returns the index just past the value that starts at raw[i], or -1 when it does not end.
func valueEnd(raw []byte, i int) int {
	if i >= len(raw) {
		return -1
	}
	switch raw[i] {
	case '"':
		return stringEnd(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				end := stringEnd(raw, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(raw) && strings.IndexByte(",}] \t\r\n", raw[j]) < 0 {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
