package jsonrpc

import (
	"bytes"
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
)

// IDFromPrefix reads the top-level "id" of a message of which only the start is at hand (one dropped for its
// size): the id when it comes before the prefix ends and before any value that does not fit in it, else nil.
func IDFromPrefix(prefix []byte) json.RawMessage {
	dec := decoders.Get().(*jsontext.Decoder)
	defer decoders.Put(dec)
	dec.Reset(bytes.NewBuffer(prefix), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	if dec.PeekKind() != '{' {
		return nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil
		}
		if name.String() != "id" {
			if dec.SkipValue() != nil {
				return nil
			}
			continue
		}
		v, err := value(dec, prefix)
		if err != nil || bytes.Equal(v, []byte("null")) || len(bytes.TrimSpace(prefix[dec.InputOffset():])) == 0 {
			return nil // a number at the very end of the prefix may go on past it
		}
		switch v[0] {
		case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return bytes.Clone(v)
		}
		return nil
	}
	return nil
}
