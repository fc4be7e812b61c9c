package devserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// OAuth 2.1 authorization server of the reference server, enabled by Config.OAuth. It behaves like MeshAI's:
// RFC 9728 protected resource metadata, RFC 8414 server metadata, RFC 7591 dynamic registration, the
// authorization code grant with PKCE (S256 only) and RFC 8707 resource indicators, refresh tokens with rotation
// and reuse detection, RFC 7009 revocation, RFC 7662 introspection and a userinfo endpoint. Everything is in
// memory. Tokens and secrets are never logged.

// OAuth endpoint paths and defaults.
const (
	prmPath          = "/.well-known/oauth-protected-resource"
	asMetadataPath   = "/.well-known/oauth-authorization-server"
	authorizePath    = "/oauth/authorize"
	tokenPath        = "/oauth/token"
	registerPath     = "/oauth/register"
	revokePath       = "/oauth/revoke"
	introspectPath   = "/oauth/introspect"
	userinfoPath     = "/oauth/userinfo"
	mcpPath          = "/v1/mcp"
	defaultTokenTTL  = 60 * time.Minute
	codeTTL          = 60 * time.Second
	pendingTTL       = 10 * time.Minute
	maxLoginAttempts = 5
)

// OAuth scopes.
const (
	scopeRead    = "mcp:read"
	scopeExecute = "mcp:execute"
	scopeManage  = "mcp:manage"
	scopeOffline = "offline_access"
)

var (
	// resourceScopes are the scopes of the MCP resource (PRM scopes_supported).
	resourceScopes = []string{scopeRead, scopeExecute, scopeManage}
	// serverScopes are the scopes the authorization server grants (AS scopes_supported).
	serverScopes = []string{scopeRead, scopeExecute, scopeManage, scopeOffline}
	// defaultScope is granted when an authorization request has no scope; it is also the 401 challenge scope.
	defaultScope = scopeRead + " " + scopeExecute
	// manageChallengeScope is the scope the 403 step-up challenge asks for.
	manageChallengeScope = scopeRead + " " + scopeExecute + " " + scopeManage
)

// oauthClient is a dynamically registered client.
type oauthClient struct {
	ID           string
	Secret       string // empty for public clients
	Name         string
	AppType      string // "native" or "web"
	AuthMethod   string // none, client_secret_basic or client_secret_post
	RedirectURIs []string
	GrantTypes   []string
	IssuedAt     time.Time
	Exact        bool // pre-registered (Config.Clients): redirect URIs match exactly, without the loopback port leeway
}

// authCode is an issued, not yet redeemed (or redeemed, for reuse detection) authorization code.
type authCode struct {
	clientID, redirectURI, challenge, resource, scope, user string
	expires                                                 time.Time
	grant                                                   string // set once redeemed
}

// grant is what one user approved for one client: the access and refresh tokens issued from it die with it.
type grant struct {
	id, clientID, user, scope, resource string
	revoked                             bool
	refresh                             string // the current (only valid) refresh token
}

// accessToken is an issued access token.
type accessToken struct {
	grant, clientID, user, scope, resource string
	issued, expires                        time.Time
}

// refreshToken is an issued refresh token; used ones are kept to detect reuse.
type refreshToken struct {
	grant string
	used  bool
}

// pendingAuth is an authorization request waiting on the login and consent page.
type pendingAuth struct {
	req      authRequest
	csrf     string
	expires  time.Time
	attempts int
}

// oauthStats counts authorization server activity.
type oauthStats struct {
	refreshes, authorizations, reuses, registrations atomic.Int64
}

// oauthServer holds the authorization server state.
type oauthServer struct {
	s     *Server
	ttl   time.Duration
	users map[string]string
	skew  atomic.Int64 // nanoseconds added to the clock; tests move time forward with it

	mu       sync.Mutex
	clients  map[string]*oauthClient
	codes    map[string]*authCode
	grants   map[string]*grant
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	pendings map[string]*pendingAuth
	devices  deviceStore // RFC 8628 device authorizations (oauth_device.go)
	asked    []string    // the scope parameter of each authorization request (AskedScopes)
	stats    oauthStats
	counts   tokenCounter // token requests by grant type (counters.go)
}

