// Package doctor runs, in order, every check a support engineer would run against an MCP server and this
// machine — configuration, reachability, the MCP endpoint's unauthenticated answer, OAuth discovery, client
// registration, stored credentials and an authenticated round trip — and reports each as ok, fail, warn or skip,
// with the one fix that applies. It never prints a token, secret, authorization code or verifier.
package doctor

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// Status is the outcome of one check.
type Status string

// The outcomes.
const (
	OK   Status = "ok"
	Fail Status = "fail"
	Warn Status = "warn"
	Skip Status = "skip"
)

// Result is one line of the checklist.
type Result struct {
	ID         string `json:"id"`
	Status     Status `json:"status"`
	Title      string `json:"title"`
	Detail     string `json:"detail"`
	Fix        string `json:"fix"` // "" for ok and skip
	DurationMS int64  `json:"duration_ms"`
}

// Report is the whole checklist.
type Report struct {
	URL     string   `json:"url"`
	OK      bool     `json:"ok"` // no check failed
	Checks  []Result `json:"checks"`
	Summary Summary  `json:"summary"`
}

// Summary counts the results by status.
type Summary struct {
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
}

// Find returns the result with the given id, or nil.
func (r *Report) Find(id string) *Result {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// Options says what to check and how.
type Options struct {
	URL           string              // the MCP endpoint, as given
	Getenv        func(string) string // nil: os.Getenv
	ConfigDir     string              // the bridge's config dir; "": config.ResolveDir with Getenv
	TokenStore    string              // auto, keychain or file; "": $MESHAI_TOKEN_STORE, else auto
	AllowHTTP     bool                // plain http to a host that is not loopback is a warning, not a failure
	RegisterProbe bool                // register a client at the server to see that registration works
	CheckClients  bool                // with RegisterProbe: also Claude's, ChatGPT's and Cursor's redirect URIs
	Refresh       bool                // refresh the stored access token (saving the new pair)
	Timeout       time.Duration       // bound of each network step; 0: 10 s
	HTTP          *http.Client        // nil: the bridge's client (remote.NewHTTPClient) with the proxy variables of Getenv
	RootCAs       *x509.CertPool      // nil: the system roots, for the TLS check
	Version       string              // reported to the server in clientInfo and registrations
	Scopes        []string            // --scope: the scopes the bridge is told to ask for (oauth.ScopeRule.Fixed)
	Client        *Client             // a pre-registered client; nil: the bridge registers one
	Callback      Callback            // the sign-in's loopback redirect (--host, --callback-port, --callback-path)
	DeviceCode    bool                // --device-code: the bridge signs in with the device grant
	// ClientMetadataURL is --client-metadata-url: a client ID metadata document the bridge uses as its client_id
	// where the server supports them.
	ClientMetadataURL string
	Endpoints         *Endpoints // the authorization server's endpoints set by hand; nil: discovered
}

// runner carries what one check learns for the next.
type runner struct {
	opts Options
	rep  Report
	hc   *http.Client

	u         *url.URL // the endpoint; nil when the URL is unusable
	store     credstore.Store
	proxy     *url.URL // the proxy requests to u go through, if any
	reachable bool     // the endpoint answered HTTP at all
	tcpFailed bool     // the TCP check could not connect

	endpoint  endpointAnswer
	challenge *oauth.Challenge
	prm       *oauth.ProtectedResource
	meta      *oauth.ServerMetadata
	scopes    []string // what a sign-in asks for (checkScopes); nil omits the scope parameter
	noOAuth   bool     // the server offers no OAuth sign-in at all: only an API key can help
	// signInBroken: an OAuth check failed, so a sign-in fails too until that is fixed
	signInBroken bool
	rec          *credstore.SignInRecord // the stored sign-in: its client and token endpoint, once read
	storedTok    *credstore.Tokens       // its tokens; never printed
	credential   string                  // bearer for the round trip: the API key or the stored access token; never printed
	credKind     string                  // "MESHAI_API_KEY" or "stored sign-in"
}

// Run runs every check in order and returns the report.
func Run(ctx context.Context, opts Options) Report {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	r := &runner{opts: opts}
	r.rep.URL = opts.URL
	for _, step := range []func(context.Context){
		r.checkURL, r.checkProxy, r.checkConfigDir, r.checkStore,
		r.checkDNS, r.checkTCP, r.checkTLS,
		r.checkEndpoint, r.checkChallenge,
		r.checkResourceMetadata, r.checkScopes, r.checkServerMetadata, r.checkToken,
		r.checkRegistration, r.checkDeviceGrant, r.checkMetadataDocument,
		r.checkStored, r.checkRefresh,
		r.checkRoundTrip,
	} {
		if ctx.Err() != nil {
			r.add(Result{ID: "doctor.cancelled", Status: Fail, Title: "Interrupted", Detail: "the remaining checks did not run",
				Fix: "run doctor again and let it finish (raise --timeout on a slow network)"})
			break
		}
		step(ctx)
	}
	r.rep.OK = r.rep.Summary.Fail == 0
	return r.rep
}

// add appends a result and counts it. With MESHAI_API_KEY set the bridge never signs in, so an OAuth problem
// is only a warning then.
func (r *runner) add(res Result) {
	if res.Status == Fail && r.opts.Getenv(config.EnvAPIKey) != "" && (strings.HasPrefix(res.ID, "oauth.") || res.ID == "mcp.challenge") {
		res.Status = Warn
		res.Detail += " (" + config.EnvAPIKey + " is set, so the bridge does not sign in)"
	}
	if res.Status == Fail && (strings.HasPrefix(res.ID, "oauth.") || res.ID == "mcp.challenge") {
		r.signInBroken = true
	}
	r.count(res.Status, 1)
	r.rep.Checks = append(r.rep.Checks, res)
}

// count adds n to the summary's count of st.
func (r *runner) count(st Status, n int) {
	switch st {
	case OK:
		r.rep.Summary.OK += n
	case Fail:
		r.rep.Summary.Fail += n
	case Warn:
		r.rep.Summary.Warn += n
	case Skip:
		r.rep.Summary.Skip += n
	}
}

// revise changes a result already added, when a later check shows what it meant, keeping the summary's counts.
func (r *runner) revise(id string, change func(*Result)) {
	if c := r.rep.Find(id); c != nil {
		r.count(c.Status, -1)
		change(c)
		r.count(c.Status, 1)
	}
}

// timed runs f and adds its result with the time it took.
func (r *runner) timed(f func() Result) {
	start := time.Now()
	res := f()
	res.DurationMS = time.Since(start).Milliseconds()
	r.add(res)
}

// skip adds a skipped check.
func (r *runner) skip(id, title, why string) {
	r.add(Result{ID: id, Status: Skip, Title: title, Detail: why})
}

// step bounds one network step.
func (r *runner) step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opts.Timeout)
}
