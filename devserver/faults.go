package devserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	FaultRateLimitMCP                Fault = "rate-limit-mcp"                // the MCP endpoints (/v1/mcp, /v1/sse, /v1/message) answer 429 with Retry-After
	FaultRateLimitToken              Fault = "rate-limit-token"              // the token endpoint answers 429 with Retry-After
	FaultRateLimitRegister           Fault = "rate-limit-register"           // the registration endpoint answers 429 with Retry-After
	FaultRateLimitDiscovery          Fault = "rate-limit-discovery"          // every /.well-known/ URL (PRM, AS metadata) answers 429 with Retry-After
	FaultRateLimitDevice             Fault = "rate-limit-device"             // the device authorization endpoint answers 429 with Retry-After
	FaultErrorRedirect               Fault = "error-redirect"                // /oauth/authorize sends back error=access_denied (OAUTH_STATE_EXPIRED) without iss
	FaultDeny                        Fault = "deny"                          // /oauth/authorize sends back error=access_denied, as a user clicking Deny
	FaultExchangeInvalidGrant        Fault = "exchange-invalid-grant"        // the token endpoint refuses every authorization code with invalid_grant
	FaultCloudflareToken             Fault = "cloudflare-token"              // only the token endpoint answers a Cloudflare 403 challenge page
	FaultAPIKeyOnly                  Fault = "api-key-only"                  // no OAuth: a 401 without resource_metadata, 404 at every OAuth URL
	FaultEchoSecrets                 Fault = "echo-secrets"                  // the token endpoint and the MCP endpoint quote back every secret they got (faults_echo.go)
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
	FaultRateLimitMCP, FaultRateLimitToken, FaultRateLimitRegister, FaultRateLimitDiscovery, FaultRateLimitDevice,
	FaultErrorRedirect, FaultDeny, FaultExchangeInvalidGrant, FaultCloudflareToken, FaultAPIKeyOnly, FaultEchoSecrets,
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
	case rateLimited(fs, path):
		s.tooManyRequests(w)
	case fs.has(FaultAPIKeyOnly) && isOAuthPath(path):
		http.NotFound(w, r)
	case fs.has(FaultAPIKeyOnly) && slices.Contains(mcpPaths, path):
		s.onlyAPIKey(w, r, next)
	case path == tokenPath && fs.has(FaultEchoSecrets) && r.Method == http.MethodPost:
		echoTokenRequest(w, r)
	case path == mcpPath && fs.has(FaultEchoSecrets):
		s.echoMCPRequest(w, r, next)
	case path == tokenPath && fs.has(FaultCloudflareToken):
		botChallenge(w)
	case path == tokenPath && fs.has(FaultExchangeInvalidGrant):
		refuseCodes(w, r, next)
	case path == authorizePath && fs.has(FaultDeny) && s.oauth != nil:
		s.oauth.refuseAuthorization(w, r, next, "access_denied", "The user denied the request", true)
	case path == authorizePath && fs.has(FaultErrorRedirect) && s.oauth != nil:
		s.oauth.refuseAuthorization(w, r, next, "access_denied", stateExpired, false)
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
		unauthorized(w, "Bearer"+s.oauth.challengeScope(" "), "missing bearer token")
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
