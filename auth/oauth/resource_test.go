package oauth

import (
	"net/url"
	"reflect"
	"testing"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCanonicalResource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"HTTPS://MCP.Example.COM/MCP", "https://mcp.example.com/MCP"},
		{"https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"},
		{"http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"},
		{"https://mcp.example.com:8443", "https://mcp.example.com:8443"},
		{"http://mcp.example.com:443/x", "http://mcp.example.com:443/x"},
		{"https://mcp.example.com/", "https://mcp.example.com"},
		{"https://mcp.example.com", "https://mcp.example.com"},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/mcp/"},
		{"https://mcp.example.com/mcp#frag", "https://mcp.example.com/mcp"},
		{"https://user:pw@mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp?tenant=a"},
		{"https://mcp.example.com/a%20b", "https://mcp.example.com/a%20b"},
		{"http://[::1]:8080/mcp", "http://[::1]:8080/mcp"},
		{"https://[::1]:443/mcp", "https://[::1]/mcp"},
		{"/relative", ""},
		{"mcp.example.com", ""},
	}
	for _, tt := range tests {
		if got := CanonicalResource(mustURL(t, tt.in)); got != tt.want {
			t.Errorf("CanonicalResource(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if CanonicalResource(nil) != "" {
		t.Error("nil URL has a canonical form")
	}
}

func TestResourceCovers(t *testing.T) {
	server := "https://mcp.example.com/v1/mcp"
	tests := []struct {
		prm  string
		want bool
	}{
		{"https://mcp.example.com/v1/mcp", true},
		{"HTTPS://MCP.EXAMPLE.COM:443/v1/mcp", true},
		{"https://mcp.example.com", true},
		{"https://mcp.example.com/", true},
		{"https://mcp.example.com/v1", true},
		{"https://mcp.example.com/v1/", true},
		{"https://mcp.example.com/v", false},
		{"https://mcp.example.com/v1/mcp/more", false},
		{"https://mcp.example.com/other", false},
		{"https://evil.example.com/v1/mcp", false},
		{"http://mcp.example.com/v1/mcp", false},
		{"https://mcp.example.com:8443/v1/mcp", false},
		{"https://mcp.example.com/v1/mcp#x", false},
		{"https://mcp.example.com/?x=1", false},
		{"mcp.example.com/v1/mcp", false},
		{"", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		if got := resourceCovers(tt.prm, mustURL(t, server)); got != tt.want {
			t.Errorf("resourceCovers(%q, %q) = %v, want %v", tt.prm, server, got, tt.want)
		}
	}
}

func TestUnionScopes(t *testing.T) {
	tests := []struct{ a, b, want []string }{
		{[]string{"mcp:basic"}, []string{"mcp:basic", "mcp:write"}, []string{"mcp:basic", "mcp:write"}},
		{nil, []string{"x", "x", ""}, []string{"x"}},
		{[]string{"a", "b"}, nil, []string{"a", "b"}},
		{nil, nil, nil},
	}
	for _, tt := range tests {
		if got := UnionScopes(tt.a, tt.b); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("UnionScopes(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
