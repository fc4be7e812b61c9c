package remote

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/webpage"
)

// UpstreamError is what a request gets when the server could not be reached or failed: it says what happened.
// What to do about it, where that depends on the command's flags or environment, is the command's to add
// (Options.Advise), told by Cause.
type UpstreamError struct {
	Message string    // for the user
	Status  int       // HTTP status, 0 when no answer came
	Err     error     // the cause, for logs
	Until   time.Time // when the server asked to be tried again; zero when it did not say
	Cause   Cause     // the kind of failure, for advice; CauseOther when the message says all there is
}

// Cause is a kind of failure whose remedy lies in how the bridge was configured.
type Cause int

// The causes.
const (
	CauseOther            Cause = iota
	CauseCredentials            // the server refused the credentials sent (401) and nothing could renew them
	CausePlainHTTP              // an https URL reached a server that speaks plain http
	CauseUnknownAuthority       // the server's TLS certificate chains to a CA this machine does not trust
	CauseTimeout                // no answer in time: network, VPN or proxy
	CauseStall                  // the server stopped sending in the middle of an answer
	CauseTooLarge               // a message from the server was over the bridge's limits (Options.Budget, MaxMessageBytes)
	CauseDropped                // the server kept ending an answer's stream without sending anything (resumeLimit)
)

// Error is the message, scrubbed of every secret the process holds: it may quote the server.
func (e *UpstreamError) Error() string { return secrets.Scrub(e.Message) }
func (e *UpstreamError) Unwrap() error { return e.Err }

// errorData is the JSON-RPC error data the client gets with an UpstreamError.
func (e *UpstreamError) data(u *url.URL) map[string]any {
	d := map[string]any{"url": textutil.RedactURL(u)}
	if e.Status != 0 {
		d["status"] = e.Status
	}
	if !e.Until.IsZero() {
		d["retryAt"] = e.Until.UTC().Format(time.RFC3339)
	}
	return d
}

// describeNetError turns a transport failure into advice. The URL is shown without query or user info.
func describeNetError(u *url.URL, err error) *UpstreamError {
	host := netutil.HostPort(u)
	var (
		dns   *net.DNSError
		unk   x509.UnknownAuthorityError
		hn    x509.HostnameError
		cinv  x509.CertificateInvalidError
		rl    *ratelimit.Error
		msg   string
		cause Cause
	)
	switch {
	case errors.As(err, &rl): // the server asked for a longer wait than a request may take
		return &UpstreamError{Message: rl.Error() + "; the request was not sent again: try it after that", Status: rl.Status, Err: err, Until: rl.Until}
	case errors.Is(err, context.Canceled):
		msg = "the request was cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("connection refused by %s: nothing is listening there. Is the URL right and the server running? "+
			"For a local server use its real port, e.g. http://localhost:8080/mcp", host)
	case errors.As(err, &dns):
		msg = fmt.Sprintf("cannot resolve host %q: check the URL's spelling and your network or VPN", u.Hostname())
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		msg, cause = fmt.Sprintf("%s speaks plain HTTP, not HTTPS: its URL is http://%s%s", host, u.Host, u.EscapedPath()), CausePlainHTTP
	case errors.As(err, &unk):
		msg, cause = fmt.Sprintf("the TLS certificate of %s is signed by an unknown authority (a corporate proxy, or a private CA)", host), CauseUnknownAuthority
	case errors.As(err, &hn):
		msg = fmt.Sprintf("the TLS certificate of %s is not valid for that name: check the host in the URL", host)
	case errors.As(err, &cinv):
		msg = fmt.Sprintf("the TLS certificate of %s is invalid (%s): check the server's certificate and this machine's clock", host, cinv.Error())
	case netutil.IsTimeout(err):
		msg, cause = fmt.Sprintf("no answer from %s in time", host), CauseTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		msg = fmt.Sprintf("the connection to %s was reset: the server or a proxy in between dropped it; the request may or may not have run, try again", host)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("the connection to %s closed before the answer (a server restart, or a proxy dropping it): "+
			"the request may or may not have run; try again", host)
	default:
		msg = fmt.Sprintf("cannot reach %s: %v", host, textutil.ScrubError(err))
	}
	return &UpstreamError{Message: msg, Err: err, Cause: cause}
}

