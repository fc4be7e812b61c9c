package config

import (
	"net/url"
	"testing"
)

func TestIsMeshAI(t *testing.T) {
	def, err := url.Parse(DefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{def.Hostname(), true},
		{"auth.meshai.dev", true},
		{"AUTH.MeshAI.dev.", true},
		{"meshai.dev", true},
		{"eu.api.meshai.dev", true},
		{"meshai.dev.evil.example", false},
		{"notmeshai.dev", false},
		{"127.0.0.1", false},
		{"mcp.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsMeshAI(tt.host); got != tt.want {
			t.Errorf("IsMeshAI(%q) = %v, want %v", tt.host, got, tt.want)
		}
		if got := PreferredScopes(tt.host) != nil; got != tt.want {
			t.Errorf("PreferredScopes(%q) set = %v, want %v", tt.host, got, tt.want)
		}
	}
}
