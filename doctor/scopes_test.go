package doctor

import (
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// doctor reports the scopes a sign-in asks for by the bridge's own rule (oauth.ScopeRule).
func TestScopesCheck(t *testing.T) {
	listed := []string{"openid", "profile", "email", "mcp:read", "mcp:execute", "mcp:manage"}
	tests := []struct {
		name   string
		cfg    devserver.Config
		scopes []string
		detail string
	}{
		{"the challenge's", devserver.Config{}, nil, "mcp:read mcp:execute (from the server's 401 challenge)"},
		{"scopes_supported when the challenge names none", devserver.Config{ScopesSupported: listed, NoChallengeScope: true}, nil,
			"openid profile email mcp:read mcp:execute mcp:manage (from scopes_supported of the protected resource metadata)"},
		{"--scope", devserver.Config{ScopesSupported: listed, NoChallengeScope: true}, []string{"mcp:read"}, "mcp:read (from --scope)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.OAuth = true
			r := startDev(t, tt.cfg)
			rep := run(t, Options{URL: r.URL + "/v1/mcp", Scopes: tt.scopes})
			want(t, rep, "oauth.scopes", OK, tt.detail, "")
		})
	}
}
