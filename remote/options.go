// Package remote is the MCP client transport over HTTP: Streamable HTTP with sessions, resumable streams and
// session recovery, and the legacy HTTP+SSE transport as a fallback. It relays raw JSON-RPC messages and asks
// for a bearer token through oauth2.TokenSource, never knowing how tokens are made.
package remote

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// Mode chooses between Streamable HTTP and the legacy HTTP+SSE transport.
type Mode string

// The transport modes, named as on the command line.
const (
	HTTPFirst Mode = "http-first" // Streamable HTTP; legacy SSE when initialize gets 400, 404 or 405
	SSEFirst  Mode = "sse-first"  // legacy SSE; Streamable HTTP when the URL offers no SSE stream
	HTTPOnly  Mode = "http-only"  // Streamable HTTP only
	SSEOnly   Mode = "sse-only"   // legacy HTTP+SSE only
)

// ParseMode checks a --transport value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case HTTPFirst, SSEFirst, HTTPOnly, SSEOnly:
		return m, nil
	}
	return "", fmt.Errorf("unknown transport %q: use http-first, sse-first, http-only or sse-only", s)
}

// Options configures a Client.
type Options struct {
	URL        *url.URL           // the MCP endpoint
	Mode       Mode               // default HTTPFirst
	HTTPClient *http.Client       // default: NewHTTPClient()
	Header     http.Header        // extra headers sent on every request (--header)
	Token      oauth2.TokenSource // bearer token for every request; nil sends none
	// Deliver receives every message for the local client, one JSON value without newlines. It may be called
	// from several goroutines at once.
	Deliver func(msg []byte)
	// Relocated, when set, learns the MCP endpoint the Client found elsewhere on the server's origin (see
	// probe.go), before any request is sent there: the token source's resource follows it.
	Relocated func(u *url.URL)
	// Advise, when set, returns what the user can do about a failure ("" for nothing): the command's flags and
	// environment are its business, not this package's. It is added to the message the client gets.
	Advise func(e *UpstreamError) string
	Logger *slog.Logger // nil discards
	// MaxMessageBytes bounds one message from the server (default: half of Budget, else 128 MiB).
	MaxMessageBytes int
	// Budget bounds the bytes of messages from the server held at once, across every stream, shared with the
	// bridge's reading of the client's messages; nil for no bound but MaxMessageBytes per message. A message
	// that does not fit fails the request it answers (CauseTooLarge).
	Budget *membudget.Budget
	// RetryWindow is how long a request keeps retrying when the server cannot be reached before it is answered
	// with an error (default 5 s). Broken streams being resumed use four times as long, to ride out a restart.
	RetryWindow time.Duration
	// StallTimeout is how long an answer may go without a complete message before the bridge gives up on it,
	// resuming once where the server allows (default 5 min). Server-sent streams of their own are not bound.
	StallTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.Mode == "" {
		o.Mode = HTTPFirst
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxMessageBytes <= 0 && o.Budget != nil {
		o.MaxMessageBytes = o.Budget.MaxMessage()
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 128 << 20
	}
	if o.RetryWindow <= 0 {
		o.RetryWindow = 5 * time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 5 * time.Minute
	}
	if o.Deliver == nil {
		o.Deliver = func([]byte) {}
	}
}

// MaxConnsPerHost is how many connections the bridge's HTTP client opens to one host at most; requests beyond
// that queue for one. It leaves room for the GET stream, long tool calls and the client's answers to the server's
// requests alongside a burst.
const MaxConnsPerHost = 64

// NewHTTPClient returns the client the bridge uses: proxy settings from the environment, bounded dial and TLS
// handshake, no overall timeout (streams last as long as a tool runs), no redirect to another origin, so a
// token is never sent anywhere but the server it was meant for, and 429s waited out as the server asks
// (ratelimit.Transport), one shared wait per endpoint, for every request made with it: MCP, OAuth and doctor.
func NewHTTPClient() *http.Client { return NewHTTPClientWithRoots(nil) }

// NewHTTPClientWithRoots is NewHTTPClient trusting the CAs in roots (nil: the system's).
func NewHTTPClientWithRoots(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	tr.TLSHandshakeTimeout = 10 * time.Second
	// URLs that a server's documents name are marked by auth/oauth; the guard refuses them non-public addresses.
	tr.DialContext = (&netutil.Guard{Dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}}).DialContext
	tr.MaxIdleConnsPerHost = 32
	// Requests beyond this many at once to one host wait for a connection rather than open another: 10,000
	// requests pipelined by a client opened ~1,900 connections to the server before. HTTP/2 carries them all on one.
	tr.MaxConnsPerHost = MaxConnsPerHost
	return &http.Client{
		Transport: &ratelimit.Transport{Base: tr},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("stopped after %d redirects", len(via))
			}
			if origin(req.URL) != origin(via[0].URL) {
				return fmt.Errorf("refusing redirect from %s to another origin (%s)", origin(via[0].URL), origin(req.URL))
			}
			return nil
		},
	}
}

// origin is scheme://host[:port] in lower case.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