func newOAuthServer(s *Server) *oauthServer {
	ttl := s.cfg.AccessTokenTTL
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	users := maps.Clone(s.cfg.Users)
	if len(users) == 0 {
		users = map[string]string{"demo": "demo"}
	}
	return &oauthServer{s: s, ttl: ttl, users: users,
		clients: map[string]*oauthClient{}, codes: map[string]*authCode{}, grants: map[string]*grant{},
		access: map[string]*accessToken{}, refresh: map[string]*refreshToken{}, pendings: map[string]*pendingAuth{},
		devices: deviceStore{interval: s.cfg.DeviceInterval}}
}

// now is the authorization server's clock.
func (o *oauthServer) now() time.Time { return time.Now().Add(time.Duration(o.skew.Load())) }

// routes adds the OAuth endpoints to mux.
func (o *oauthServer) routes(mux *http.ServeMux) {
	mux.HandleFunc(prmPath+mcpPath, o.protectedResourceMetadata)
	mux.HandleFunc(prmPath, o.protectedResourceMetadata)
	mux.HandleFunc(asMetadataPath, o.serverMetadata)
	mux.HandleFunc(registerPath, o.register)
	mux.HandleFunc(authorizePath, o.authorize)
	mux.HandleFunc(tokenPath, o.token)
	mux.HandleFunc(revokePath, o.revoke)
	mux.HandleFunc(introspectPath, o.introspect)
	mux.HandleFunc(userinfoPath, o.userinfo)
	o.deviceRoutes(mux)
}

// issuer is the server's base URL: the listening URL under Listen, else derived from the request.
func (o *oauthServer) issuer(r *http.Request) string {
	if o.s.baseURL != "" {
		return o.s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// resource is the canonical URI of the MCP endpoint, the audience of every token.
func (o *oauthServer) resource(r *http.Request) string {
	if o.s.cfg.OriginResource {
		return o.issuer(r)
	}
	return o.issuer(r) + mcpPath
}

// prmURL is the protected resource metadata URL advertised in challenges.
func (o *oauthServer) prmURL(r *http.Request) string { return o.issuer(r) + prmPath + mcpPath }

func (o *oauthServer) protectedResourceMetadata(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"resource":                 o.resource(r),
		"authorization_servers":    []string{o.issuer(r)},
		"scopes_supported":         o.resourceScopes(),
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "MeshAI MCP server",
	})
}

func (o *oauthServer) serverMetadata(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	iss := o.issuer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + authorizePath,
		"token_endpoint":                                 iss + tokenPath,
		"registration_endpoint":                          iss + registerPath,
		"revocation_endpoint":                            iss + revokePath,
		"introspection_endpoint":                         iss + introspectPath,
		"userinfo_endpoint":                              iss + userinfoPath,
		"device_authorization_endpoint":                  iss + devicePath,
		"scopes_supported":                               o.serverScopes(),
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", deviceGrantType},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          authMethods,
		"revocation_endpoint_auth_methods_supported":     authMethods,
		"introspection_endpoint_auth_methods_supported":  authMethods,
		"authorization_response_iss_parameter_supported": true,
	})
}

