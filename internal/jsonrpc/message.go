// Package jsonrpc inspects JSON-RPC 2.0 messages just enough to route them, keeping every byte of the original.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Detail is the text of an error from Parse without the "parse error: " or "invalid request: " of the sentinel it
// wraps ("invalid JSON at byte 5", "batch element: empty batch"): what follows JSON-RPC's own "Parse error" or
// "Invalid Request" in an answer, which would otherwise say it twice.
func Detail(err error) string {
	s := err.Error()
	for _, e := range []error{ErrParse, ErrInvalid} {
		if errors.Is(err, e) {
			s = strings.Replace(s, e.Error()+": ", "", 1)
		}
	}
	return s
}

// Parse inspects raw. It returns ErrParse for malformed JSON and ErrInvalid for JSON that is not a message (or
// is nested deeper than the decoder's limit); in either case the returned Message still carries the id when one
// could be read.
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
		return failed(raw, env, err)
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

// failed is Parse's answer for raw that the decoder refused: a parse error, or an invalid request when raw is
// nested deeper than the decoder goes. Either keeps the id when it can be read, so the client's request still
// gets its answer: one the decoder read whole before it stopped, or, past the depth limit, the top-level id
// found by stepping over the nested values.
func failed(raw []byte, env envelope, err error) (Message, error) {
	var m Message
	if isID(env.ID) {
		m.ID = env.ID
	}
	if nj := (errNotJSON{}); errors.As(err, &nj) && nj.deep {
		if m.ID == nil {
			members(raw, func(name, value []byte) bool {
				if memberName(name) == "id" && isID(value) && json.Valid(value) {
					m.ID = value
				}
				return true
			})
		}
		return m, fmt.Errorf("%w: nested more than %d levels deep, the bridge's limit", ErrInvalid, maxDepth)
	}
	return m, fmt.Errorf("%w: %s", ErrParse, syntaxError(err))
}

// isID reports whether v can be a request's id: a string or a number (null, or no id, names no request).
func isID(v []byte) bool {
	return len(v) > 0 && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// syntaxError says where the JSON went wrong, without echoing the content (it may hold secrets).
func syntaxError(err error) string {
	var nj errNotJSON
	if errors.As(err, &nj) && nj.offset > 0 {
		return fmt.Sprintf("invalid JSON at byte %d", nj.offset)
	}
	return "invalid JSON"
}

// IDKey returns a map key for an id, equal for ids that name the same request: strings compare by their text
// (escapes decoded: "a" and "\u0061" are one id), numbers by their value (1, 1.0 and 1e0 are one id, as most
// servers read them), and a string never equals a number ("1" is not 1). Other values, which JSON-RPC does not
// allow as ids, compare by their compact text.
func IDKey(id json.RawMessage) string {
	id = bytes.TrimSpace(id)
	switch {
	case len(id) == 0:
		return ""
	case id[0] == '"':
		if bytes.IndexByte(id, '\\') < 0 {
			return string(id) // nothing to decode: the usual case, without a copy of the text
		}
		var s string
		if json.Unmarshal(id, &s) != nil {
			return string(id)
		}
		return `"` + s + `"`
	case id[0] == '-' || (id[0] >= '0' && id[0] <= '9'):
		return numberKey(id)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return string(id)
	}
	return buf.String()
}

// maxIntKey bounds the digits of a number whose key is written out as an integer.
const maxIntKey = 30

// numberKey is the key of a JSON number: its value as significant digits and a power of ten, written as a plain
// integer when it is one of up to maxIntKey digits (so that the usual ids are their own key), else as
// "digits e exponent".
func numberKey(lit []byte) string {
	plain := len(lit) <= maxIntKey
	for i, c := range lit {
		plain = plain && (c >= '0' && c <= '9' || (c == '-' && i == 0))
	}
	if plain && string(lit) != "-0" {
		return string(lit) // an integer as JSON writes it: no leading zeros, already its own key
	}
	s := string(lit)
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = "-", rest
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	e := -len(frac)
	if exp != "" {
		n, err := strconv.Atoi(exp)
		if err != nil || n > 1e9 || n < -1e9 {
			return "n" + string(lit) // an exponent no id needs: compared as written
		}
		e += n
	}
	trimmed := strings.TrimRight(digits, "0")
	e += len(digits) - len(trimmed)
	digits = trimmed
	switch {
	case digits == "":
		return "0"
	case e >= 0 && len(digits)+e <= maxIntKey:
		return sign + digits + strings.Repeat("0", e)
	}
	return sign + digits + "e" + strconv.Itoa(e)
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
