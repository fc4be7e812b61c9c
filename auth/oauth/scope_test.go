package oauth

import (
	"reflect"
	"testing"
)

func TestScopeRuleChoose(t *testing.T) {
	prm := &ProtectedResource{ScopesSupported: []string{"openid", "profile", "email", "mcp:read", "mcp:execute", "mcp:manage"}}
	meshai := []string{"mcp:read", "mcp:execute"}
	tests := []struct {
		name      string
		rule      ScopeRule
		challenge string
		prm       *ProtectedResource
		want      []string
		from      ScopeSource
	}{
		// The spec's rule, for any server.
		{"challenge wins, even outside scopes_supported", ScopeRule{}, "mcp:admin  mcp:basic", prm, []string{"mcp:admin", "mcp:basic"}, ScopeFromChallenge},
		{"else all of scopes_supported", ScopeRule{}, "", prm, prm.ScopesSupported, ScopeFromMetadata},
		{"blank challenge scope counts as none", ScopeRule{}, "   ", prm, prm.ScopesSupported, ScopeFromMetadata},
		{"duplicates in scopes_supported dropped", ScopeRule{}, "", &ProtectedResource{ScopesSupported: []string{"a", "b", "a"}}, []string{"a", "b"}, ScopeFromMetadata},
		{"else none", ScopeRule{}, "", &ProtectedResource{}, nil, ScopeFromNothing},
		{"no PRM", ScopeRule{}, "", nil, nil, ScopeFromNothing},
		// MeshAI's own endpoint: its documented scopes instead of everything listed, unless the challenge names some.
		{"preferred over scopes_supported", ScopeRule{Preferred: meshai}, "", prm, meshai, ScopeFromPreferred},
		{"challenge over preferred", ScopeRule{Preferred: meshai}, "mcp:read mcp:execute mcp:manage", prm, []string{"mcp:read", "mcp:execute", "mcp:manage"}, ScopeFromChallenge},
		{"preferred without PRM", ScopeRule{Preferred: meshai}, "", nil, meshai, ScopeFromPreferred},
		// --scope replaces the choice everywhere.
		{"fixed over challenge", ScopeRule{Fixed: []string{"mcp:read"}, Preferred: meshai}, "mcp:read mcp:execute", prm, []string{"mcp:read"}, ScopeFromFlag},
		{"fixed over metadata", ScopeRule{Fixed: []string{"openid", "mcp:manage"}}, "", prm, []string{"openid", "mcp:manage"}, ScopeFromFlag},
		{"fixed without PRM", ScopeRule{Fixed: []string{"x"}}, "", nil, []string{"x"}, ScopeFromFlag},
		{"empty fixed is no choice", ScopeRule{Fixed: []string{}}, "", prm, prm.ScopesSupported, ScopeFromMetadata},
	}
	for _, tt := range tests {
		got, from := tt.rule.Choose(tt.challenge, tt.prm)
		if !reflect.DeepEqual(got, tt.want) || from != tt.from {
			t.Errorf("%s: got %q from %q, want %q from %q", tt.name, got, from, tt.want, tt.from)
		}
	}
}
