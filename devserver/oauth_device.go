package devserver

import (
	"crypto/rand"
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The OAuth 2.0 Device Authorization Grant (RFC 8628) of the reference authorization server: a client
// registered with the device_code grant asks /oauth/device for a device code and a user code, the user enters
// the user code at /oauth/device/verify and signs in (demo/demo; with AutoApprove, GET ?user_code= approves at
// once), and the client polls the token endpoint, which answers authorization_pending, slow_down,
// access_denied or expired_token until it issues the same tokens as the code flow. Codes are never logged.

// Device grant names, paths and timings.
const (
	deviceGrantType       = "urn:ietf:params:oauth:grant-type:device_code"
	devicePath            = "/oauth/device"
	deviceVerifyPath      = "/oauth/device/verify"
	deviceTTL             = 10 * time.Minute
	defaultDeviceInterval = 5 * time.Second
	deviceSlowDown        = 5 * time.Second        // added to a device code's interval on each slow_down (RFC 8628 §3.5)
	userCodeAlphabet      = "BCDFGHJKLMNPQRSTVWXZ" // RFC 8628 §6.1: no vowels, no look-alikes
	userCodeLen           = 8
)

// deviceAuth is a device authorization waiting for the user, then for the client to poll it.
type deviceAuth struct {
	clientID, clientName, scope, resource string
	userCode                              string // normalized: userCodeLen letters of userCodeAlphabet
	csrf                                  string
	expires, lastPoll                     time.Time
	interval                              time.Duration // the least gap between polls; grows on slow_down
	user                                  string        // who approved; "" while pending
	denied                                bool
	attempts                              int // failed logins on the verification page
}

// deviceStore holds the device authorizations under oauthServer.mu; its zero value is ready.
type deviceStore struct {
	byCode   map[string]*deviceAuth // device code -> authorization
	byUser   map[string]string      // normalized user code -> device code
	interval time.Duration          // the polling interval given out; 0 means defaultDeviceInterval
}

// deviceRoutes adds the device grant's endpoints to mux.
func (o *oauthServer) deviceRoutes(mux *http.ServeMux) {
	mux.HandleFunc(devicePath, o.deviceAuthorization)
	mux.HandleFunc(deviceVerifyPath, o.deviceVerify)
}

// deviceClientOK reports whether a registration's grant types allow the device grant.
func deviceClientOK(grants []string) bool { return slices.Contains(grants, deviceGrantType) }

// deviceAuthorization implements the device authorization endpoint (RFC 8628 §3.1, §3.2).
func (o *oauthServer) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := parseForm(w, r); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	c, ok := o.authenticateClient(w, r)
	if !ok {
		return
	}
	if !deviceClientOK(c.GrantTypes) {
		tokenError(w, http.StatusBadRequest, "unauthorized_client", "the client is not registered for the "+deviceGrantType+" grant")
		return
	}
	f := r.PostForm
	scope := f.Get("scope")
	if strings.TrimSpace(scope) == "" {
		scope = defaultScope
	}
	scopes, ok := o.parseScope(scope)
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_scope", "unsupported scope")
		return
	}
	resource := f.Get("resource")
	switch {
	case resource == "":
		tokenError(w, http.StatusBadRequest, "invalid_target", "resource is required")
		return
	case resource != o.resource(r):
		tokenError(w, http.StatusBadRequest, "invalid_target", "unknown resource; this server protects "+o.resource(r))
		return
	}
	now := o.now()
	d := &deviceAuth{clientID: c.ID, clientName: c.Name, scope: strings.Join(scopes, " "), resource: resource,
		csrf: randomToken(32), expires: now.Add(deviceTTL), lastPoll: now}
	code := randomToken(32)
	o.mu.Lock()
	o.pruneDevicesLocked()
	if o.devices.byCode == nil {
		o.devices.byCode, o.devices.byUser = map[string]*deviceAuth{}, map[string]string{}
	}
	d.interval = o.devices.interval
	if d.interval <= 0 {
		d.interval = defaultDeviceInterval
	}
	for d.userCode == "" || o.devices.byUser[d.userCode] != "" {
		d.userCode = newUserCode()
	}
	o.devices.byCode[code] = d
	o.devices.byUser[d.userCode] = code
	o.mu.Unlock()
	o.s.log.Info("oauth: device authorization started", "client_id", c.ID, "scope", d.scope)
	shown := formatUserCode(d.userCode)
	verify := o.issuer(r) + deviceVerifyPath
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               code,
		"user_code":                 shown,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?" + url.Values{"user_code": {shown}}.Encode(),
		"expires_in":                int64(deviceTTL / time.Second),
		"interval":                  int64(max(time.Second, d.interval.Round(time.Second)) / time.Second),
	})
}

