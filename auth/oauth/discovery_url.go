package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// ValidateEndpointURL checks a URL taken from a metadata document before the bridge fetches it or a browser
// opens it: absolute http(s), plain http only for a loopback host, no user info, no fragment (RFC 6749 §3.1),
// and only characters RFC 3986 allows in a URI, minus the single quote, so nothing a shell or a browser could
// read as something else (spaces, quotes, backticks, control characters) gets through.
func ValidateEndpointURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return !isURIChar(r) }); i >= 0 {
		return nil, fmt.Errorf("URL contains %q, which no URL may contain (spaces, quotes and control characters are refused)", raw[i:i+1])
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a valid URL: %v", err)
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !netutil.IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%q uses plain http: only https is allowed, except on a loopback host", raw)
		}
	default:
		return nil, fmt.Errorf("%q has scheme %q: only https (or http on a loopback host) is allowed", raw, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("a URL with user info in it is refused (host %s)", u.Host)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, fmt.Errorf("%q has a fragment, which an OAuth endpoint must not have", raw)
	}
	return u, nil
}

// isURIChar reports the characters of RFC 3986 (unreserved, reserved, "%"), without "'".
func isURIChar(r rune) bool {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return true
	}
	return strings.ContainsRune("-._~:/?#[]@!$&()*+,;=%", r)
}

// BrowserURL checks a URL before any opener sees it, by the same rules as every endpoint from metadata
// (ValidateEndpointURL): absolute https (http only on loopback), no user info, no whitespace, quotes or control
// characters; and, stricter than ValidateEndpointURL, no "$" (our own query parameters are percent-encoded, so
// only a crafted endpoint has one). A crafted authorization_endpoint (file:, javascript:, shell text such as
// $(cmd)) never reaches a browser or a command.
func BrowserURL(raw string) (*url.URL, error) {
	u, err := ValidateEndpointURL(raw)
	if err != nil {
		return nil, fmt.Errorf("refusing to open it in a browser: %w", err)
	}
	if strings.Contains(raw, "$") {
		return nil, fmt.Errorf("refusing to open it in a browser: URL contains %q, which has meaning to a shell and none in an authorization endpoint", "$")
	}
	return u, nil
}
