package devserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// The faults that edit a metadata document or the registration endpoint.

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
		if u, err := url.Parse(raw); err == nil && u.Scheme == "http" && netutil.IsLoopback(u.Hostname()) {
			registrationError(w, "invalid_redirect_uri", "redirect URI "+raw+" is not allowed: only https redirect URIs are accepted")
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next.ServeHTTP(w, r)
}