// SignInFailure is an error of a Reauthorizer that ended a sign-in, not a refresh: what a rate limit refused in it
// (an authorization code) is spent, and the sign-in, not the request, is what must be tried again, so its message
// never says "nothing is lost". The command wraps its sign-in's failures in it.
type SignInFailure struct{ Err error }

func (e *SignInFailure) Error() string { return e.Err.Error() }
func (e *SignInFailure) Unwrap() error { return e.Err }

// credentialError describes a token source that gave no token. A rate-limited refresh was refused before it ran:
// the sign-in is not lost, and the message says when to try again, not that there are no credentials. A failed
// sign-in says what it says.
func credentialError(err error) *UpstreamError {
	var (
		rl *ratelimit.Error
		sf *SignInFailure
	)
	switch {
	case errors.As(err, &sf):
		ue := &UpstreamError{Message: err.Error(), Err: err}
		if errors.As(err, &rl) {
			ue.Until = rl.Until
		}
		return ue
	case errors.As(err, &rl):
		return &UpstreamError{Message: err.Error() + "; nothing is lost: try again after that", Err: err, Until: rl.Until}
	}
	return &UpstreamError{Message: "cannot get an access token for the server: " + err.Error(), Err: err}
}

// describeStatus turns an unexpected HTTP answer into advice. body is the start of the response body.
func describeStatus(u *url.URL, status int, contentType string, body []byte) *UpstreamError {
	where := textutil.RedactURL(u)
	var (
		msg   string
		cause Cause
	)
	page := webpage.Describe(http.Header{"Content-Type": {contentType}}, body)
	html := page.IsHTML
	switch {
	case status == http.StatusUnauthorized:
		msg, cause = fmt.Sprintf("%s refused the credentials (401)", where), CauseCredentials
	case status == http.StatusForbidden && page.Challenge != "":
		msg = fmt.Sprintf("%s answered 403 with a %s challenge page (%s): bot protection is blocking the bridge; ask the server's operator to allow API clients", where, page.Challenge, page.Why())
	case status == http.StatusForbidden && html:
		msg = fmt.Sprintf("%s answered 403 with an HTML page: a firewall or bot protection (e.g. Cloudflare) is blocking the bridge; ask the server's operator to allow API clients", where)
	case status == http.StatusForbidden:
		msg = fmt.Sprintf("%s refused access (403): these credentials lack permission for this server", where)
	case status == http.StatusNotFound:
		msg = fmt.Sprintf("no MCP endpoint at %s (404): check the path; MeshAI serves /v1/mcp, other servers often /mcp or /sse", where)
	case status == http.StatusTooManyRequests: // a wait the server names is waited out, or an error, before this
		msg = fmt.Sprintf("%s is rate limiting (429): try again later", where)
	case status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented:
		// A plain web server answers an MCP POST so (Python's http.server: 501): the URL is wrong, not the server ill.
		msg = fmt.Sprintf("%s is not an MCP endpoint (it answered HTTP %d to an MCP request): check the URL; MeshAI serves /v1/mcp, other servers often /mcp or /sse", where, status)
	case status >= 500:
		msg = fmt.Sprintf("%s failed with HTTP %d: the server has a problem; try again later", where, status)
	case html:
		msg = fmt.Sprintf("%s answered HTTP %d with an HTML page, not MCP: is this the MCP endpoint, and is a login page or proxy in front of it?", where, status)
	default:
		msg = fmt.Sprintf("%s answered HTTP %d: %s", where, status, textutil.Snippet(body))
	}
	return &UpstreamError{Message: msg, Status: status, Cause: cause}
}

// isDialError reports whether err happened before the request could reach the server, so that resending it
// cannot duplicate anything.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}
