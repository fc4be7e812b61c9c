package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrNoOAuth means the MCP server offers no OAuth sign-in at all; errors.Is finds it in a *NoOAuthError.
var ErrNoOAuth = errors.New("the MCP server offers no OAuth sign-in")

// NoOAuthError is discovery finding no sign-in at all: no protected resource metadata, no authorization server
// metadata at the server's origin, and not even the 2025-03-26 default authorization endpoint. Such a server
// takes some other credential, typically an API key.
type NoOAuthError struct {
	Server string   // the MCP server's origin
	Tried  []string // the URLs that answered 404, in the order tried
}

func (e *NoOAuthError) Error() string {
	return fmt.Sprintf("%s offers no OAuth sign-in: no authorization server metadata and no default authorization endpoint (%s answered 404)",
		e.Server, strings.Join(e.Tried, " and "))
}

// Is lets errors.Is find ErrNoOAuth.
func (e *NoOAuthError) Is(target error) bool { return target == ErrNoOAuth }

// defaultAuthorizeAbsent reports whether the 2025-03-26 default authorization endpoint, origin/authorize,
// answers 404 to a bare GET. A real one answers anything else: an error page for the missing parameters, a
// redirect to a login page, a 405.
func defaultAuthorizeAbsent(ctx context.Context, hc *http.Client, authorize string) (bool, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorize, nil)
	if err != nil {
		return false, fmt.Errorf("authorization endpoint %s: %w", authorize, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, fmt.Errorf("check for an authorization endpoint at %s: %w; check the server URL and the network", authorize, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxMetadataBytes))
	return resp.StatusCode == http.StatusNotFound, nil
}
