package devserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
)

// manageTool is the tool that needs the mcp:manage scope when OAuth is on.
const manageTool = "submit_workflow"

// requireOAuth guards an MCP endpoint with the authorization server's access tokens (and the API key, when one
// is configured, which carries every scope). A missing, unknown or expired token gets 401 with a challenge
// pointing at the protected resource metadata; a tools/call of submit_workflow without mcp:manage gets an
// HTTP 403 insufficient_scope challenge before the JSON-RPC request runs.
func (s *Server) requireOAuth(next http.Handler) http.Handler {
	o := s.oauth
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, has := bearerToken(r.Header.Get("Authorization"))
		var scope string
		if has && s.cfg.APIKey != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.APIKey)) == 1 {
			scope = manageChallengeScope
		} else {
			at, ok := o.lookupAccess(tok)
			if !ok || at.resource != o.resource(r) {
				challenge := `Bearer resource_metadata="` + o.prmURL(r) + `"` + o.challengeScope(", ")
				msg := "missing bearer token"
				if has {
					challenge = `Bearer error="invalid_token", error_description="the access token is invalid or expired", ` +
						`resource_metadata="` + o.prmURL(r) + `"` + o.challengeScope(", ")
					msg = "invalid or expired access token"
				}
				unauthorized(w, challenge, msg)
				return
			}
			scope = at.scope
		}
		if r.Method == http.MethodPost && !hasScope(scope, scopeManage) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
			if err != nil {
				http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if callsTool(body, manageTool) {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+manageChallengeScope+
					`", resource_metadata="`+o.prmURL(r)+`", error_description="`+manageTool+` needs the `+scopeManage+` scope"`)
				http.Error(w, "Forbidden: "+manageTool+" needs the "+scopeManage+" scope", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// callsTool reports whether a JSON-RPC message or batch holds a tools/call of tool.
func callsTool(body []byte, tool string) bool {
	type call struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var msgs []call
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
		if json.Unmarshal(t, &msgs) != nil {
			return false
		}
	} else {
		var one call
		if json.Unmarshal(t, &one) != nil {
			return false
		}
		msgs = []call{one}
	}
	for _, m := range msgs {
		if m.Method == "tools/call" && m.Params.Name == tool {
			return true
		}
	}
	return false
}
