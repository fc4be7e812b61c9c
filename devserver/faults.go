package devserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
)

// Fault is one deliberate misbehaviour of the reference server (Config.Faults), so that clients and
// `meshai-mcp-server doctor` can be tested against each failure seen in the field, one at a time.
type Fault string

// The faults. Those about OAuth metadata or registration need Config.OAuth.
const (
	FaultNoPRM                       Fault = "no-prm"                        // no protected resource metadata; the 401 challenge names none
	FaultPRMHTML                     Fault = "prm-html"                      // the PRM URLs answer 200 with an HTML page
	FaultNoASMetadata                Fault = "no-as-metadata"                // the authorization server metadata URL answers 404
	FaultASHTML                      Fault = "as-html"                       // the authorization server metadata URL answers with an HTML page
	FaultBadIssuer                   Fault = "bad-issuer"                    // the AS metadata's issuer has a trailing slash the PRM's lacks
	FaultNoS256                      Fault = "no-s256"                       // code_challenge_methods_supported is ["plain"]
	FaultNoPKCE                      Fault = "no-pkce"                       // code_challenge_methods_supported is absent
	FaultNoRegistration              Fault = "no-registration"               // no registration_endpoint; /oauth/register answers 404
	FaultNoNoneAuth                  Fault = "no-none-auth"                  // token_endpoint_auth_methods_supported lacks "none"
	FaultNoIss                       Fault = "no-iss"                        // authorization_response_iss_parameter_supported is absent
	FaultNoRevocation                Fault = "no-revocation"                 // no revocation_endpoint
	FaultBotChallenge                Fault = "bot-challenge"                 // every path answers a Cloudflare-like 403 challenge page
	FaultHTML401                     Fault = "html-401"                      // the MCP endpoint answers 401 with an HTML login page, no challenge
	FaultNoWWWAuthenticate           Fault = "no-www-authenticate"           // the MCP endpoint answers 401 without WWW-Authenticate
	FaultMCP404                      Fault = "mcp-404"                       // /v1/mcp answers 404; the endpoint moved to /mcp
	FaultRegistrationRejectsRedirect Fault = "registration-rejects-redirect" // registration refuses http loopback redirect URIs
	FaultAuthorizeFile               Fault = "authorize-file"                // authorization_endpoint is file:///etc/passwd
	FaultAuthorizeJavaScript         Fault = "authorize-javascript"          // authorization_endpoint is javascript:alert(document.cookie)
	FaultAuthorizeShell              Fault = "authorize-shell"               // authorization_endpoint ends in $(touch${IFS}meshai-pwned)
	FaultAuthorizeBacktick           Fault = "authorize-backtick"            // authorization_endpoint ends in `touch${IFS}meshai-pwned`
	FaultAuthorizeDollar             Fault = "authorize-dollar"              // authorization_endpoint ends in $(touch$IFS./meshai-pwned): only URI characters
	FaultAuthorizeHTTPRemote         Fault = "authorize-http-remote"         // authorization_endpoint is plain http on a remote host
	FaultPRMOtherResource            Fault = "prm-other-resource"            // the PRM's resource is https://other.example.com/v1/mcp
)

// ShellFaultMarker is the file, relative to the working directory, that the endpoints of the authorize-shell,
// authorize-backtick and authorize-dollar faults create if a shell ever runs them.
const ShellFaultMarker = "meshai-pwned"

// OtherResource is the resource the prm-other-resource fault's PRM names: another server's.
const OtherResource = "https://other.example.com/v1/mcp"

// AllFaults lists every fault, for flag help and validation.
var AllFaults = []Fault{
	FaultNoPRM, FaultPRMHTML, FaultNoASMetadata, FaultASHTML, FaultBadIssuer, FaultNoS256, FaultNoPKCE,
	FaultNoRegistration, FaultNoNoneAuth, FaultNoIss, FaultNoRevocation, FaultBotChallenge, FaultHTML401,
	FaultNoWWWAuthenticate, FaultMCP404, FaultRegistrationRejectsRedirect, FaultAuthorizeFile, FaultAuthorizeJavaScript,
	FaultAuthorizeShell, FaultAuthorizeBacktick, FaultAuthorizeDollar, FaultAuthorizeHTTPRemote, FaultPRMOtherResource,
}

