package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// checkRoundTrip runs an authenticated initialize and tools/list, as an MCP client would, and times them.
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
	case !r.endpoint.open && r.credential == "":
		r.skip(initID, initTitle, "no credential: set "+config.EnvAPIKey+", or run "+r.loginCmd("login")+" (or --refresh an expired sign-in)")
		r.skip(toolsID, toolsTitle, "no session")
		return
	}
	bearer, with := r.credential, r.credKind
	if r.endpoint.open {
		bearer, with = "", "no credential"
	}
	var session, version string
	ok := false
	r.timed(func() Result {
		res := Result{ID: initID, Title: initTitle}
		sctx, cancel := r.step(ctx)
		defer cancel()
		ex, err := r.rpc(sctx, r.u, bearer, "", "", "initialize", r.initializeParams(), 1)
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		if res = r.judgeAuthenticated(res, ex, with); res.Status != "" {
			return res
		}
		if ex.msg.Error != nil {
			res.Status, res.Detail = Fail, "the server refused initialize: "+serverLine(ex.msg)
			res.Fix = "the server's operator must fix its initialize handling; the message above says why"
			return res
		}
		var init struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(ex.msg.Result, &init)
		session, version, ok = ex.header.Get("Mcp-Session-Id"), init.ProtocolVersion, true
		res.Status = OK
		res.Detail = fmt.Sprintf("with %s in %d ms: %s", with, ex.took.Milliseconds(), serverLine(ex.msg))
		if session != "" {
			res.Detail += ", session opened"
		}
		return res
	})
	if !ok {
		r.skip(toolsID, toolsTitle, "initialize did not succeed")
		return
	}
	defer r.endSession(ctx, r.u, bearer, session)
	r.timed(func() Result {
		res := Result{ID: toolsID, Title: toolsTitle}
		sctx, cancel := r.step(ctx)
		defer cancel()
		if _, err := r.rpc(sctx, r.u, bearer, session, version, "notifications/initialized", nil, 0); err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		ex, err := r.rpc(sctx, r.u, bearer, session, version, "tools/list", map[string]any{}, 2)
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = transportProblem(r.u, err)
			return res
		}
		if res = r.judgeAuthenticated(res, ex, with); res.Status != "" {
			return res
		}
		if ex.msg.Error != nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("tools/list failed: JSON-RPC error %d: %s", ex.msg.Error.Code, ex.msg.Error.Message)
			res.Fix = "the server's operator must fix tools/list"
			return res
		}
		var list struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
			NextCursor string `json:"nextCursor"`
		}
		_ = json.Unmarshal(ex.msg.Result, &list)
		names := make([]string, 0, len(list.Tools))
		for _, t := range list.Tools[:min(len(list.Tools), 8)] {
			names = append(names, t.Name)
		}
		more := ""
		if list.NextCursor != "" {
			more = " on the first page (more follow)"
		}
		res.Status = OK
		res.Detail = fmt.Sprintf("%d tools%s in %d ms: %s", len(list.Tools), more, ex.took.Milliseconds(), strings.Join(names, ", "))
		return res
	})
}

// judgeAuthenticated returns a failed result for an answer that is not a JSON-RPC response, or res unchanged
// (with no status) when it is one.
func (r *runner) judgeAuthenticated(res Result, ex *exchange, with string) Result {
	switch {
	case ex.msg != nil:
		return res
	case ex.status == http.StatusUnauthorized && with == config.EnvAPIKey:
		res.Status, res.Detail = Fail, "the server refused "+config.EnvAPIKey+" (401)"
		res.Fix = "check " + config.EnvAPIKey + ": copy the key again, or unset it to sign in with OAuth instead"
	case ex.status == http.StatusUnauthorized:
		res.Status, res.Detail = Fail, "the server refused the stored access token (401): it was revoked, or issued for another resource"
		res.Fix = "run " + r.loginCmd("login")
	case ex.status == http.StatusTooManyRequests:
		wait, until := askedWait(ex.header)
		res.Status, res.Detail = Fail, "the server is rate limiting (429)"+wait
		res.Fix = rateLimitFix(until)
	case ex.status == http.StatusForbidden:
		res.Status, res.Detail = Fail, "the server refused access (403) with "+with+": "+textutil.Snippet(ex.body)
		res.Fix = "the account lacks permission for this server: ask its operator, or sign in with another account (" + r.loginCmd("logout") + ", then login)"
	default:
		res.Status, res.Detail = Fail, fmt.Sprintf("the server answered HTTP %d, not a JSON-RPC response: %s", ex.status, textutil.Snippet(ex.body))
		res.Fix = "run doctor again; if it persists, tell the server's operator"
	}
	return res
}
