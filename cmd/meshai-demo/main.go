// Command meshai-demo runs meshai-mcp-server against the built-in MeshAI reference server, offline, and prints
// the exchange. The same binary is the bridge it launches (demo.BridgeArg), so nothing else needs building.
package main

import (
	"os"

	"github.com/meshailabs-org/meshai-mcp-server/internal/cli"
	"github.com/meshailabs-org/meshai-mcp-server/internal/demo"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == demo.BridgeArg {
		os.Exit(cli.Main(cli.Env{Args: os.Args[2:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	os.Exit(demo.Main(os.Stdout, os.Stderr))
}
