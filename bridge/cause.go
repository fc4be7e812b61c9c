package bridge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// failure is why the last attempt to connect failed, as the bridge's own error for it says (remote's
// UpstreamError: its message, and in its data the HTTP status and when to try again).
type failure struct {
	text   string    // the error's message, without a final period
	status int       // the HTTP status the server answered; 0 when none came or the error is the server's own
	until  time.Time // when the server asked to be tried again; zero when it did not say
}

// failed reports whether there is a failure.
func (f failure) failed() bool { return f.text != "" }

// rateLimited reports whether the MCP endpoint refused for a rate limit that is not over at now.
func (f failure) rateLimited(now time.Time) bool {
	return (f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable) && f.until.After(now)
}

// notMCP reports whether the URL answered as something other than an MCP endpoint: no such path (404), or a
// server that takes no POST there (405, 501: a plain web server). Only another URL helps.
func (f failure) notMCP() bool {
	switch f.status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// readFailure reads an error answer. The status and retry time are read only from the bridge's own errors
// (CodeUpstream): a server's error data says what it likes.
func readFailure(raw []byte) failure {
	var ans struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Status  int       `json:"status"`
				RetryAt time.Time `json:"retryAt"`
			} `json:"data"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &ans) != nil || ans.Error == nil || ans.Error.Message == "" {
		return failure{text: "the server did not accept the connection"}
	}
	f := failure{text: strings.TrimRight(ans.Error.Message, ". ")}
	if ans.Error.Code == jsonrpc.CodeUpstream {
		f.status, f.until = ans.Error.Data.Status, ans.Error.Data.RetryAt
	}
	return f
}

// clock is when "now" is in what the relay tells (a rate limit is over or not).
func clock(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

// rateLimitText says that the MCP endpoint is rate limiting until until, and that nothing is to be done.
func (r *Relay) rateLimitText(until time.Time) string {
	return fmt.Sprintf("%s is rate limiting its MCP endpoint until %s: the bridge connects by itself after that, and its tools appear here.",
		r.ServerName, clock(until))
}

// signInWaitText says that the sign-in waits out a server's rate limit, and goes on by itself.
func (r *Relay) signInWaitText(until time.Time) string {
	return fmt.Sprintf("Waiting for %s's rate limit until %s: the sign-in goes on by itself, and the tools appear here once it completes.",
		r.ServerName, clock(until))
}

// connectText says why connecting failed and the one thing to do.
func (r *Relay) connectText(f failure) string {
	switch {
	case f.rateLimited(time.Now()):
		return r.rateLimitText(f.until)
	case f.notMCP():
		return fmt.Sprintf("Cannot use %s: %s. The URL is in your MCP client's configuration: correct it there, then restart the client.",
			r.ServerName, f.text)
	}
	return fmt.Sprintf("Could not connect to %s: %s.%s", r.ServerName, f.text, tryAgain(f.text))
}

// waiting is what the relay waits for while the server is not connected and no failure is known: a rate limit
// of the sign-in or of the MCP endpoint, or nothing ("").
func (r *Relay) waiting(st SignInState) string {
	now := time.Now()
	switch {
	case st.Phase == SigningIn && st.Wait.After(now):
		return r.signInWaitText(st.Wait)
	case st.ServerWait.After(now):
		return r.rateLimitText(st.ServerWait)
	}
	return ""
}

// standInWords are the title and instructions of the relay's own initialize answer: the real reason the
// server's tools are not there yet.
func (r *Relay) standInWords(st SignInState, last failure) (title, instructions string) {
	switch {
	case last.failed() && last.rateLimited(time.Now()):
		return r.ServerName + " (rate limited)", r.connectText(last)
	case last.failed() && last.notMCP():
		return r.ServerName + " (not an MCP endpoint)", r.connectText(last)
	case last.failed() && st.Phase != SignInFailed:
		return r.ServerName + " (not connected)", r.connectText(last)
	case st.Phase == SignInFailed:
		return r.ServerName + " (sign-in failed)", fmt.Sprintf("Signing in to %s failed: %s.%s", r.ServerName, st.Problem, tryAgain(st.Problem))
	case st.Phase == SigningIn && st.Wait.After(time.Now()):
		return r.ServerName + " (signing in)", r.signInWaitText(st.Wait)
	case st.ServerWait.After(time.Now()):
		return r.ServerName + " (rate limited)", r.rateLimitText(st.ServerWait)
	case st.Phase == SigningIn:
		return r.ServerName + " (signing in)", fmt.Sprintf("Signing in to %s is not finished. Call the %s tool for the sign-in link; the server's tools appear as soon as the sign-in completes.",
			r.ServerName, SignInTool)
	}
	return r.ServerName + " (connecting)", fmt.Sprintf("Connecting to %s: it has not answered yet. Its tools appear here as soon as it does.", r.ServerName)
}
