package remote

import (
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

func mustParse(t *testing.T, s string) jsonrpc.Message {
	t.Helper()
	m, err := jsonrpc.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
