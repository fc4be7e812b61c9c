package jsonrpc

import (
	"bytes"
	"encoding/json"
)

// IDFromPrefix reads the top-level "id" of a message of which only the start is at hand (one dropped for its
// size): the id when it comes before the prefix ends and before any value that does not fit in it, else nil.
func IDFromPrefix(prefix []byte) json.RawMessage {
	id, _ := prefixFields(prefix)
	return id
}

// ResponseIDFromPrefix is IDFromPrefix for a message known, from the same prefix, to be a response: a "result"
// or "error" member begins within it. A request's id is another party's and is not returned.
func ResponseIDFromPrefix(prefix []byte) json.RawMessage {
	if id, response := prefixFields(prefix); response {
		return id
	}
	return nil
}

// prefixFields reads the top-level members of a message's prefix up to the first value cut off: the id, if one
// was read whole, and whether a "result" or "error" member began.
func prefixFields(prefix []byte) (id json.RawMessage, response bool) {
	dec := decoderFor(prefix)
	defer putDecoder(dec)
	if dec.PeekKind() != '{' {
		return nil, false
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, false
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return id, response
		}
		switch name.String() {
		case "result", "error":
			response = true
		case "id":
			v, err := value(dec, prefix)
			if err != nil || len(bytes.TrimSpace(prefix[dec.InputOffset():])) == 0 {
				return id, response // a number at the very end of the prefix may go on past it
			}
			switch v[0] {
			case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				id = bytes.Clone(v)
			}
			continue
		}
		if dec.SkipValue() != nil {
			return id, response
		}
	}
	return id, response
}
