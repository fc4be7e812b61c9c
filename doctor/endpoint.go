package doctor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// endpointAnswer is what the unauthenticated initialize learned.
type endpointAnswer struct {
	ex       *exchange
	needAuth bool // 401: OAuth checks apply
	// loginPage: the 401 is an HTML page without a challenge, a login page or single sign-on proxy's when the
	// server publishes no OAuth metadata either
	loginPage bool
	open      bool     // initialize succeeded without a token
	notMCP    bool     // the URL is not an MCP endpoint (a wrong path, scheme or server)
	found     *url.URL // the MCP endpoint found nearby instead, if any
}

// client is the HTTP client of every check after the TCP one.
func (r *runner) client() *http.Client {
	if r.hc != nil {
		return r.hc
	}
	if r.opts.HTTP != nil {
		r.hc = r.opts.HTTP
		return r.hc
	}
	hc := remote.NewHTTPClient()
	base := hc.Transport
	if rl, ok := base.(*ratelimit.Transport); ok { // waits the server names are waited out, up to each step's timeout
		rl.MaxWait = r.opts.Timeout // also for remote's requests, whose contexts have no deadline
		rl.Retries = -1             // a 429 that names no wait is reported as it is, not retried on a guess
		base = rl.Base
	}
	if tr, ok := base.(*http.Transport); ok {
		getenv := r.opts.Getenv
		tr.Proxy = func(req *http.Request) (*url.URL, error) { return proxyFor(req.URL, getenv), nil }
		if r.opts.RootCAs != nil {
			tr.TLSClientConfig.RootCAs = r.opts.RootCAs
		}
	}
	r.hc = hc
	return hc
}

// namedClient is client() for the URLs the server's documents name (discovery, registration, refresh): as the
// bridge does, a server that is not local gets none of them connected to this machine or its network.
func (r *runner) namedClient() *http.Client { return oauth.NamedURLClient(r.client(), r.u) }

// checkEndpoint posts initialize without a token and names what answered.
func (r *runner) checkEndpoint(ctx context.Context) {
	const id, title = "mcp.endpoint", "MCP endpoint (initialize without a token)"
	if r.u == nil {
		r.skip(id, title, "no usable URL")
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		ex, err := r.postInitialize(sctx, r.u)
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		r.reachable = true
		r.endpoint.ex = ex
		where := textutil.RedactURL(r.u)
		page := ex.page()
		switch {
		case ex.status == http.StatusUnauthorized && page.IsHTML && len(ex.header.Values("WWW-Authenticate")) == 0:
			// The bridge signs in on any 401 and finds the metadata at the well-known URIs: only their absence
			// (oauth.prm below) makes this page a login proxy no MCP client gets past.
			r.endpoint.needAuth, r.endpoint.loginPage = true, true
			res.Status = OK
			res.Detail = where + " answered 401 with an HTML page" + titled(page.Title) + " and no WWW-Authenticate challenge: it needs a sign-in, " +
				"and the bridge looks for its OAuth metadata at the well-known URIs (checks follow)"
		case ex.status == http.StatusUnauthorized:
			r.endpoint.needAuth = true
			res.Status, res.Detail = OK, where+" answered 401: it needs a sign-in (OAuth checks follow)"
		case (ex.status == http.StatusOK || ex.status == http.StatusAccepted) && ex.msg != nil:
			r.endpoint.open = true
			res.Status, res.Detail = OK, where+" answered initialize without a token ("+serverLine(ex.msg)+"): no sign-in needed"
			r.endProbeSession(ctx, r.u, ex)
		case page.Challenge != "":
			res.Status = Fail
			res.Detail = fmt.Sprintf("%s answered %d with %s's bot protection challenge (%s): a browser check no MCP client can pass", where, ex.status, page.Challenge, page.Why())
			res.Fix = "the server's operator must let API clients through: a Cloudflare WAF skip rule for the MCP path (or Bot Fight Mode / the managed challenge off for it); from your side, another network or VPN exit sometimes passes"
		case ex.status == http.StatusForbidden && page.IsHTML:
			res.Status = Fail
			res.Detail = where + " answered 403 with an HTML page: a firewall or bot protection is blocking API clients"
			res.Fix = "ask the server's operator to allow API clients on the MCP path (a WAF or bot-protection exception)"
		case ex.status == http.StatusForbidden:
			res.Status = Fail
			res.Detail = where + " answered 403 without a sign-in challenge: it refuses this client outright (" + textutil.Snippet(ex.body) + ")"
			res.Fix = "ask the server's operator why: an IP allowlist, a missing header (--header) or a blocked region are common causes"
		case ex.status == http.StatusBadRequest && strings.Contains(string(ex.body), "HTTP request to an HTTPS server"):
			res.Status, r.endpoint.notMCP = Fail, true
			res.Detail = where + " is an https port: the server answered \"Client sent an HTTP request to an HTTPS server\""
			res.Fix = "use https://" + r.u.Host + r.u.EscapedPath()
		case ex.status == http.StatusNotFound, ex.status == http.StatusMethodNotAllowed, ex.status == http.StatusBadRequest,
			ex.status == http.StatusOK && ex.msg == nil:
			res = r.wrongPath(ctx, res, ex)
		case ex.status == http.StatusTooManyRequests:
			wait, until := askedWait(ex.header)
			res.Status, res.Detail = Fail, where+" is rate limiting (429)"+wait
			res.Fix = rateLimitFix(until)
		case ex.status >= 500:
			res.Status, res.Detail = Fail, fmt.Sprintf("%s failed with HTTP %d: %s", where, ex.status, textutil.Snippet(ex.body))
			res.Fix = "the server has a problem: try again later, or tell its operator"
		default:
			r.endpoint.notMCP = true
			res.Status, res.Detail = Fail, fmt.Sprintf("%s answered HTTP %d, not MCP: %s", where, ex.status, textutil.Snippet(ex.body))
			res.Fix = "check that the URL is the server's MCP endpoint"
		}
		return res
	})
}