// ParseFault checks a fault name, as given to --fault.
func ParseFault(name string) (Fault, error) {
	f := Fault(strings.TrimSpace(name))
	if slices.Contains(AllFaults, f) {
		return f, nil
	}
	names := make([]string, len(AllFaults))
	for i, f := range AllFaults {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown fault %q: use one of %s", name, strings.Join(names, ", "))
}

// faultSet is the set of faults in force; a request reads it once, so one answer never mixes two sets.
type faultSet []Fault

// has reports whether fault f is in the set.
func (fs faultSet) has(f Fault) bool { return slices.Contains(fs, f) }

// SetFaults replaces the faults in force with f, from the next request on; SetFaults() clears them. It is safe
// to call while requests are served, so a test can show a client recovering once the cause is removed.
func (s *Server) SetFaults(f ...Fault) {
	fs := faultSet(slices.Clone(f))
	s.faults.Store(&fs)
}

// SetFaults replaces the running server's faults; see Server.SetFaults.
func (r *Running) SetFaults(f ...Fault) { r.srv.SetFaults(f...) }

// currentFaults returns the faults in force now.
func (s *Server) currentFaults() faultSet {
	if fs := s.faults.Load(); fs != nil {
		return *fs
	}
	return nil
}

// withFaults wraps the server's handler with the faults in force at each request; with none the request goes
// to next unchanged.
func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs := s.currentFaults()
		if len(fs) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		s.serveFaulty(fs, w, r, next)
	})
}

// serveFaulty answers r with the faults fs applied.
func (s *Server) serveFaulty(fs faultSet, w http.ResponseWriter, r *http.Request, next http.Handler) {
	path := r.URL.Path
	noToken := r.Header.Get("Authorization") == ""
	switch {
	case fs.has(FaultBotChallenge):
		botChallenge(w)
	case fs.has(FaultMCP404) && path == mcpPath:
		http.NotFound(w, r)
	case fs.has(FaultMCP404) && path == "/mcp":
		r2 := r.Clone(r.Context())
		r2.URL.Path = mcpPath
		next.ServeHTTP(w, r2)
	case path == mcpPath && noToken && fs.has(FaultHTML401):
		htmlPage(w, http.StatusUnauthorized, "Sign in", "<form action=\"/login\"><input name=\"user\"></form>")
	case path == mcpPath && noToken && fs.has(FaultNoWWWAuthenticate):
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	case path == mcpPath && noToken && fs.has(FaultNoPRM) && s.oauth != nil:
		unauthorized(w, `Bearer scope="`+defaultScope+`"`, "missing bearer token")
	case strings.HasPrefix(path, prmPath) && fs.has(FaultNoPRM):
		http.NotFound(w, r)
	case strings.HasPrefix(path, prmPath) && fs.has(FaultPRMHTML):
		htmlPage(w, http.StatusOK, "MeshAI", "<div id=\"app\"></div>")
	case strings.HasPrefix(path, prmPath) && fs.has(FaultPRMOtherResource):
		faultyResourceMetadata(fs, w, r, next)
	case path == asMetadataPath && fs.has(FaultNoASMetadata):
		http.NotFound(w, r)
	case path == asMetadataPath && fs.has(FaultASHTML):
		htmlPage(w, http.StatusOK, "MeshAI", "<div id=\"app\"></div>")
	case path == asMetadataPath:
		s.faultyServerMetadata(fs, w, r, next)
	case path == registerPath && fs.has(FaultNoRegistration):
		http.NotFound(w, r)
	case path == registerPath && fs.has(FaultRegistrationRejectsRedirect):
		s.pickyRegistration(w, r, next)
	default:
		next.ServeHTTP(w, r)
	}
}

// rewriteJSON serves next's answer with edit applied to its JSON object; other answers pass unchanged.
func rewriteJSON(w http.ResponseWriter, r *http.Request, next http.Handler, edit func(md map[string]any)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var md map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &md) != nil {
		copyRecorded(w, rec)
		return
	}
	edit(md)
	writeJSON(w, http.StatusOK, md)
}

