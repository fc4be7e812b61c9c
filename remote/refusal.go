package remote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// sessionLost means the server answered 404 for want of a session: it forgot the one it had given (restart,
// expiry), or the request carried none. On the legacy transport, the endpoint refused a message. cause says
// what the server answered.
type sessionLost struct {
	ref   sessionRef // the session the request went out on, 0 for none
	cause *UpstreamError
}

func (e *sessionLost) Error() string {
	if e.cause != nil {
		return e.cause.Message
	}
	return "the server lost the session"
}

func (e *sessionLost) Unwrap() error {
	if e.cause == nil {
		return nil
	}
	return e.cause
}

// serverAnswer is an answer outside 2xx whose body is the server's own JSON-RPC error for the request: the
// client gets it as it is (code, message, data), not the bridge's error in its place.
type serverAnswer struct {
	raw    []byte // the response, its id the request's
	status int
}

func (e *serverAnswer) Error() string {
	return fmt.Sprintf("the server answered HTTP %d with a JSON-RPC error", e.status)
}

// maxRefusalBody bounds what is read of an answer outside 2xx.
const maxRefusalBody = 64 << 10

// refusal reads an answer outside 2xx to m, posted on session, and closes it. It returns *sessionLost for a 404
// that is about the session rather than the path, *serverAnswer for the server's own JSON-RPC error to m, and
// else an *UpstreamError that describes the status.
func (s *streamableConn) refusal(resp *http.Response, m *jsonrpc.Message, session httpSession) error {
	c := s.c
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRefusalBody))
	st, ct := resp.StatusCode, resp.Header.Get("Content-Type")
	answer := rpcAnswer(resp, body, m)
	if st == http.StatusNotFound && aboutSession(m, session.id, body, answer != nil) {
		return &sessionLost{ref: session.ref, cause: &UpstreamError{
			Message: fmt.Sprintf("%s has no session for this request (404: %s)", textutil.RedactURL(c.url()), textutil.Snippet(body)), Status: st}}
	}
	if answer != nil {
		c.log.Info("the server refused the request with a JSON-RPC error; relaying it", "status", st)
		return &serverAnswer{raw: answer, status: st}
	}
	return describeStatus(c.url(), st, ct, body)
}

// refusalOf is refusal for an answer outside 2xx to a request on no session, and nil for any other.
func (s *streamableConn) refusalOf(resp *http.Response, m *jsonrpc.Message) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return s.refusal(resp, m, httpSession{})
}

// aboutSession tells a 404 about the session from one about the path: the server's words name the session
// ("Invalid session ID", "Session not found", a JSON-RPC error saying so), or the request carried a session the
// server had given and got no JSON-RPC answer of its own (a 2026-07-28 server answers an unknown method with
// 404 and one). initialize opens a session, so its 404 is never about one.
func aboutSession(m *jsonrpc.Message, session string, body []byte, answered bool) bool {
	if m != nil && m.Method == "initialize" {
		return false
	}
	return bytes.Contains(bytes.ToLower(body), []byte("session")) || (session != "" && !answered)
}

// rpcAnswer returns body when it is a JSON-RPC error answering m: application/json, "jsonrpc":"2.0", an error
// object, and the id of one of m's requests, or null when m is a single request (then given m's id, so that
// the client can match it). Refusals that sign-in or a rate limit deal with (401, 403 for more scope, 429)
// are not answers.
func rpcAnswer(resp *http.Response, body []byte, m *jsonrpc.Message) []byte {
	if m == nil || mediaType(resp) != "application/json" || needsReauth(resp) || resp.StatusCode == http.StatusTooManyRequests {
		return nil
	}
	var r struct {
		JSONRPC string          `json:"jsonrpc"`
		Error   json.RawMessage `json:"error"`
	}
	a, err := jsonrpc.Parse(body)
	if err != nil || a.Kind != jsonrpc.KindResponse || json.Unmarshal(body, &r) != nil || r.JSONRPC != "2.0" ||
		len(r.Error) == 0 || r.Error[0] != '{' {
		return nil
	}
	if string(a.ID) == "null" {
		if m.Kind != jsonrpc.KindRequest {
			return nil
		}
		withOwnID, err := jsonrpc.WithID(body, m.ID)
		if err != nil {
			return nil
		}
		return withOwnID.Raw
	}
	for _, id := range m.IDs(jsonrpc.KindRequest) {
		if jsonrpc.IDKey(id) == jsonrpc.IDKey(a.ID) {
			return body
		}
	}
	return nil
}