// authMethods are the supported client authentication methods.
var authMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// register implements RFC 7591 dynamic client registration.
func (o *oauthServer) register(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	var md struct {
		RedirectURIs  []string `json:"redirect_uris"`
		AuthMethod    string   `json:"token_endpoint_auth_method"`
		GrantTypes    []string `json:"grant_types"`
		ResponseTypes []string `json:"response_types"`
		ClientName    string   `json:"client_name"`
		AppType       string   `json:"application_type"`
		Scope         string   `json:"scope"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&md); err != nil {
		registrationError(w, "invalid_client_metadata", "the body is not a JSON client metadata document")
		return
	}
	redirects := len(md.GrantTypes) == 0 || slices.Contains(md.GrantTypes, "authorization_code")
	if len(md.RedirectURIs) == 0 && redirects { // RFC 7591 §2: only redirect-based flows need them
		registrationError(w, "invalid_redirect_uri", "redirect_uris is required")
		return
	}
	for _, u := range md.RedirectURIs {
		if msg := checkRedirectURI(u); msg != "" {
			registrationError(w, "invalid_redirect_uri", msg)
			return
		}
	}
	if md.AuthMethod == "" {
		md.AuthMethod = "client_secret_basic" // RFC 7591 §2 default
	}
	if !slices.Contains(authMethods, md.AuthMethod) {
		registrationError(w, "invalid_client_metadata", "unsupported token_endpoint_auth_method "+md.AuthMethod)
		return
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{"authorization_code"}
	}
	for _, g := range md.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" && g != deviceGrantType {
			registrationError(w, "invalid_client_metadata", "unsupported grant type "+g)
			return
		}
	}
	if !redirects && !deviceClientOK(md.GrantTypes) {
		registrationError(w, "invalid_client_metadata", "grant_types must include authorization_code or "+deviceGrantType)
		return
	}
	if !redirects { // a device-only client uses no response type and no redirect URI
		if len(md.ResponseTypes) != 0 {
			registrationError(w, "invalid_client_metadata", "response_types must be empty without the authorization_code grant")
			return
		}
		md.ResponseTypes = []string{}
		if md.RedirectURIs == nil {
			md.RedirectURIs = []string{}
		}
	}
	if len(md.ResponseTypes) == 0 && redirects {
		md.ResponseTypes = []string{"code"}
	}
	if redirects && (len(md.ResponseTypes) != 1 || md.ResponseTypes[0] != "code") {
		registrationError(w, "invalid_client_metadata", `response_types must be ["code"]`)
		return
	}
	switch md.AppType {
	case "":
		md.AppType = "web" // the OpenID Connect Registration default
	case "web", "native":
	default:
		registrationError(w, "invalid_client_metadata", "application_type must be native or web")
		return
	}
	if _, ok := o.parseScope(md.Scope); !ok {
		md.Scope = "" // RFC 7591 §2: the server may ignore a scope it does not support; it is not registered
	}
	c := &oauthClient{ID: "mcp_" + randomToken(16), Name: md.ClientName, AppType: md.AppType,
		AuthMethod: md.AuthMethod, RedirectURIs: md.RedirectURIs, GrantTypes: md.GrantTypes, IssuedAt: o.now()}
	if c.AuthMethod != "none" {
		c.Secret = randomToken(32)
	}
	o.mu.Lock()
	o.clients[c.ID] = c
	o.mu.Unlock()
	o.stats.registrations.Add(1)
	o.s.log.Info("oauth: client registered", "client_id", c.ID, "name", c.Name, "auth_method", c.AuthMethod,
		"application_type", c.AppType)
	resp := map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.IssuedAt.Unix(),
		"redirect_uris":              c.RedirectURIs,
		"token_endpoint_auth_method": c.AuthMethod,
		"grant_types":                c.GrantTypes,
		"response_types":             md.ResponseTypes,
		"application_type":           c.AppType,
	}
	if c.Name != "" {
		resp["client_name"] = c.Name
	}
	if md.Scope != "" {
		resp["scope"] = md.Scope
	}
	if c.Secret != "" {
		resp["client_secret"] = c.Secret
		resp["client_secret_expires_at"] = 0
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, resp)
}

// checkRedirectURI accepts https URIs, loopback http URIs (RFC 8252 §7.3) and native apps' private-use schemes
// (RFC 8252 §7.1, e.g. Cursor's cursor://…), without fragments; it returns why a URI is refused, or "".
func checkRedirectURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Host == "" && (u.Scheme == "http" || u.Scheme == "https")) {
		return "redirect URI " + raw + " is not an absolute URL"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "redirect URI " + raw + " has a fragment"
	}
	switch {
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && netutil.IsLoopback(u.Hostname()):
		return ""
	case u.Scheme != "http" && !unsafeSchemes[u.Scheme]:
		return ""
	default:
		return "redirect URI " + raw + " must use https or http on a loopback address"
	}
}

// unsafeSchemes can never be a redirect: they run code or read local data in the browser.
var unsafeSchemes = map[string]bool{"javascript": true, "data": true, "file": true, "vbscript": true, "about": true, "blob": true, "ftp": true, "ws": true, "wss": true}

// redirectMatches reports whether the requested redirect URI matches a registered one: exactly, or for
// loopback http URIs with any port (RFC 8252 §7.3).
func redirectMatches(registered []string, requested string) bool {
	if slices.Contains(registered, requested) {
		return true
	}
	q, err := url.Parse(requested)
	if err != nil || q.Scheme != "http" || !netutil.IsLoopback(q.Hostname()) || q.Fragment != "" || q.User != nil {
		return false
	}
	for _, reg := range registered {
		p, err := url.Parse(reg)
		if err != nil || p.Scheme != "http" || !netutil.IsLoopback(p.Hostname()) {
			continue
		}
		if strings.EqualFold(p.Hostname(), q.Hostname()) && p.EscapedPath() == q.EscapedPath() && p.RawQuery == q.RawQuery {
			return true
		}
	}
	return false
}

// parseScope splits a scope string and checks every scope is one the server grants; duplicates are dropped.
func (o *oauthServer) parseScope(scope string) ([]string, bool) {
	var out []string
	grantable := o.serverScopes()
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(grantable, sc) {
			return nil, false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, true
}

// hasScope reports whether the space-separated scope string holds want.
func hasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// token implements the token endpoint: authorization_code and refresh_token grants.
func (o *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := parseForm(w, r); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	c, ok := o.authenticateClient(w, r)
	if !ok {
		return
	}
	o.counts.request(r.PostForm.Get("grant_type"))
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		o.exchangeCode(w, r, c)
	case "refresh_token":
		o.stats.refreshes.Add(1) // counted once the client is authenticated, successful or not
		o.refreshGrant(w, r, c)
	case deviceGrantType:
		o.deviceToken(w, r, c)
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type "+gt)
	}
}

// authenticateClient authenticates the client of a token, revocation or introspection request by its
// registered method; on failure it has written the error.
func (o *oauthServer) authenticateClient(w http.ResponseWriter, r *http.Request) (*oauthClient, bool) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	if hasBasic {
		// RFC 6749 §2.3.1: both are form-urlencoded before going into the header.
		id, err1 := url.QueryUnescape(basicID)
		secret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			o.clientError(w, true, "malformed Basic credentials")
			return nil, false
		}
		basicID, basicSecret = id, secret
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	hasFormSecret := formSecret != "" // an empty client_secret, as some public clients send, counts as none
	id := formID
	if hasBasic {
		if formID != "" && formID != basicID {
			o.clientError(w, true, "client_id in the body differs from the Basic credentials")
			return nil, false
		}
		id = basicID
	}
	if id == "" {
		o.clientError(w, false, "client authentication is required")
		return nil, false
	}
	o.mu.Lock()
	c := o.clients[id]
	o.mu.Unlock()
	if c == nil {
		o.clientError(w, hasBasic, "unknown client")
		return nil, false
	}
	switch c.AuthMethod {
	case "none":
		if (hasBasic && basicSecret != "") || hasFormSecret {
			o.clientError(w, hasBasic, "the client is registered as public (token_endpoint_auth_method none)")
			return nil, false
		}
	case "client_secret_basic":
		if !hasBasic || hasFormSecret {
			o.clientError(w, hasBasic, "the client must authenticate with client_secret_basic")
			return nil, false
		}
		if subtle.ConstantTimeCompare([]byte(basicSecret), []byte(c.Secret)) != 1 {
			o.clientError(w, true, "wrong client secret")
			return nil, false
		}
	case "client_secret_post":
		if hasBasic || !hasFormSecret {
			o.clientError(w, hasBasic, "the client must authenticate with client_secret_post")
			return nil, false
		}
		if subtle.ConstantTimeCompare([]byte(formSecret), []byte(c.Secret)) != 1 {
			o.clientError(w, false, "wrong client secret")
			return nil, false
		}
	}
	return c, true
}

// clientError answers invalid_client: 401, with a Basic challenge when the client tried Basic.
func (o *oauthServer) clientError(w http.ResponseWriter, basic bool, desc string) {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="meshai"`)
	}
	tokenError(w, http.StatusUnauthorized, "invalid_client", desc)
}

