package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// IsLocal reports whether the MCP server at u is, by its URL, on this machine or its network: its host is a
// loopback, private, link-local or otherwise non-public IP literal, or localhost. Only then may the URLs its
// documents name point there too (CheckServerNamedURL).
func IsLocal(u *url.URL) bool {
	return u != nil && netutil.HostClass(u.Hostname()) != ""
}

// NamedURLError is a URL that a server's document named and the bridge refuses to fetch or open, because the MCP
// server is not local (IsLocal) and the URL points at this machine or its network, or is not https.
type NamedURLError struct {
	Document string // which document named it: "the authorization server metadata at https://…"
	Field    string // which field: "registration_endpoint"
	URL      string // the URL as named, cleaned for display
	Reason   string // what is wrong with it: "it is plain http", "127.0.0.1 is a loopback address"
}

func (e *NamedURLError) Error() string {
	return fmt.Sprintf("%s names %s %s: %s, which a server that is not on this machine or its network may not name (only https on a public host): refusing to use it",
		e.Document, e.Field, e.URL, e.Reason)
}

// CheckServerNamedURL is the rule for a URL that a server's document named (u, already through
// ValidateEndpointURL): when the MCP server is local (localServer, see IsLocal) anything ValidateEndpointURL
// allows; otherwise only https to a host that does not name this machine or its network by itself
// (netutil.HostClass). What a name resolves to is checked when connecting (NamedURLClient). URLs the user gave
// (the MCP URL, flags) are never put through it. The error is a *NamedURLError naming document and field.
func CheckServerNamedURL(document, field string, u *url.URL, localServer bool) error {
	if localServer {
		return nil
	}
	e := &NamedURLError{Document: document, Field: field, URL: CleanText(u.String(), 200)}
	if class := netutil.HostClass(u.Hostname()); class != "" {
		e.Reason = CleanText(u.Hostname(), 100) + " is " + class
		if !strings.EqualFold(u.Scheme, "https") {
			e.Reason = "it is plain http, and " + e.Reason
		}
		return e
	}
	if !strings.EqualFold(u.Scheme, "https") {
		e.Reason = "it is plain http"
		return e
	}
	return nil
}

// checkNamed is ValidateEndpointURL then CheckServerNamedURL for raw, named by document in field.
func checkNamed(document, field, raw string, localServer bool) (*url.URL, error) {
	u, err := ValidateEndpointURL(raw)
	if err != nil {
		return nil, err
	}
	return u, CheckServerNamedURL(document, field, u, localServer)
}

// NamedURLClient returns the client to fetch URLs a server's documents name, on behalf of the MCP server at
// server: hc itself when the server is local; otherwise a copy whose requests carry a netutil.ServerNamed mark,
// so that the bridge's dialer (netutil.Guard, installed by remote.NewHTTPClient) refuses to connect them to a
// non-public address, and whose redirects obey CheckServerNamedURL. The MCP server's own host is exempt: the
// user named it. A client whose transport dials without a Guard gets the redirect rule only.
func NamedURLClient(hc *http.Client, server *url.URL) *http.Client {
	hc = orDefault(hc)
	if server == nil || IsLocal(server) {
		return hc
	}
	c := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &namedTransport{base: base, server: server.Hostname()}
	c.CheckRedirect = checkingRedirects(hc.CheckRedirect, func(req *http.Request, via []*http.Request) error {
		_, err := checkNamed("a redirect from "+textRedacted(via[len(via)-1].URL), "Location", req.URL.String(), false)
		return err
	})
	return &c
}

// checkingRedirects is a CheckRedirect that runs check on each redirect first, then next (the client's own policy),
// or when there is none the http package's default limit of 10 redirects.
func checkingRedirects(next func(*http.Request, []*http.Request) error, check func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 {
			if err := check(req, via); err != nil {
				return err
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// textRedacted is u without user info and query, for an error message.
func textRedacted(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// namedTransport marks each request (each hop of a redirect too) for netutil.Guard.
type namedTransport struct {
	base   http.RoundTripper
	server string
}

func (t *namedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// host:port as http.Transport dials it (JoinHostPort of the Hostname, the scheme's port by default).
	_, port, _ := net.SplitHostPort(netutil.HostPort(req.URL))
	ctx := netutil.ServerNamed(req.Context(), net.JoinHostPort(req.URL.Hostname(), port), t.server)
	return t.base.RoundTrip(req.WithContext(ctx))
}
