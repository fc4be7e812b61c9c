package oauth

import (
	"net"
	"net/url"
	"strings"
)

// CanonicalResource returns the canonical URI of an MCP server for RFC 8707 (the resource parameter) and for
// comparing resource identifiers: lowercase scheme and host, default port (80 for http, 443 for https) dropped,
// no user info, no fragment, query kept. The path is kept as given, with one exception: a bare "/" is dropped,
// so https://mcp.example.com/ and https://mcp.example.com are the same resource. A trailing slash on a longer
// path is kept, because the server may only answer there (the spec: "no trailing slash unless it is
// significant", and only the server's own URL can tell). It returns "" for nil or a non-absolute URL.
func CanonicalResource(u *url.URL) string {
	if u == nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(canonicalHost(scheme, u))
	if p := u.EscapedPath(); p != "/" {
		b.WriteString(p)
	}
	if u.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
	return b.String()
}

// canonicalHost is host[:port] lowercased, IPv6 in brackets, without the scheme's default port.
func canonicalHost(scheme string, u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// resourceCovers reports whether the PRM resource identifier prm names the MCP server at server: the same
// canonical URI, or the same origin (scheme, host, port) with a path that is a whole-segment prefix of the
// server's path (https://h covers https://h/mcp; https://h/mc does not). A resource with a fragment or user
// info never matches; one with a query must match exactly.
//
// RFC 9728 §3.3 asks for the resource "identical to" the identifier the well-known URL was built from (for the
// root document, the origin) or, via WWW-Authenticate, to the URL requested. The prefix rule accepts both of
// those and the in-between paths, as draft-mcguinness-oauth-rfc9728bis proposes and the MCP TypeScript and
// Python SDKs do; the origin, and so the TLS server that vouches for the document, must still be the same.
func resourceCovers(prm string, server *url.URL) bool {
	r, err := url.Parse(prm)
	if err != nil || r.Fragment != "" || r.User != nil {
		return false
	}
	want, got := CanonicalResource(server), CanonicalResource(r)
	if got == "" || want == "" {
		return false
	}
	if got == want {
		return true
	}
	if r.RawQuery != "" || !strings.EqualFold(r.Scheme, server.Scheme) ||
		canonicalHost(strings.ToLower(r.Scheme), r) != canonicalHost(strings.ToLower(server.Scheme), server) {
		return false
	}
	prefix := strings.TrimSuffix(r.EscapedPath(), "/")
	path := server.EscapedPath()
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// UnionScopes returns the scopes of a then those of b not already present, in order and without duplicates:
// the set to re-authorize with on a step-up (previously requested scopes plus the challenge's).
func UnionScopes(a, b []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]string{a, b} {
		for _, s := range list {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