// exchangeCode redeems an authorization code.
func (o *oauthServer) exchangeCode(w http.ResponseWriter, r *http.Request, c *oauthClient) {
	f := r.PostForm
	code, verifier, redirectURI, resource := f.Get("code"), f.Get("code_verifier"), f.Get("redirect_uri"), f.Get("resource")
	if code == "" || verifier == "" || redirectURI == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "code, code_verifier and redirect_uri are required")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	ac := o.codes[code]
	switch {
	case ac == nil:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown authorization code")
		return
	case ac.grant != "":
		// A code presented twice: revoke what the first redemption issued (RFC 6749 §4.1.2).
		o.revokeGrantLocked(ac.grant)
		o.s.log.Warn("oauth: authorization code reused; grant revoked", "client_id", ac.clientID)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code already used")
		return
	case o.now().After(ac.expires):
		delete(o.codes, code)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code expired")
		return
	case ac.clientID != c.ID:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code was issued to another client")
		return
	case ac.redirectURI != redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	case !pkceMatches(verifier, ac.challenge):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	case resource == "":
		tokenError(w, http.StatusBadRequest, "invalid_target", "resource is required")
		return
	case resource != ac.resource:
		tokenError(w, http.StatusBadRequest, "invalid_target", "resource differs from the authorized one")
		return
	}
	g := &grant{id: randomToken(16), clientID: c.ID, user: ac.user, scope: ac.scope, resource: ac.resource}
	o.grants[g.id] = g
	ac.grant = g.id
	o.s.log.Info("oauth: code redeemed", "client_id", c.ID, "user", g.user, "scope", g.scope)
	writeJSON(w, http.StatusOK, o.issueLocked(g, c, g.scope))
}

