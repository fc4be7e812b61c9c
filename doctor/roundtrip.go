package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// checkRoundTrip runs an authenticated initialize and tools/list through remote's Client, as the bridge would
// for an MCP client, and times them.
func (r *runner) checkRoundTrip(ctx context.Context) {
	const initID, initTitle = "session.initialize", "Authenticated initialize"
	const toolsID, toolsTitle = "session.tools", "tools/list"
	switch {
	case r.u == nil || !r.reachable:
		r.skip(initID, initTitle, "the MCP endpoint did not answer (see above)")
		r.skip(toolsID, toolsTitle, "no session")
		return
	case !r.endpoint.open && !r.endpoint.needAuth:
		r.skip(initID, initTitle, "the MCP endpoint does not answer like MCP (see above)")
		r.skip(toolsID, toolsTitle, "no session")
		return
	case !r.endpoint.open && r.credential == "" && r.signInBroken && !r.noOAuth:
		r.skip(initID, initTitle, "no credential: a sign-in cannot work until the OAuth failure above is fixed")
		r.skip(toolsID, toolsTitle, "no session")
		return
	case !r.endpoint.open && r.credential == "" && r.noOAuth:
		r.skip(initID, initTitle, "no credential: "+config.EnvAPIKey+" is not set (see above)")
		r.skip(toolsID, toolsTitle, "no session")
		return
	case !r.endpoint.open && r.credential == "":
		r.skip(initID, initTitle, "no credential: set "+config.EnvAPIKey+", or run "+r.loginCmd("login")+" (or --refresh an expired sign-in)")
		r.skip(toolsID, toolsTitle, "no session")
		return
	}
	bearer, with := r.credential, r.credKind
	if r.endpoint.open {
		bearer, with = "", "no credential"
	}
	s := r.openSession(bearer)
	defer s.close(ctx)
	ok := false
	r.timed(func() Result {
		res := Result{ID: initID, Title: initTitle}
		sctx, cancel := r.step(ctx)
		defer cancel()
		m, took, err := s.call(sctx, 1, "initialize", r.initializeParams())
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		if res = r.judgeAuthenticated(res, m, with); res.Status != "" {
			return res
		}
		if m.Error != nil {
			res.Status, res.Detail = Fail, "the server refused initialize: "+serverLine(m)
			res.Fix = "the server's operator must fix its initialize handling; the message above says why"
			return res
		}
		ok = true
		res.Status = OK
		res.Detail = fmt.Sprintf("with %s in %d ms: %s", with, took.Milliseconds(), serverLine(m))
		return res
	})
	if !ok {
		r.skip(toolsID, toolsTitle, "initialize did not succeed")
		return
	}
	r.timed(func() Result {
		res := Result{ID: toolsID, Title: toolsTitle}
		sctx, cancel := r.step(ctx)
		defer cancel()
		m, took, err := s.call(sctx, 2, "tools/list", map[string]any{}, "notifications/initialized")
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		if res = r.judgeAuthenticated(res, m, with); res.Status != "" {
			return res
		}
		if m.Error != nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("tools/list failed: JSON-RPC error %d: %s", m.Error.Code, m.Error.Message)
			res.Fix = "the server's operator must fix tools/list"
			return res
		}
		var list struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
			NextCursor string `json:"nextCursor"`
		}
		_ = json.Unmarshal(m.Result, &list)
		names := make([]string, 0, len(list.Tools))
		for _, t := range list.Tools[:min(len(list.Tools), 8)] {
			names = append(names, t.Name)
		}
		more := ""
		if list.NextCursor != "" {
			more = " on the first page (more follow)"
		}
		res.Status = OK
		res.Detail = fmt.Sprintf("%d tools%s in %d ms: %s", len(list.Tools), more, took.Milliseconds(), strings.Join(names, ", "))
		return res
	})
}

// judgeAuthenticated returns a failed result for an answer the server did not give (remote's Client says what
// it got instead), or res unchanged (with no status) for the server's own answer.
func (r *runner) judgeAuthenticated(res Result, m *rpcMessage, with string) Result {
	status, until, what, failed := upstreamFailure(m)
	switch {
	case !failed:
		return res
	case status == http.StatusUnauthorized && with == config.EnvAPIKey:
		res.Status, res.Detail = Fail, "the server refused "+config.EnvAPIKey+" (401): the key is wrong, expired or revoked"
		if r.meta != nil && !r.meta.Defaulted && !r.noOAuth {
			res.Detail += " (the server also offers an OAuth sign-in, which the bridge uses when " + config.EnvAPIKey + " is not set)"
		}
		res.Fix = "check " + config.EnvAPIKey + ": copy the key again from where the server issued it"
	case status == http.StatusUnauthorized:
		res.Status, res.Detail = Fail, "the server refused the stored access token (401): it was revoked, or issued for another resource"
		res.Fix = "run " + r.loginCmd("login")
	case status == http.StatusTooManyRequests:
		res.Status, res.Detail = Fail, "the server is rate limiting (429)"+waitUntil(until)
		res.Fix = rateLimitFix(until)
	case status == http.StatusForbidden:
		res.Status, res.Detail = Fail, "the server refused access (403) with "+with
		res.Fix = "the account lacks permission for this server: ask its operator, or sign in with another account (" + r.loginCmd("logout") + ", then login)"
	case status != 0:
		res.Status, res.Detail = Fail, fmt.Sprintf("the server answered HTTP %d, not a JSON-RPC response: %s", status, what)
		res.Fix = "run doctor again; if it persists, tell the server's operator"
	default:
		res.Status, res.Detail = Fail, "no answer from the server: "+what
		res.Fix = "check the URL, your network, and HTTPS_PROXY if you are behind a proxy"
	}
	return res
}
