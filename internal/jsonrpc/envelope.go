package jsonrpc

import (
	"bytes"
	"errors"
	"io"
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

// errNotJSON marks input that is not one JSON value; its offset says where reading stopped.
type errNotJSON struct{ offset int64 }

func (e errNotJSON) Error() string { return "invalid JSON" }

// decoders are reused: a jsontext.Decoder reads a message in one pass, validating it and skipping the values the
// relay does not need, with no allocation once warm.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// readEnvelope validates raw as exactly one JSON value (what json.Valid accepts, invalid UTF-8 and repeated names
// included) and, when it is an object, reads its top-level id, method, params, result and error. Names match
// exactly, as JSON-RPC's do; a repeated name counts its last value, as encoding/json does.
func readEnvelope(raw []byte) (envelope, error) {
	var env envelope
	dec := decoders.Get().(*jsontext.Decoder)
	defer decoders.Put(dec)
	dec.Reset(bytes.NewBuffer(raw), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	fail := func(err error) (envelope, error) {
		var se *jsontext.SyntacticError
		if errors.As(err, &se) {
			return envelope{}, errNotJSON{se.ByteOffset}
		}
		return envelope{}, errNotJSON{dec.InputOffset()}
	}
	if dec.PeekKind() != '{' {
		if err := dec.SkipValue(); err != nil {
			return fail(err)
		}
		return env, end(dec, fail)
	}
	env.Object = true
	if _, err := dec.ReadToken(); err != nil {
		return fail(err)
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return fail(err)
		}
		switch name.String() {
		case "id":
			v, err := value(dec, raw)
			if err != nil {
				return fail(err)
			}
			env.ID = v
		case "method":
			if dec.PeekKind() == '"' {
				tok, err := dec.ReadToken()
				if err != nil {
					return fail(err)
				}
				m := tok.String()
				env.Method = &m
				continue
			}
			kind := dec.PeekKind()
			if err := dec.SkipValue(); err != nil {
				return fail(err)
			}
			env.Method, env.BadMethod = nil, kind != 'n'
		case "params":
			v, err := value(dec, raw)
			if err != nil {
				return fail(err)
			}
			env.Params = v
		default:
			switch name.String() {
			case "result":
				env.Result = true
			case "error":
				env.Error = true
			}
			if err := dec.SkipValue(); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}' or the error that stopped the loop
		return fail(err)
	}
	if err := end(dec, fail); err != nil {
		return envelope{}, err
	}
	return env, nil
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
func end(dec *jsontext.Decoder, fail func(error) (envelope, error)) error {
	_, err := dec.ReadToken()
	if err == io.EOF {
		return nil
	}
	if err == nil {
		err = errNotJSON{dec.InputOffset()}
	}
	_, err = fail(err)
	return err
}
