package devserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// echoedForm are the token request fields the echo-secrets fault quotes back.
var echoedForm = []string{"code", "code_verifier", "refresh_token", "client_secret", "device_code"}

// echoTokenRequest answers every token request with invalid_grant, quoting in error_description each secret the
// client sent (code, verifier, refresh token, client secret), as a careless or hostile server might.
func echoTokenRequest(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	var said []string
	for _, k := range echoedForm {
		if v := r.PostForm.Get(k); v != "" {
			said = append(said, k+"="+v)
		}
	}
	if _, secret, ok := r.BasicAuth(); ok {
		said = append(said, "client_secret="+secret)
	}
	w.Header().Set("Cache-Control", "no-store")
	tokenError(w, http.StatusBadRequest, "invalid_grant", "refused: you sent "+strings.Join(said, " "))
}

// echoMCPRequest answers an MCP request that carries credentials with every request header value quoted back: in
// a WWW-Authenticate error_description, a Location and the text of the answer. With an OAuth access token the
// answer is a 401 (error="invalid_token"), so the client refreshes and meets echoTokenRequest; otherwise (an API
// key, --header values) it is a JSON-RPC error for the request, which a bridge relays to its client.
func (s *Server) echoMCPRequest(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Header.Get("Authorization") == "" || r.Method != http.MethodPost {
		next.ServeHTTP(w, r)
		return
	}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var said []string
	for _, k := range names {
		if !slices.Contains([]string{"Accept", "Content-Type", "Content-Length", "User-Agent", "Accept-Encoding"}, k) {
			said = append(said, k+": "+strings.Join(r.Header[k], ", "))
		}
	}
	text := "you sent " + strings.Join(said, "; ")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(text, `"`, `'`)+`"`)
	w.Header().Set("Location", mcpPath+"?echo="+url.QueryEscape(text))
	if s.oauth != nil && s.cfg.APIKey == "" {
		http.Error(w, "Unauthorized: "+text, http.StatusUnauthorized)
		return
	}
	var msg struct {
		ID json.RawMessage `json:"id"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if json.Unmarshal(body, &msg) != nil || len(msg.ID) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": msg.ID,
		"error": map[string]any{"code": -32001, "message": text, "data": map[string]string{"echo": text}}})
}
