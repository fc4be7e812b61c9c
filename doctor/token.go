package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// probeRefreshToken is the refresh token of doctor's token endpoint probe: no server ever issued it.
const probeRefreshToken = "meshai-doctor-probe-not-a-token"

// checkToken posts a made-up grant to the token endpoint: as the configured client, an authorization code, when
// there is one (probeAsClient); else a refresh token, with no client. The healthy answer is an OAuth error in JSON (invalid_request, invalid_client, invalid_grant): what the bridge
// reads there to sign in and to refresh. A web page, a bot-protection challenge or a 429 there breaks both.
func (r *runner) checkToken(ctx context.Context) {
	const id, title = "oauth.token", "Token endpoint (a refresh no server would grant)"
	switch {
	case r.oauthSkip() != "":
		r.skip(id, title, r.oauthSkip())
		return
	case r.meta == nil || r.meta.Defaulted:
		r.skip(id, title, "no usable authorization server metadata")
		return
	case r.meta.TokenEndpoint == "":
		r.skip(id, title, "the metadata names no token_endpoint")
		return
	}
	endpoint := r.meta.TokenEndpoint
	if _, err := oauth.ValidateEndpointURL(endpoint); err != nil {
		r.skip(id, title, "the token_endpoint is not a usable URL (see Endpoints above)")
		return
	}
	where := textutil.RedactRawURL(endpoint)
	if r.opts.Endpoints != nil {
		where += " (--token-url)"
	}
	if r.opts.Client != nil {
		r.timed(func() Result {
			return r.probeAsClient(ctx, Result{ID: id, Title: "Token endpoint and the configured client (a code no server issued)"}, endpoint, where)
		})
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		ex, err := r.postForm(sctx, endpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {probeRefreshToken}})
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(parsed(endpoint), err)
			return res
		}
		return judgeToken(res, where, ex)
	})
}

// judgeToken judges the token endpoint's answer to the probe.
func judgeToken(res Result, where string, ex *exchange) Result {
	page := ex.page()
	var oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	isJSON := !page.IsHTML && json.Unmarshal(ex.body, &oauthErr) == nil
	switch {
	case page.Challenge != "":
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s answered %d with %s's bot protection challenge (%s), not JSON: sign-in and refresh both fail there",
			where, ex.status, page.Challenge, page.Why())
		res.Fix = "ask the server's operator to let API clients reach the token endpoint (" + where + "): a " + page.Challenge +
			" WAF skip rule for its path, or the challenge off for it; no client can pass a browser check there"
	case ex.status == http.StatusTooManyRequests:
		res.Status = Fail
		wait, until := askedWait(ex.header)
		res.Detail = fmt.Sprintf("%s is rate limiting (429)%s; sign-in and refresh fail until it stops", where, wait)
		res.Fix = rateLimitFix(until)
	case page.IsHTML:
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s answered %d with an HTML page%s, not JSON: sign-in and refresh both fail there", where, ex.status, titled(page.Title))
		res.Fix = "ask the server's operator to serve OAuth JSON at the token endpoint to API clients (no login wall, proxy page or bot protection in front of it)"
	case isJSON && oauthErr.Error != "":
		res.Status = OK
		res.Detail = fmt.Sprintf("%s answered %d with the OAuth error %q, in JSON as clients expect", where, ex.status, secrets.Scrub(clip(textutil.OneLine(oauthErr.Error), 60)))
	case ex.status >= 500:
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s failed with HTTP %d: %s", where, ex.status, secrets.Scrub(textutil.Snippet(ex.body)))
		res.Fix = "the server has a problem: try again later, or tell its operator"
	default:
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s answered HTTP %d without an OAuth error (%s): %s", where, ex.status, orNone(ex.mediaType()), secrets.Scrub(textutil.Snippet(ex.body)))
		res.Fix = "the token endpoint must answer refused requests with a JSON error (RFC 6749 §5.2): check its URL in the metadata, or ask the server's operator"
	}
	return res
}

// postForm POSTs form without credentials and reads the start of the answer.
func (r *runner) postForm(ctx context.Context, endpoint string, form url.Values) (*exchange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return r.send(req)
}

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// titled is ` titled "T"` for a page title, "" for none.
func titled(title string) string {
	if title == "" {
		return ""
	}
	return fmt.Sprintf(" titled %q", title)
}

// orNone is s, or "no Content-Type" when s is empty.
func orNone(mediaType string) string {
	if mediaType == "" {
		return "no Content-Type"
	}
	return mediaType
}

// parsed parses a URL ValidateEndpointURL accepted.
func parsed(raw string) *url.URL {
	u, _ := url.Parse(raw)
	return u
}
