package devserver

import "slices"

// resourceScopes is the PRM's scopes_supported: Config.ScopesSupported when set, else mcp:read mcp:execute
// mcp:manage.
func (o *oauthServer) resourceScopes() []string {
	if len(o.s.cfg.ScopesSupported) > 0 {
		return o.s.cfg.ScopesSupported
	}
	return resourceScopes
}

// serverScopes is what the authorization server grants and lists: its own scopes and Config.ScopesSupported.
func (o *oauthServer) serverScopes() []string {
	out := slices.Clone(serverScopes)
	for _, sc := range o.s.cfg.ScopesSupported {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// challengeScope is the scope parameter of the 401 challenge, after sep (`, scope="mcp:read mcp:execute"`), or
// "" under Config.NoChallengeScope.
func (o *oauthServer) challengeScope(sep string) string {
	if o.s.cfg.NoChallengeScope {
		return ""
	}
	return sep + `scope="` + defaultScope + `"`
}

// noteAuthorization records the scope parameter of an authorization request ("" when it has none).
func (o *oauthServer) noteAuthorization(scope string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked = append(o.asked, scope)
}

// AskedScopes returns the scope parameter of every authorization request the server has seen, in order ("" for
// a request without one): what clients asked for, before the server's default stood in.
func (r *Running) AskedScopes() []string {
	o := r.srv.oauth
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.asked)
}
