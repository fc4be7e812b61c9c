#!/bin/sh
# The bundle's command on macOS and Linux: run the meshai-mcp-server binary for this machine's CPU. An MCPB
# manifest can choose a command per OS (platform_overrides) but not per CPU, hence this script. exec replaces it
# with the binary, so the client's stdio, signals and exit status reach the bridge untouched; it prints nothing
# on stdout.
dir=$(dirname "$0")
case $(uname -s) in
Darwin) os=darwin ;;
Linux) os=linux ;;
*) os=$(uname -s) ;;
esac
case $(uname -m) in
x86_64 | amd64) cpu=x64 ;;
arm64 | aarch64) cpu=arm64 ;;
*) cpu=$(uname -m) ;;
esac
bin=$dir/$os-$cpu/meshai-mcp-server
if [ ! -x "$bin" ]; then
	echo "meshai-mcp-server: this bundle holds no binary for $os-$cpu ($bin is missing)." >&2
	echo "Install it with npm instead (npx -y meshai-mcp-server), or build it: go install github.com/meshailabs-org/meshai-mcp-server/cmd/meshai-mcp-server@latest" >&2
	exit 1
fi
exec "$bin" "$@"