// refreshGrant implements the refresh_token grant with rotation and reuse detection.
func (o *oauthServer) refreshGrant(w http.ResponseWriter, r *http.Request, c *oauthClient) {
	f := r.PostForm
	rt := f.Get("refresh_token")
	if rt == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := o.refresh[rt]
	if rec == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
		return
	}
	g := o.grants[rec.grant]
	if g == nil || g.clientID != c.ID {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token was issued to another client")
		return
	}
	if g.revoked {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the grant is revoked")
		return
	}
	if rec.used {
		o.stats.reuses.Add(1)
		o.revokeGrantLocked(g.id)
		o.s.log.Warn("oauth: refresh token reused; grant revoked", "client_id", c.ID, "user", g.user)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token already used; the grant is revoked")
		return
	}
	if res := f.Get("resource"); res != "" && res != g.resource {
		tokenError(w, http.StatusBadRequest, "invalid_target", "resource differs from the authorized one")
		return
	}
	scope := g.scope
	if req := f.Get("scope"); req != "" {
		want, ok := o.parseScope(req)
		if !ok {
			tokenError(w, http.StatusBadRequest, "invalid_scope", "unsupported scope")
			return
		}
		for _, sc := range want {
			if !hasScope(g.scope, sc) {
				tokenError(w, http.StatusBadRequest, "invalid_scope", "scope "+sc+" was not granted")
				return
			}
		}
		scope = strings.Join(want, " ")
	}
	o.countRefreshLocked(g.id)
	rec.used = true
	o.s.log.Info("oauth: token refreshed", "client_id", c.ID, "user", g.user)
	writeJSON(w, http.StatusOK, o.issueLocked(g, c, scope))
}

// issueLocked issues an access token for g with scope, and a fresh refresh token when the client registered
// the refresh_token grant; the caller holds o.mu.
func (o *oauthServer) issueLocked(g *grant, c *oauthClient, scope string) map[string]any {
	now := o.now()
	at := randomToken(32)
	o.access[at] = &accessToken{grant: g.id, clientID: g.clientID, user: g.user, scope: scope, resource: g.resource,
		issued: now, expires: now.Add(o.ttl)}
	resp := map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   int64(o.ttl / time.Second),
		"scope":        scope,
	}
	if slices.Contains(c.GrantTypes, "refresh_token") {
		rt := randomToken(32)
		o.refresh[rt] = &refreshToken{grant: g.id}
		g.refresh = rt
		resp["refresh_token"] = rt
	}
	return resp
}

