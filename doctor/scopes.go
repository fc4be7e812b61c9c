package doctor

import (
	"context"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// checkScopes says which scopes a sign-in asks this server for, and why, by the rule the bridge's login and
// serving use (oauth.ScopeRule): --scope, else the challenge's, else MeshAI's documented scopes on its own
// servers, else the metadata's scopes_supported. The registration probe registers with them, as the bridge does.
func (r *runner) checkScopes(context.Context) {
	const id, title = "oauth.scopes", "Scopes a sign-in asks for"
	if why := r.oauthSkip(); why != "" {
		r.skip(id, title, why)
		return
	}
	challengeScope := ""
	if r.challenge != nil {
		challengeScope = r.challenge.Scope()
	}
	rule := oauth.ScopeRule{Fixed: r.opts.Scopes, Preferred: config.PreferredScopes(r.u.Hostname())}
	scopes, from := rule.Choose(challengeScope, r.prm)
	r.scopes = scopes
	res := Result{ID: id, Title: title, Status: OK}
	if len(scopes) == 0 {
		res.Detail = string(from)
	} else {
		res.Detail = strings.Join(scopes, " ") + " (from " + string(from) + ")"
	}
	r.add(res)
}