// newUserCode returns userCodeLen random letters of userCodeAlphabet, without modulo bias.
func newUserCode() string {
	out := make([]byte, 0, userCodeLen)
	var b [1]byte
	for len(out) < userCodeLen {
		_, _ = rand.Read(b[:])
		if int(b[0]) < 256-256%len(userCodeAlphabet) {
			out = append(out, userCodeAlphabet[int(b[0])%len(userCodeAlphabet)])
		}
	}
	return string(out)
}

// formatUserCode shows a normalized user code as XXXX-XXXX.
func formatUserCode(c string) string {
	if len(c) != userCodeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// normalizeUserCode accepts what a user types: any case, with dashes and spaces.
func normalizeUserCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

// pruneDevicesLocked drops device authorizations a while after they expired (until then a poll still gets
// expired_token); the caller holds o.mu.
func (o *oauthServer) pruneDevicesLocked() {
	now := o.now()
	for code, d := range o.devices.byCode {
		if now.After(d.expires.Add(deviceTTL)) {
			o.dropDeviceLocked(code)
		}
	}
}

// dropDeviceLocked forgets a device authorization; the caller holds o.mu.
func (o *oauthServer) dropDeviceLocked(code string) {
	if d := o.devices.byCode[code]; d != nil {
		delete(o.devices.byUser, d.userCode)
		delete(o.devices.byCode, code)
	}
}

// deviceToken implements the device access token request (RFC 8628 §3.4, §3.5) for an authenticated client.
func (o *oauthServer) deviceToken(w http.ResponseWriter, r *http.Request, c *oauthClient) {
	f := r.PostForm
	code := f.Get("device_code")
	if code == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "device_code is required")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	d := o.devices.byCode[code]
	switch {
	case d == nil:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown device code")
		return
	case d.clientID != c.ID:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the device code was issued to another client")
		return
	case now.After(d.expires):
		o.dropDeviceLocked(code)
		tokenError(w, http.StatusBadRequest, "expired_token", "the device code expired before it was approved")
		return
	case f.Get("resource") != "" && f.Get("resource") != d.resource:
		tokenError(w, http.StatusBadRequest, "invalid_target", "resource differs from the authorized one")
		return
	case now.Sub(d.lastPoll) < d.interval:
		d.lastPoll = now
		d.interval += deviceSlowDown
		tokenError(w, http.StatusBadRequest, "slow_down", "polled faster than the interval; wait 5 seconds longer")
		return
	}
	d.lastPoll = now
	switch {
	case d.denied:
		o.dropDeviceLocked(code)
		tokenError(w, http.StatusBadRequest, "access_denied", "the user denied the request")
		return
	case d.user == "":
		tokenError(w, http.StatusBadRequest, "authorization_pending", "the user has not answered yet")
		return
	}
	o.dropDeviceLocked(code)
	g := &grant{id: randomToken(16), clientID: c.ID, user: d.user, scope: d.scope, resource: d.resource}
	o.grants[g.id] = g
	o.s.log.Info("oauth: device code redeemed", "client_id", c.ID, "user", g.user, "scope", g.scope)
	writeJSON(w, http.StatusOK, o.issueLocked(g, c, g.scope))
}

// lookupDeviceLocked finds the pending device authorization of a user code; the caller holds o.mu.
func (o *oauthServer) lookupDeviceLocked(userCode string) *deviceAuth {
	d := o.devices.byCode[o.devices.byUser[normalizeUserCode(userCode)]]
	if d == nil || d.user != "" || d.denied || o.now().After(d.expires) {
		return nil
	}
	return d
}

