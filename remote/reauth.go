package remote

import (
	"context"
	"net/http"
	"strings"
)

// Reauthorizer is implemented by a token source that can recover when the server refuses its token: on 401 by
// refreshing (or signing in again), on 403 insufficient_scope by asking for more scope. It gets the HTTP status,
// the WWW-Authenticate values and the access token that was refused ("" when none was sent), and returns nil
// when a retry may now succeed, or an error that says what the user must do. Plain types keep auth free of
// any import of this package.
type Reauthorizer interface {
	Reauthorize(ctx context.Context, status int, wwwAuthenticate []string, rejectedToken string) error
}

// maxReauth bounds how often one request asks for new credentials (the MCP spec: step-up "no more than a few
// times").
const maxReauth = 3

// needsReauth reports whether resp is a refusal a Reauthorizer could fix.
func needsReauth(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if strings.Contains(v, "insufficient_scope") {
				return true
			}
		}
	}
	return false
}

// reauthorize asks the token source for new credentials after resp refused req. It reports whether to retry.
func (c *Client) reauthorize(ctx context.Context, req *http.Request, resp *http.Response) (bool, error) {
	ra, ok := c.opts.Token.(Reauthorizer)
	if !ok || !needsReauth(resp) {
		return false, nil
	}
	rejected := strings.TrimSpace(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer"))
	errorBody(resp)
	if err := ra.Reauthorize(ctx, resp.StatusCode, resp.Header.Values("WWW-Authenticate"), rejected); err != nil {
		ue := credentialError(err) // a rate-limited refresh says when to try again
		if ue.Until.IsZero() {
			ue = &UpstreamError{Message: err.Error(), Err: err}
		}
		ue.Status = resp.StatusCode
		return false, ue
	}
	return true, nil
}

// backgroundKey marks work no client request waits on (the GET stream): a refusal there is not worth a sign-in
// in the browser; the next client request will ask.
type backgroundKey struct{}

func background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool { b, _ := ctx.Value(backgroundKey{}).(bool); return b }
