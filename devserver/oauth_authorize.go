package devserver

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, clientName, redirectURI, state, challenge, resource, scope, issuer string
}

// authorizationRequest reads and checks an authorization request, counting it; a form POST naming a pending
// request goes to consent instead. It reports whether req is a valid request to answer.
func (o *oauthServer) authorizationRequest(w http.ResponseWriter, r *http.Request, consent func(http.ResponseWriter, *http.Request)) (authRequest, bool) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return authRequest{}, false
	}
	if err := parseForm(w, r); err != nil {
		o.errorPage(w, http.StatusBadRequest, "The request could not be read.")
		return authRequest{}, false
	}
	if r.Method == http.MethodPost && r.PostForm.Get("request") != "" {
		consent(w, r)
		return authRequest{}, false
	}
	o.stats.authorizations.Add(1)
	return o.validateAuthRequest(w, r)
}

// authorize implements the authorization endpoint. A GET (or a form POST without a pending request) is an
// authorization request; a form POST naming a pending request is the login and consent page's answer.
func (o *oauthServer) authorize(w http.ResponseWriter, r *http.Request) {
	req, ok := o.authorizationRequest(w, r, o.consent)
	if !ok {
		return
	}
	if o.s.cfg.AutoApprove {
		o.approve(w, r, req, o.defaultUser())
		return
	}
	p := &pendingAuth{req: req, csrf: randomToken(32), expires: o.now().Add(pendingTTL)}
	id := randomToken(24)
	o.mu.Lock()
	o.pruneLocked()
	o.pendings[id] = p
	o.mu.Unlock()
	o.loginPage(w, http.StatusOK, id, p, "")
}

// validateAuthRequest checks an authorization request. Problems with the client or redirect URI are shown as
// an HTML page; the others are sent back to the client's redirect URI.
func (o *oauthServer) validateAuthRequest(w http.ResponseWriter, r *http.Request) (authRequest, bool) {
	q := r.Form
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		o.errorPage(w, http.StatusBadRequest, "The request has no client_id.")
		return authRequest{}, false
	}
	o.mu.Lock()
	c := o.clients[clientID]
	o.mu.Unlock()
	if c == nil {
		o.errorPage(w, http.StatusBadRequest, "The application is not registered with MeshAI (unknown client_id).")
		return authRequest{}, false
	}
	if redirectURI == "" || !(redirectMatches(c.RedirectURIs, redirectURI) && (!c.Exact || slices.Contains(c.RedirectURIs, redirectURI))) {
		o.errorPage(w, http.StatusBadRequest, "The redirect_uri is missing or not registered for this application.")
		return authRequest{}, false
	}
	req := authRequest{clientID: c.ID, clientName: c.Name, redirectURI: redirectURI, state: q.Get("state"),
		challenge: q.Get("code_challenge"), resource: q.Get("resource"), issuer: o.issuer(r)}
	fail := func(code, desc string) (authRequest, bool) {
		o.redirectError(w, r, req, code, desc)
		return authRequest{}, false
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", "response_type must be code")
	}
	if req.challenge == "" {
		return fail("invalid_request", "code_challenge is required (PKCE)")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return fail("invalid_request", "code_challenge_method must be S256")
	}
	if len(req.challenge) != 43 {
		return fail("invalid_request", "code_challenge is not an S256 challenge")
	}
	if req.resource == "" {
		return fail("invalid_target", "resource is required")
	}
	if req.resource != o.resource(r) {
		return fail("invalid_target", "unknown resource; this server protects "+o.resource(r))
	}
	scope := q.Get("scope")
	o.noteAuthorization(scope)
	if strings.TrimSpace(scope) == "" {
		scope = defaultScope
	}
	scopes, ok := o.parseScope(scope)
	if !ok {
		return fail("invalid_scope", "unsupported scope")
	}
	req.scope = strings.Join(scopes, " ")
	return req, true
}

// consent handles the login and consent form.
func (o *oauthServer) consent(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	id := f.Get("request")
	o.mu.Lock()
	p := o.pendings[id]
	if p != nil && o.now().After(p.expires) {
		delete(o.pendings, id)
		p = nil
	}
	o.mu.Unlock()
	if p == nil {
		o.errorPage(w, http.StatusBadRequest, "This sign-in request has expired or was already answered. Start again from the application.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(f.Get("csrf")), []byte(p.csrf)) != 1 {
		o.errorPage(w, http.StatusForbidden, "The form could not be verified. Start again from the application.")
		return
	}
	if f.Get("action") == "deny" {
		o.dropPending(id)
		o.s.log.Info("oauth: authorization denied", "client_id", p.req.clientID)
		o.redirectError(w, r, p.req, "access_denied", "the user denied the request")
		return
	}
	user := f.Get("username")
	if !o.passwordOK(user, f.Get("password")) {
		o.mu.Lock()
		p.attempts++
		tooMany := p.attempts >= maxLoginAttempts
		if tooMany {
			delete(o.pendings, id)
		}
		o.mu.Unlock()
		o.s.log.Info("oauth: login failed", "client_id", p.req.clientID, "user", user)
		if tooMany {
			o.errorPage(w, http.StatusForbidden, "Too many failed sign-in attempts. Start again from the application.")
			return
		}
		o.loginPage(w, http.StatusOK, id, p, "Wrong username or password.")
		return
	}
	o.dropPending(id)
	o.approve(w, r, p.req, user)
}

func (o *oauthServer) dropPending(id string) {
	o.mu.Lock()
	delete(o.pendings, id)
	o.mu.Unlock()
}

// pruneLocked drops expired pending requests, codes and access tokens; the caller holds o.mu. Redeemed codes
// and used refresh tokens are kept to detect their reuse.
func (o *oauthServer) pruneLocked() {
	now := o.now()
	for k, p := range o.pendings {
		if now.After(p.expires) {
			delete(o.pendings, k)
		}
	}
	for k, c := range o.codes {
		if c.grant == "" && now.After(c.expires.Add(codeTTL)) {
			delete(o.codes, k)
		}
	}
	for k, at := range o.access {
		if now.After(at.expires) {
			delete(o.access, k)
		}
	}
}

// approve issues a code for req approved by user and redirects to the client.
func (o *oauthServer) approve(w http.ResponseWriter, r *http.Request, req authRequest, user string) {
	code := randomToken(32)
	o.mu.Lock()
	o.pruneLocked()
	o.codes[code] = &authCode{clientID: req.clientID, redirectURI: req.redirectURI, challenge: req.challenge,
		resource: req.resource, scope: req.scope, user: user, expires: o.now().Add(codeTTL)}
	o.mu.Unlock()
	o.s.log.Info("oauth: authorization approved", "client_id", req.clientID, "user", user, "scope", req.scope)
	o.redirect(w, r, req, url.Values{"code": {code}})
}

// redirectError sends an authorization error to the client's redirect URI.
func (o *oauthServer) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string) {
	o.redirect(w, r, req, url.Values{"error": {code}, "error_description": {desc}})
}