// deviceVerify is the verification page: GET shows a form for the user code, then the login and consent form
// for that code (or, with AutoApprove, approves it at once); POST is the login and consent form's answer.
func (o *oauthServer) deviceVerify(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if err := parseForm(w, r); err != nil {
		o.errorPage(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	userCode := r.Form.Get("user_code")
	if strings.TrimSpace(userCode) == "" {
		o.devicePage(w, http.StatusOK, deviceView{})
		return
	}
	o.mu.Lock()
	d := o.lookupDeviceLocked(userCode)
	var view deviceView
	if d != nil {
		view = deviceView{UserCode: formatUserCode(d.userCode), CSRF: d.csrf, Client: d.clientName, ClientID: d.clientID,
			Scopes: describeScopes(d.scope)}
	}
	o.mu.Unlock()
	if d == nil {
		o.devicePage(w, http.StatusBadRequest, deviceView{Problem: "That code is unknown, expired or already used. Check the code your device shows."})
		return
	}
	if r.Method == http.MethodGet {
		if o.s.cfg.AutoApprove {
			o.answerDevice(w, d, o.defaultUser(), false)
			return
		}
		o.devicePage(w, http.StatusOK, view)
		return
	}
	f := r.PostForm
	if subtle.ConstantTimeCompare([]byte(f.Get("csrf")), []byte(view.CSRF)) != 1 {
		o.errorPage(w, http.StatusForbidden, "The form could not be verified. Enter the code again.")
		return
	}
	if f.Get("action") == "deny" {
		o.answerDevice(w, d, "", true)
		return
	}
	user := f.Get("username")
	if !o.passwordOK(user, f.Get("password")) {
		o.mu.Lock()
		d.attempts++
		tooMany := d.attempts >= maxLoginAttempts
		if tooMany {
			d.denied = true // the device is told access_denied
		}
		o.mu.Unlock()
		o.s.log.Info("oauth: device login failed", "client_id", d.clientID, "user", user)
		if tooMany {
			o.errorPage(w, http.StatusForbidden, "Too many failed sign-in attempts. Start again on your device.")
			return
		}
		view.Problem = "Wrong username or password."
		o.devicePage(w, http.StatusOK, view)
		return
	}
	o.answerDevice(w, d, user, false)
}

// answerDevice records the user's answer for d, unless another answer came first, and shows the result.
func (o *oauthServer) answerDevice(w http.ResponseWriter, d *deviceAuth, user string, deny bool) {
	o.mu.Lock()
	first := d.user == "" && !d.denied
	if first {
		d.user, d.denied = user, deny
	}
	o.mu.Unlock()
	if !first {
		o.devicePage(w, http.StatusBadRequest, deviceView{Problem: "That code was already answered."})
		return
	}
	if deny {
		o.s.log.Info("oauth: device authorization denied", "client_id", d.clientID)
		o.devicePage(w, http.StatusOK, deviceView{Done: "Access denied. You can close this window; your device will be told."})
		return
	}
	o.s.log.Info("oauth: device authorization approved", "client_id", d.clientID, "user", user, "scope", d.scope)
	o.devicePage(w, http.StatusOK, deviceView{Done: "Device approved. You can close this window and return to your device."})
}

// deviceView is what the verification page shows: the code form (no UserCode), the login and consent form, or
// a result (Done).
type deviceView struct {
	UserCode, CSRF, Client, ClientID, Problem, Done string
	Scopes                                          [][2]string
}

// devicePage renders the verification page.
func (o *oauthServer) devicePage(w http.ResponseWriter, status int, v deviceView) {
	if v.Client == "" {
		v.Client = "An application"
	}
	pageHeaders(w)
	w.WriteHeader(status)
	_ = deviceTmpl.Execute(w, v)
}

var deviceTmpl = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Connect a device to MeshAI</title>` + pageStyle + `</head><body><main>
<h1>Connect a device to MeshAI</h1>
{{if .Problem}}<div class="problem" role="alert">{{.Problem}}</div>{{end}}
{{if .Done}}<p>{{.Done}}</p>
{{else if .UserCode}}<p class="sub"><strong>{{.Client}}</strong> wants to access your MeshAI account.</p>
<p>Check that your device shows the code <code>{{.UserCode}}</code>. It asks to:</p>
<ul>{{range .Scopes}}<li>{{index . 1}} <code>{{index . 0}}</code></li>{{end}}</ul>
<form method="post" action="/oauth/device/verify">
<input type="hidden" name="user_code" value="{{.UserCode}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
<div class="row"><button type="submit" name="action" value="approve" class="primary">Approve</button>
<button type="submit" name="action" value="deny">Deny</button></div>
</form>
<p><small>Client <code>{{.ClientID}}</code></small></p>
{{else}}<p class="sub">Enter the code your device shows.</p>
<form method="get" action="/oauth/device/verify">
<label for="user_code">Code</label><input type="text" id="user_code" name="user_code" autocomplete="one-time-code" autocapitalize="characters" autofocus placeholder="XXXX-XXXX">
<div class="row"><button type="submit" class="primary">Continue</button></div>
</form>{{end}}
</main></body></html>
`))
