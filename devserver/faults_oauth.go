package devserver

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// The faults of the sign-in itself: refused authorizations and code exchanges, and a server that takes only
// its API key.

// stateExpired is the error_description of the error-redirect fault, as a server that lost the sign-in's state
// words it.
const stateExpired = "OAUTH_STATE_EXPIRED: the sign-in request expired or was not found; start the sign-in again"

// mcpPaths are the MCP endpoints of both transports.
var mcpPaths = []string{mcpPath, "/v1/sse", "/v1/message"}

// isOAuthPath reports whether path is one of the OAuth URLs: a well-known metadata document or an endpoint of
// the authorization server.
func isOAuthPath(path string) bool {
	return strings.Contains(path, "/.well-known/") || strings.HasPrefix(path, "/oauth/")
}

// refuseAuthorization answers a valid authorization request by sending the browser straight back to the
// client with error code and desc, state, and iss when withIss is set. Invalid requests get their usual answer
// and a login form's post goes to next.
func (o *oauthServer) refuseAuthorization(w http.ResponseWriter, r *http.Request, next http.Handler, code, desc string, withIss bool) {
	req, ok := o.authorizationRequest(w, r, next.ServeHTTP)
	if !ok {
		return
	}
	if !withIss {
		req.issuer = ""
	}
	o.s.log.Info("oauth: fault: authorization refused", "client_id", req.clientID, "error", code)
	o.redirectError(w, r, req, code, desc)
}

// refuseCodes answers every authorization_code grant with invalid_grant; other token requests go to next.
func refuseCodes(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodPost {
		next.ServeHTTP(w, r)
		return
	}
	if err := parseForm(w, r); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid, expired or was issued for another client")
}

// onlyAPIKey guards an MCP endpoint as a server without OAuth does: the API key or a 401 whose challenge names
// no resource metadata. Access tokens are refused.
func (s *Server) onlyAPIKey(w http.ResponseWriter, r *http.Request, next http.Handler) {
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	switch {
	case !ok:
		unauthorized(w, `Bearer realm="meshai"`, "missing API key")
	case s.cfg.APIKey == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.APIKey)) != 1:
		unauthorized(w, `Bearer realm="meshai", error="invalid_token"`, "invalid API key")
	default:
		next.ServeHTTP(w, r)
	}
}
