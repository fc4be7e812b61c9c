// Command meshai-mcp-server connects a desktop MCP client (stdio) to a remote MCP server over HTTP.
package main

import (
	"os"

	"github.com/meshailabs-org/meshai-mcp-server/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.Env{Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