// wrongPath explains an answer that is not MCP: a legacy SSE endpoint, or a wrong path, probing the usual ones.
func (r *runner) wrongPath(ctx context.Context, res Result, ex *exchange) Result {
	where := textutil.RedactURL(r.u)
	sctx, cancel := r.step(ctx)
	defer cancel()
	if ex.status != http.StatusOK {
		if g, err := r.get(sctx, r.u); err == nil && g.status == http.StatusOK && g.mediaType() == "text/event-stream" {
			r.endpoint.open = true
			res.Status = Warn
			res.Detail = where + " is a legacy HTTP+SSE endpoint (protocol 2024-11-05): the bridge falls back to it, but it is deprecated"
			res.Fix = "if the server also offers Streamable HTTP (often at /mcp), use that URL"
			return res
		}
	}
	what := fmt.Sprintf("HTTP %d", ex.status)
	switch {
	case ex.status == http.StatusNotFound:
		what = "404 Not Found"
	case ex.html():
		what = fmt.Sprintf("HTTP %d with an HTML page", ex.status)
	case ex.status == http.StatusOK:
		what = "HTTP 200 but no JSON-RPC answer"
	}
	res.Status, r.endpoint.notMCP = Fail, true
	res.Detail = fmt.Sprintf("no MCP endpoint at %s (%s)", where, what)
	if found := r.probePaths(ctx); found != nil {
		r.endpoint.found = found
		res.Detail += "; " + textutil.RedactURL(found) + " answers like MCP"
		res.Fix = "use " + textutil.RedactURL(found)
		return res
	}
	res.Fix = "check the path: MCP endpoints are usually /mcp, /v1/mcp (MeshAI) or /sse (legacy); none of them answers like MCP on " + r.u.Host
	return res
}

// probePaths tries the usual MCP paths on the same origin and returns the first that answers like MCP.
func (r *runner) probePaths(ctx context.Context) *url.URL {
	for _, p := range []string{"/mcp", "/v1/mcp", "/sse"} {
		if p == r.u.Path {
			continue
		}
		c := &url.URL{Scheme: r.u.Scheme, Host: r.u.Host, Path: p}
		sctx, cancel := r.step(ctx)
		ex, err := r.postInitialize(sctx, c)
		like := err == nil && answersLikeMCP(ex)
		if err == nil && ex.msg != nil {
			r.endProbeSession(ctx, c, ex)
		}
		if !like && p == "/sse" {
			g, gerr := r.get(sctx, c)
			like = gerr == nil && (g.status == http.StatusOK && g.mediaType() == "text/event-stream" || answersLikeMCP(g))
		}
		cancel()
		if like {
			return c
		}
	}
	return nil
}

// answersLikeMCP: a JSON-RPC answer, or a 401 with a Bearer challenge.
func answersLikeMCP(ex *exchange) bool {
	if ex.msg != nil {
		return true
	}
	return ex.status == http.StatusUnauthorized && oauth.FindBearer(oauth.ParseWWWAuthenticate(ex.header.Values("WWW-Authenticate"))) != nil
}

// serverLine describes an initialize result: the server and the protocol version it chose.
func serverLine(m *rpcMessage) string {
	if m.Error != nil {
		return fmt.Sprintf("JSON-RPC error %d: %s", m.Error.Code, m.Error.Message)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	_ = json.Unmarshal(m.Result, &res)
	name := strings.TrimSpace(res.ServerInfo.Name + " " + res.ServerInfo.Version)
	if name == "" {
		name = "unnamed server"
	}
	return name + ", protocol " + res.ProtocolVersion
}

// transportProblem names an HTTP request that got no answer, and its fix.
func transportProblem(u *url.URL, err error) (detail, fix string) {
	target := netutil.HostPort(u)
	var dns *net.DNSError
	var rl *ratelimit.Error
	switch {
	case errors.As(err, &rl): // a longer wait than the step may take
		return rl.Error(), rateLimitFix(rl.Until)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return tlsProblem(u, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake", RecordHeader: [5]byte{'H', 'T', 'T', 'P', '/'}})
	case errors.Is(err, syscall.ECONNREFUSED), netutil.IsTimeout(err):
		return dialDetail(target, "the server", err), dialFix(u, target, err, false)
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot resolve %s", u.Hostname()), "check the host name in the URL for typos, and your network, VPN or DNS settings"
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:"):
		return tlsProblem(u, err)
	}
	return fmt.Sprintf("no answer from %s: %s", textutil.RedactURL(u), textutil.OneLine(textutil.ScrubError(err))), "check the URL, your network, and HTTPS_PROXY if you are behind a proxy"
}
