package devserver

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireAPIKey rejects requests without "Authorization: Bearer <APIKey>" when an API key is configured.
// With Config.OAuth, access tokens are accepted as well (see requireOAuth).
func (s *Server) requireAPIKey(next http.Handler) http.Handler {
	if s.oauth != nil {
		return s.requireOAuth(next)
	}
	if s.cfg.APIKey == "" {
		return next
	}
	want := []byte(s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		switch {
		case !ok:
			unauthorized(w, `Bearer realm="meshai"`, "missing bearer token")
		case subtle.ConstantTimeCompare([]byte(token), want) != 1:
			unauthorized(w, `Bearer realm="meshai", error="invalid_token"`, "invalid API key")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// bearerToken extracts the token of a "Bearer" Authorization header; the scheme is case-insensitive.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// unauthorized writes a 401 with the given WWW-Authenticate challenge.
func unauthorized(w http.ResponseWriter, challenge, msg string) {
	w.Header().Set("WWW-Authenticate", challenge)
	http.Error(w, "Unauthorized: "+msg, http.StatusUnauthorized)
}