// faultyServerMetadata serves the authorization server metadata with the configured faults applied.
func (s *Server) faultyServerMetadata(fs faultSet, w http.ResponseWriter, r *http.Request, next http.Handler) {
	rewriteJSON(w, r, next, func(md map[string]any) { s.breakServerMetadata(fs, r, md) })
}

// breakServerMetadata applies the configured faults to authorization server metadata.
func (s *Server) breakServerMetadata(fs faultSet, r *http.Request, md map[string]any) {
	if fs.has(FaultBadIssuer) {
		md["issuer"] = fmt.Sprint(md["issuer"]) + "/"
	}
	if fs.has(FaultNoS256) {
		md["code_challenge_methods_supported"] = []string{"plain"}
	}
	if fs.has(FaultNoPKCE) {
		delete(md, "code_challenge_methods_supported")
	}
	if fs.has(FaultNoRegistration) {
		delete(md, "registration_endpoint")
	}
	if fs.has(FaultNoNoneAuth) {
		md["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
	}
	if fs.has(FaultNoIss) {
		delete(md, "authorization_response_iss_parameter_supported")
	}
	if fs.has(FaultNoRevocation) {
		delete(md, "revocation_endpoint")
	}
	if e := s.hostileAuthorizeEndpoint(fs, r); e != "" {
		md["authorization_endpoint"] = e
	}
}

// hostileAuthorizeEndpoint is the authorization_endpoint a hostile-endpoint fault publishes, or "" for none.
// The shell ones are this server's real endpoint with a command appended, so only the shell text is wrong.
func (s *Server) hostileAuthorizeEndpoint(fs faultSet, r *http.Request) string {
	switch {
	case fs.has(FaultAuthorizeFile):
		return "file:///etc/passwd"
	case fs.has(FaultAuthorizeJavaScript):
		return "javascript:alert(document.cookie)"
	case fs.has(FaultAuthorizeShell):
		return s.oauth.issuer(r) + authorizePath + "$(touch${IFS}" + ShellFaultMarker + ")"
	case fs.has(FaultAuthorizeBacktick):
		return s.oauth.issuer(r) + authorizePath + "`touch${IFS}" + ShellFaultMarker + "`"
	case fs.has(FaultAuthorizeDollar):
		return s.oauth.issuer(r) + authorizePath + "$(touch$IFS./" + ShellFaultMarker + ")"
	case fs.has(FaultAuthorizeHTTPRemote):
		return "http://auth.example.com" + authorizePath
	}
	return ""
}

// faultyResourceMetadata serves the protected resource metadata with the configured faults applied.
func faultyResourceMetadata(fs faultSet, w http.ResponseWriter, r *http.Request, next http.Handler) {
	rewriteJSON(w, r, next, func(md map[string]any) {
		if fs.has(FaultPRMOtherResource) {
			md["resource"] = OtherResource
		}
	})
}

// pickyRegistration refuses registrations that ask for an http loopback redirect URI, as authorization servers
// that accept only https redirect URIs do; other requests go to the real endpoint.
func (s *Server) pickyRegistration(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		registrationError(w, "invalid_client_metadata", "the body could not be read")
		return
	}
	var md struct {
		RedirectURIs []string `json:"redirect_uris"`
	}
	_ = json.Unmarshal(body, &md)
	for _, raw := range md.RedirectURIs {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "http" && isLoopbackIP(u.Hostname()) {
			registrationError(w, "invalid_redirect_uri", "redirect URI "+raw+" is not allowed: only https redirect URIs are accepted")
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next.ServeHTTP(w, r)
}

// isLoopbackIP reports whether host is localhost or a loopback IP literal.
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
}

// botChallenge answers like Cloudflare's managed challenge does to a client without a browser.
func botChallenge(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Server", "cloudflare")
	h.Set("Cf-Mitigated", "challenge")
	h.Set("Cf-Ray", "8f00000000000000-AMS")
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>`+
		`<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>`+
		`<noscript>Enable JavaScript and cookies to continue</noscript></body></html>`)
}

// htmlPage writes a small HTML page.
func htmlPage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body>%s</body></html>", title, body)
}

// copyRecorded writes a recorded response as it was.
func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
