package remote

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// sessionLost means the server answered 404 for want of a session: it forgot the one it had given (restart,
// expiry), or the request carried none. cause says what the server answered.
type sessionLost struct {
	session string // the session the request carried, "" for none
	cause   *UpstreamError
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

// maxRefusalBody bounds what is read of an answer outside 2xx.
const maxRefusalBody = 64 << 10

// refusal reads an answer outside 2xx to m, posted on session, and closes it. It returns *sessionLost for a 404
// that is about the session rather than the path, else an *UpstreamError that describes the status.
func (c *Client) refusal(resp *http.Response, m *jsonrpc.Message, session string) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRefusalBody))
	st, ct := resp.StatusCode, resp.Header.Get("Content-Type")
	if st == http.StatusNotFound && c.aboutSession(m, session, body) {
		return &sessionLost{session: session, cause: &UpstreamError{
			Message: fmt.Sprintf("%s has no session for this request (404: %s)", redactURL(c.opts.URL), snippet(body)), Status: st}}
	}
	return describeStatus(c.opts.URL, st, ct, body)
}

// aboutSession tells a 404 about the session from one about the path: a request on a session the server had
// given gets 404 only when the server forgot it; without one, the server's words name the session ("Invalid
// session ID", "Session not found", a JSON-RPC error saying so). initialize opens a session, so its 404 is
// always about the path.
func (c *Client) aboutSession(m *jsonrpc.Message, session string, body []byte) bool {
	if m != nil && m.Method == "initialize" {
		return false
	}
	return session != "" || bytes.Contains(bytes.ToLower(body), []byte("session"))
}
