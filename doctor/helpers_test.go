package doctor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"golang.org/x/oauth2"
)

// testEnv is a Getenv with a private config dir and the file token store, plus kv pairs.
func testEnv(t *testing.T, kv ...string) func(string) string {
	t.Helper()
	m := map[string]string{config.EnvConfigDir: t.TempDir(), config.EnvTokenStore: credstore.KindFile}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// stepTimeout is each network step's bound in the tests. The servers are local, so only a hang reaches it: a
// short one would fail a step on a busy machine. (Rate limits the tests report name waits longer than the
// transport's ratelimit.DefaultMaxWait, so they are reported, not waited out.)
const stepTimeout = time.Minute

// hangGuard bounds a whole doctor run or sign-in; only a hang reaches it.
const hangGuard = 2 * time.Minute

// run runs doctor with test defaults: a private config dir, the file store, stepTimeout.
func run(t *testing.T, opts Options) Report {
	t.Helper()
	if opts.Getenv == nil {
		opts.Getenv = testEnv(t)
	}
	if opts.Timeout == 0 {
		opts.Timeout = stepTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	return Run(ctx, opts)
}

// check is one result a test expects: want's arguments.
type check struct {
	id          string
	st          Status
	detail, fix string
}

// want asserts one check's status and that its detail and fix contain the given texts.
func want(t *testing.T, rep Report, id string, st Status, detail, fix string) {
	t.Helper()
	c := rep.Find(id)
	if c == nil {
		t.Errorf("no check %s; got:\n%s", id, dump(rep))
		return
	}
	if c.Status != st || !strings.Contains(c.Detail, detail) || !strings.Contains(c.Fix, fix) {
		t.Errorf("%s = %s %q (fix %q); want %s with %q (fix %q)", id, c.Status, c.Detail, c.Fix, st, detail, fix)
	}
	if (st == Fail || st == Warn) && c.Fix == "" {
		t.Errorf("%s is %s without a fix", id, st)
	}
}

// dump is the text report, for failure messages.
func dump(rep Report) string {
	var b strings.Builder
	_ = rep.WriteText(&b)
	return b.String()
}

// startDev runs the reference server with OAuth.
func startDev(t *testing.T, cfg devserver.Config) *devserver.Running {
	t.Helper()
	r, err := devserver.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// route is one canned answer of a fake server; "{{URL}}" in body or headers becomes the server's base URL.
type route struct {
	status int
	header map[string]string
	body   string
}

// fake serves canned answers by "METHOD /path" or "/path"; anything else is 404.
func fake(t *testing.T, routes map[string]route) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			rt, ok = routes[r.URL.Path]
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		base := "http://" + r.Host
		for k, v := range rt.header {
			w.Header().Set(k, strings.ReplaceAll(v, "{{URL}}", base))
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(rt.status)
		_, _ = w.Write([]byte(strings.ReplaceAll(rt.body, "{{URL}}", base)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// oauthRoutes are a well-behaved MCP endpoint at /mcp with its PRM and AS metadata; overrides replace routes.
func oauthRoutes(overrides map[string]route) map[string]route {
	rs := map[string]route{
		"POST /mcp": {401, map[string]string{"WWW-Authenticate": `Bearer resource_metadata="{{URL}}/.well-known/oauth-protected-resource/mcp", scope="read"`}, "unauthorized"},
		"/.well-known/oauth-protected-resource/mcp": {200, nil, `{"resource":"{{URL}}/mcp","authorization_servers":["{{URL}}"]}`},
		"/.well-known/oauth-authorization-server":   {200, nil, asMetadata(nil)},
	}
	for k, v := range overrides {
		rs[k] = v
	}
	return rs
}

// asMetadata is healthy authorization server metadata with changes applied (a nil value deletes a key).
func asMetadata(changes map[string]any) string {
	md := map[string]any{
		"issuer":                                         "{{URL}}",
		"authorization_endpoint":                         "{{URL}}/authorize",
		"token_endpoint":                                 "{{URL}}/token",
		"registration_endpoint":                          "{{URL}}/register",
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"authorization_response_iss_parameter_supported": true,
		"revocation_endpoint":                            "{{URL}}/revoke",
	}
	for k, v := range changes {
		if v == nil {
			delete(md, k)
		} else {
			md[k] = v
		}
	}
	b, _ := json.Marshal(md)
	return string(b)
}

// signedIn is a sign-in made at a reference server, stored as the bridge stores it.
type signedIn struct {
	store    credstore.Store
	resource string
	rec      credstore.SignInRecord
	tokens   credstore.Tokens
	recordAt string // where save put the record
	tokensAt string // and the tokens
	getenv   func(string) string
}

// signIn runs the authorization code flow at r (which must auto-approve) and stores the result like the bridge.
func signIn(t *testing.T, r *devserver.Running) *signedIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	mcpURL := r.URL + "/v1/mcp"
	redirect := "http://127.0.0.1:1/callback"
	dc, err := oauth.RegisterClient(ctx, nil, r.URL+"/oauth/register", oauth.NativeClient(redirect, "", "test"))
	if err != nil {
		t.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {dc.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": {mcpURL}, "scope": {"mcp:read mcp:execute"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(r.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tc := &oauth.TokenClient{TokenURL: r.URL + "/oauth/token", ClientID: dc.ClientID, AuthMethod: dc.AuthMethod, Resource: mcpURL}
	tok, err := tc.Exchange(ctx, loc.Query().Get("code"), verifier, redirect)
	if err != nil {
		t.Fatal(err)
	}
	getenv := testEnv(t)
	store, _, err := credstore.Open(ctx, credstore.KindFile, getenv(config.EnvConfigDir), 0)
	if err != nil {
		t.Fatal(err)
	}
	si := &signedIn{store: store, resource: mcpURL, getenv: getenv,
		rec: credstore.SignInRecord{Registration: credstore.Registration{Issuer: r.URL, ClientID: dc.ClientID, TokenEndpointAuthMethod: dc.AuthMethod},
			TokenEndpoint: r.URL + "/oauth/token"},
		tokens: credstore.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: "Bearer", Expiry: tok.Expiry, Scope: "mcp:read mcp:execute"}}
	si.save(t)
	return si
}

// save stores the record and tokens as they are now, noting where the store API put them.
func (si *signedIn) save(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	w := &savedAt{Store: si.store}
	if err := credstore.SaveSignIn(ctx, w, si.resource, &si.rec); err != nil {
		t.Fatal(err)
	}
	si.recordAt = w.last
	if err := credstore.SaveTokens(ctx, w, si.resource, &si.rec.Registration, &si.tokens); err != nil {
		t.Fatal(err)
	}
	si.tokensAt = w.last
}

// stored reads the stored tokens back.
func (si *signedIn) stored(t *testing.T) *credstore.Tokens {
	t.Helper()
	_, tok, err := credstore.ReadSignIn(context.Background(), si.store, si.resource)
	if err != nil || tok == nil {
		t.Fatalf("read the stored tokens: %v, %v", tok, err)
	}
	return tok
}

// savedAt is a store that notes the name it was last written under, so a test can damage what the store API
// saved without knowing its layout.
type savedAt struct {
	credstore.Store
	last string
}

func (s *savedAt) Set(ctx context.Context, name string, value []byte) error {
	s.last = name
	return s.Store.Set(ctx, name, value)
}
