// Package jsonrpc inspects JSON-RPC 2.0 messages just enough to route them, keeping every byte of the original.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind says what a message is.
type Kind int

// The kinds of JSON-RPC message.
const (
	KindInvalid Kind = iota
	KindRequest
	KindNotification
	KindResponse
	KindBatch
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	case KindBatch:
		return "batch"
	}
	return "invalid"
}

// Message is one JSON-RPC message (or batch) as it arrived, with the fields the relay routes on.
// Raw is never rewritten: params, results, _meta and unknown fields pass through untouched.
type Message struct {
	Raw    []byte          // the message exactly as received, without surrounding whitespace
	Kind   Kind            // request, notification, response or batch
	ID     json.RawMessage // the id as sent (requests and responses); nil otherwise
	Method string          // the method (requests and notifications)
	Params json.RawMessage // the params, only for requests and notifications
	Batch  []Message       // the elements of a batch
}

// ErrParse means the bytes are not JSON; ErrInvalid means JSON that is not a JSON-RPC message.
var (
	ErrParse   = errors.New("parse error")
	ErrInvalid = errors.New("invalid request")
)

// Parse inspects raw. It returns ErrParse for malformed JSON and ErrInvalid for JSON that is not a message;
// in the ErrInvalid case the returned Message still carries the id when one could be read.
func Parse(raw []byte) (Message, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Message{}, fmt.Errorf("%w: empty message", ErrParse)
	}
	if raw[0] == '[' {
		return parseBatch(raw)
	}
	return parseOne(raw)
}

func parseBatch(raw []byte) (Message, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Message{}, fmt.Errorf("%w: invalid JSON at byte %d", ErrParse, se.Offset)
		}
		return Message{}, fmt.Errorf("%w: invalid JSON", ErrParse)
	}
	if len(elems) == 0 {
		return Message{}, fmt.Errorf("%w: empty batch", ErrInvalid)
	}
	m := Message{Raw: raw, Kind: KindBatch, Batch: make([]Message, 0, len(elems))}
	for _, e := range elems {
		one, err := parseOne(e)
		if err != nil {
			return one, fmt.Errorf("batch element: %w", err)
		}
		m.Batch = append(m.Batch, one)
	}
	return m, nil
}

func parseOne(raw []byte) (Message, error) {
	env, err := readEnvelope(raw)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %s", ErrParse, syntaxError(err))
	}
	if !env.Object || env.BadMethod {
		return Message{}, fmt.Errorf("%w: a JSON-RPC message must be a JSON object", ErrInvalid)
	}
	m := Message{Raw: raw}
	if len(env.ID) > 0 && !bytes.Equal(env.ID, []byte("null")) {
		m.ID = env.ID
	}
	switch {
	case env.Method != nil && *env.Method != "":
		m.Method, m.Params = *env.Method, env.Params
		if m.ID != nil {
			m.Kind = KindRequest
		} else {
			m.Kind = KindNotification
		}
	case env.Result || env.Error:
		// An answer names its request; only an error may say "id": null (it could not tell which).
		m.ID = env.ID
		if env.ID == nil || (m.ID != nil && bytes.Equal(env.ID, []byte("null")) && !env.Error) {
			return m, fmt.Errorf("%w: a response without an id", ErrInvalid)
		}
		m.Kind = KindResponse
	default:
		m.ID = env.ID
		return m, fmt.Errorf("%w: no method, result or error", ErrInvalid)
	}
	return m, nil
}

// syntaxError says where the JSON went wrong, without echoing the content (it may hold secrets).
func syntaxError(err error) string {
	var nj errNotJSON
	if errors.As(err, &nj) && nj.offset > 0 {
		return fmt.Sprintf("invalid JSON at byte %d", nj.offset)
	}
	return "invalid JSON"
}

// IDKey returns a map key for an id: the same key for the same id however it was spaced.
func IDKey(id json.RawMessage) string {
	if !bytes.ContainsAny(id, " \t\r\n") {
		return string(id) // nothing for Compact to remove: the usual case, without its buffer
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return string(id)
	}
	return buf.String()
}

// IDs returns the ids of the requests in m (one for a request, several for a batch).
func (m Message) IDs(kind Kind) []json.RawMessage {
	if m.Kind == KindBatch {
		var ids []json.RawMessage
		for _, e := range m.Batch {
			ids = append(ids, e.IDs(kind)...)
		}
		return ids
	}
	if m.Kind == kind && m.ID != nil {
		return []json.RawMessage{m.ID}
	}
	return nil
}

// HasRequest reports whether m is, or holds, a request that expects an answer.
func (m Message) HasRequest() bool { return len(m.IDs(KindRequest)) > 0 }
