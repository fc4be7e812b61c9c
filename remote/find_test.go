package remote

import (
	"context"
	"net/url"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// FindEndpoint finds the endpoint on a bare origin (an OAuth server: its 401 challenge counts) and, where nothing
// answers like MCP, finds nothing.
func TestFindEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  devserver.Config
		want string
	}{
		{"OAuth server at /v1/mcp", devserver.Config{OAuth: true}, "/v1/mcp"},
		{"moved to /mcp", devserver.Config{APIKey: "k", Faults: []devserver.Fault{devserver.FaultMCP404}}, "/mcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := devserver.Listen("127.0.0.1:0", tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			u, _ := url.Parse(srv.URL)
			got := FindEndpoint(context.Background(), Options{URL: u})
			if got == nil || got.Path != tc.want || got.Host != u.Host {
				t.Fatalf("FindEndpoint(%s) = %v, want %s%s", u, got, u.Host, tc.want)
			}
		})
	}
	nothing, _ := url.Parse("http://127.0.0.1:9") // nothing listens
	if got := FindEndpoint(context.Background(), Options{URL: nothing}); got != nil {
		t.Fatalf("FindEndpoint with nothing there = %v", got)
	}
}