// revokeGrantLocked revokes a grant and every token issued from it; the caller holds o.mu.
func (o *oauthServer) revokeGrantLocked(id string) {
	g := o.grants[id]
	if g == nil {
		return
	}
	g.revoked = true
	g.refresh = ""
	for k, at := range o.access {
		if at.grant == id {
			delete(o.access, k)
		}
	}
}

// revoke implements RFC 7009: revoking a refresh token revokes its grant, an access token only itself.
func (o *oauthServer) revoke(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if err := parseForm(w, r); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	c, ok := o.authenticateClient(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	o.mu.Lock()
	if at := o.access[tok]; at != nil && at.clientID == c.ID {
		delete(o.access, tok)
	} else if rt := o.refresh[tok]; rt != nil {
		if g := o.grants[rt.grant]; g != nil && g.clientID == c.ID {
			o.revokeGrantLocked(g.id)
		}
	}
	o.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// introspect implements RFC 7662 for authenticated clients.
func (o *oauthServer) introspect(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	if err := parseForm(w, r); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if _, ok := o.authenticateClient(w, r); !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	tok := r.PostForm.Get("token")
	if at, ok := o.lookupAccess(tok); ok {
		writeJSON(w, http.StatusOK, map[string]any{
			"active": true, "scope": at.scope, "client_id": at.clientID, "username": at.user, "sub": at.user,
			"token_type": "Bearer", "exp": at.expires.Unix(), "iat": at.issued.Unix(), "aud": at.resource,
			"iss": o.issuer(r),
		})
		return
	}
	o.mu.Lock()
	var g *grant
	if rt := o.refresh[tok]; rt != nil && !rt.used {
		g = o.grants[rt.grant]
	}
	o.mu.Unlock()
	if g != nil && !g.revoked {
		writeJSON(w, http.StatusOK, map[string]any{
			"active": true, "scope": g.scope, "client_id": g.clientID, "username": g.user, "sub": g.user,
			"token_type": "refresh_token", "aud": g.resource, "iss": o.issuer(r),
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": false})
}

// lookupAccess returns the active access token tok; expired tokens are dropped.
func (o *oauthServer) lookupAccess(tok string) (accessToken, bool) {
	if tok == "" {
		return accessToken{}, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	at := o.access[tok]
	if at == nil {
		return accessToken{}, false
	}
	if !o.now().Before(at.expires) {
		delete(o.access, tok)
		return accessToken{}, false
	}
	return *at, true
}

// userinfo returns the user who approved the grant of the bearer access token.
func (o *oauthServer) userinfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	tok, hasToken := bearerToken(r.Header.Get("Authorization"))
	at, ok := o.lookupAccess(tok)
	if !ok {
		challenge := `Bearer realm="meshai"`
		if hasToken {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, userClaims(at.user))
}

// userClaims are the userinfo claims of a user.
func userClaims(user string) map[string]any {
	name := user
	if name != "" {
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	return map[string]any{"sub": user, "name": name, "preferred_username": user, "email": user + "@example.com"}
}

// defaultUser is who AutoApprove approves as: "demo" when configured, else the first user by name.
func (o *oauthServer) defaultUser() string {
	if _, ok := o.users["demo"]; ok {
		return "demo"
	}
	names := make([]string, 0, len(o.users))
	for n := range o.users {
		names = append(names, n)
	}
	sort.Strings(names)
	return names[0]
}

// pkceMatches checks an S256 code verifier (RFC 7636 §4.6).
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseForm parses a urlencoded POST body of at most 64 KiB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return r.ParseForm()
}

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokenError writes an RFC 6749 §5.2 error.
func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// registrationError writes an RFC 7591 §3.2.2 error.
func registrationError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}
