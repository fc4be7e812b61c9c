package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
)

// WithID returns the message raw, one JSON object, with its id replaced by id (given one when it has none);
// every other byte stays as written. The relay and the transport replay a client's request under an id of
// their own this way.
func WithID(raw []byte, id json.RawMessage) (Message, error) {
	if !json.Valid(id) {
		return Message{}, errors.New("the new id is not JSON")
	}
	dec := decoderFor(raw)
	defer putDecoder(dec)
	if dec.PeekKind() != '{' {
		return Message{}, errors.New("replace the id: the message is not a JSON object")
	}
	if _, err := dec.ReadToken(); err != nil {
		return Message{}, err
	}
	open := dec.InputOffset()
	var ids [][2]int64 // where each id value stands in raw
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return Message{}, err
		}
		isID := name.String() == "id" // read before the next call voids the token
		v, err := dec.ReadValue()
		if err != nil {
			return Message{}, err
		}
		if isID {
			end := dec.InputOffset()
			ids = append(ids, [2]int64{end - int64(len(v)), end})
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}', or what stopped the loop
		return Message{}, err
	}
	if err := end(dec); err != nil {
		return Message{}, err
	}
	var out bytes.Buffer
	out.Grow(len(raw) + len(id) + 8)
	if len(ids) == 0 {
		out.Write(raw[:open])
		out.WriteString(`"id":`)
		out.Write(id)
		if rest := bytes.TrimSpace(raw[open:]); len(rest) > 0 && rest[0] != '}' {
			out.WriteByte(',')
		}
		out.Write(raw[open:])
		return Parse(out.Bytes())
	}
	at := int64(0)
	for _, r := range ids {
		out.Write(raw[at:r[0]])
		out.Write(id)
		at = r[1]
	}
	out.Write(raw[at:])
	return Parse(out.Bytes())
}
