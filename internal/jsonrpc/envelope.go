package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// envelope holds the routing fields of one message; results and errors are only noticed, never copied (a tool
// result may be many megabytes).
type envelope struct {
	ID     []byte // the id's JSON as written, nil when absent
	Method *string
	Params []byte
	Result bool
	Error  bool
	Object bool // the message is a JSON object
	// BadMethod: a method that is neither a string nor null, which makes the object no JSON-RPC message.
	BadMethod bool
}

// errNotJSON marks input that is not one JSON value, or nested deeper than maxDepth; its offset says where
// reading stopped.
type errNotJSON struct {
	offset int64
	deep   bool
}

func (e errNotJSON) Error() string { return "invalid JSON" }

// decoders are reused: a jsontext.Decoder reads a message in one pass, validating it and skipping the values the
// relay does not need, with no allocation once warm.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// decoderFor takes a decoder from the pool reading raw in place, as the relay reads every message: invalid
// UTF-8 and repeated names pass (JSON that json.Valid accepts). Give it back with putDecoder.
func decoderFor(raw []byte) *jsontext.Decoder {
	dec := decoders.Get().(*jsontext.Decoder)
	dec.Reset(bytes.NewBuffer(raw), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	return dec
}

// putDecoder gives dec back to the pool without the message it read. A decoder reading a bytes.Buffer holds the
// message itself, and a pooled one outlives a collection: a 20 MB answer stayed live until the collection after
// next, so the next large answer was read in beside it (the bridge's peak RSS, scripts/bench: 52.5 MB, now
// about 35 MB).
func putDecoder(dec *jsontext.Decoder) {
	dec.Reset(bytes.NewBuffer(nil))
	decoders.Put(dec)
}

// readEnvelope validates raw as exactly one JSON value (what json.Valid accepts, invalid UTF-8 and repeated names
// included) and, when it is an object, reads its top-level id, method, params, result and error. Names match
// exactly, as JSON-RPC's do; a repeated name counts its last value, as encoding/json does. On an error the fields
// read before it are returned with it.
func readEnvelope(raw []byte) (envelope, error) {
	dec := decoderFor(raw)
	defer putDecoder(dec)
	env, err := readFields(dec, raw)
	if err == nil {
		err = end(dec)
	}
	if err != nil {
		var se *jsontext.SyntacticError
		if errors.As(err, &se) {
			// The decoder's depth limit shows as a pointer as deep as the limit.
			return env, errNotJSON{offset: se.ByteOffset, deep: strings.Count(string(se.JSONPointer), "/") >= maxDepth}
		}
		return env, errNotJSON{offset: dec.InputOffset()}
	}
	return env, nil
}

// maxDepth is jsontext's nesting limit: a value nested deeper is refused, whether it is JSON or not.
const maxDepth = 10000

// readFields reads one value: an object's routing fields, or any other value skipped whole.
func readFields(dec *jsontext.Decoder, raw []byte) (envelope, error) {
	var env envelope
	if dec.PeekKind() != '{' {
		return env, dec.SkipValue()
	}
	env.Object = true
	if _, err := dec.ReadToken(); err != nil {
		return env, err
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return env, err
		}
		switch n := name.String(); n {
		case "id":
			env.ID, err = value(dec, raw)
		case "params":
			env.Params, err = value(dec, raw)
		case "method":
			env.Method, env.BadMethod, err = method(dec)
		default:
			env.Result = env.Result || n == "result"
			env.Error = env.Error || n == "error"
			err = dec.SkipValue()
		}
		if err != nil {
			return env, err
		}
	}
	_, err := dec.ReadToken() // '}', or the error that stopped the loop
	return env, err
}

// method reads a method: a string, or null (nil); any other value is read whole and reported bad.
func method(dec *jsontext.Decoder) (m *string, bad bool, err error) {
	if dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, false, err
		}
		s := tok.String()
		return &s, false, nil
	}
	kind := dec.PeekKind()
	return nil, kind != 'n', dec.SkipValue()
}

// value reads the next value and returns it as a slice of raw (the decoder's copy is only good until its next
// read).
func value(dec *jsontext.Decoder, raw []byte) ([]byte, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	end := dec.InputOffset()
	return raw[end-int64(len(v)) : end : end], nil
}

// end checks that nothing but whitespace follows the value.
func end(dec *jsontext.Decoder) error {
	_, err := dec.ReadToken()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errNotJSON{offset: dec.InputOffset()} // a second value
	}
	return err
}
