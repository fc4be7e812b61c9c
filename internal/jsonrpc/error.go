package jsonrpc

import (
	"bytes"
	"encoding/json"
)

// Standard JSON-RPC error codes, and the one the relay uses for upstream failures.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeUpstream is in the implementation-defined server-error range: the remote server could not be reached or failed.
	CodeUpstream = -32000
)

// ErrorResponse builds a JSON-RPC error response for id (nil id → "id": null).
func ErrorResponse(id json.RawMessage, code int, message string, data any) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	type errObj struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   errObj          `json:"error"`
	}{"2.0", id, errObj{code, message, data}})
	if err != nil { // only data can fail to marshal; drop it rather than lose the answer
		b, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": errObj{Code: code, Message: message}})
	}
	return b
}

// OneLine returns raw as a single line: newlines between JSON tokens are removed, nothing else changes.
// A raw newline can only be insignificant whitespace in valid JSON, so values stay byte-for-byte the same.
func OneLine(raw []byte) []byte {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	// Dropping every CR and LF is the same, in one copy: json.Compact took half a second over a 20 MB answer.
	out := make([]byte, 0, len(raw))
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			i = len(raw)
		}
		seg := raw[:i]
		for j := bytes.IndexByte(seg, '\r'); j >= 0; j = bytes.IndexByte(seg, '\r') {
			out, seg = append(out, seg[:j]...), seg[j+1:]
		}
		out = append(out, seg...)
		raw = raw[min(i+1, len(raw)):]
	}
	return out
}