// redirect answers 302 to req.redirectURI with params, state and iss (RFC 9207) added to its query; an empty
// req.issuer (only the error-redirect fault clears it) leaves iss out.
func (o *oauthServer) redirect(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	u, err := url.Parse(req.redirectURI)
	if err != nil { // registered URIs were parsed at registration
		o.errorPage(w, http.StatusBadRequest, "The redirect_uri is invalid.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	if req.issuer != "" {
		q.Set("iss", req.issuer)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// pageHeaders are the security headers of the HTML pages.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

// loginPage renders the login and consent page for pending request id.
func (o *oauthServer) loginPage(w http.ResponseWriter, status int, id string, p *pendingAuth, problem string) {
	name := p.req.clientName
	if name == "" {
		name = "An application"
	}
	pageHeaders(w)
	w.WriteHeader(status)
	_ = loginTmpl.Execute(w, map[string]any{
		"Client": name, "ClientID": p.req.clientID, "Scopes": describeScopes(p.req.scope), "Request": id,
		"CSRF": p.csrf, "Problem": problem, "Redirect": p.req.redirectURI,
	})
}

// errorPage renders an error the user cannot be redirected for.
func (o *oauthServer) errorPage(w http.ResponseWriter, status int, msg string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = errorTmpl.Execute(w, msg)
}

// scopeText explains the scopes on the consent page.
var scopeText = map[string]string{
	scopeRead:    "See your agents, workflows and artifacts",
	scopeExecute: "Run tasks across your agents",
	scopeManage:  "Submit and manage workflows",
	scopeOffline: "Stay signed in (refresh tokens)",
}

func describeScopes(scope string) [][2]string {
	var out [][2]string
	for _, sc := range strings.Fields(scope) {
		out = append(out, [2]string{sc, scopeText[sc]})
	}
	return out
}

const pageStyle = `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:26rem;margin:8vh auto;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002;padding:2rem}
h1{font-size:1.3rem;margin:0 0 .25rem}p.sub{color:#5a6272;margin:0 0 1.25rem}
ul{padding-left:1.1rem}li{margin:.3rem 0}code{background:#eef0f4;border-radius:4px;padding:0 .25rem}
label{display:block;font-weight:600;margin:.8rem 0 .3rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #c6cbd5;border-radius:6px;font-size:1rem}
.row{display:flex;gap:.75rem;margin-top:1.4rem}button{flex:1;padding:.65rem;border-radius:6px;font-size:1rem;cursor:pointer;border:1px solid #c6cbd5;background:#fff}
button.primary{background:#2f5bea;border-color:#2f5bea;color:#fff}
.problem{background:#fdecec;color:#a11;border-radius:6px;padding:.6rem .8rem;margin-bottom:1rem}
small{color:#7a8190}
</style>`

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in to MeshAI</title>` + pageStyle + `</head><body><main>
<h1>Sign in to MeshAI</h1>
<p class="sub"><strong>{{.Client}}</strong> wants to access your MeshAI account.</p>
{{if .Problem}}<div class="problem" role="alert">{{.Problem}}</div>{{end}}
<p>It asks to:</p>
<ul>{{range .Scopes}}<li>{{index . 1}} <code>{{index . 0}}</code></li>{{end}}</ul>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
<div class="row"><button type="submit" name="action" value="approve" class="primary">Approve</button>
<button type="submit" name="action" value="deny">Deny</button></div>
</form>
<p><small>Client <code>{{.ClientID}}</code> will be sent back to {{.Redirect}}</small></p>
</main></body></html>
`))

var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MeshAI sign-in error</title>` + pageStyle + `</head><body><main>
<h1>Sign-in error</h1><div class="problem" role="alert">{{.}}</div>
<p><small>You can close this window.</small></p>
</main></body></html>
`))

// passwordOK checks a login form's user and password against Config.Users, in constant time.
func (o *oauthServer) passwordOK(user, pass string) bool {
	want, known := o.users[user]
	return known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}
