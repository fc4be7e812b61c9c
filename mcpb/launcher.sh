#!/bin/sh
# The bundle's command on macOS and Linux: run the meshai-mcp-server binary for this machine's CPU. An MCPB
# manifest can choose a command per OS (platform_overrides) but not per CPU, hence this script. exec replaces it
# with the binary, so the client's stdio, signals and exit status reach the bridge untouched; it prints nothing
# on stdout. One uname call: it is on every start.
machine=$(uname -sm)
case $machine in
Darwin\ x86_64) target=darwin-x64 ;;
Darwin\ arm64) target=darwin-arm64 ;;
Linux\ x86_64 | Linux\ amd64) target=linux-x64 ;;
Linux\ aarch64 | Linux\ arm64) target=linux-arm64 ;;
*) target=$machine ;;
esac
dir=.
case $0 in */*) dir=${0%/*} ;; esac
bin=$dir/$target/meshai-mcp-server
if [ ! -x "$bin" ]; then
	echo "meshai-mcp-server: this bundle holds no binary for $target ($bin is missing)." >&2
	echo "Install it with npm instead (npx -y meshai-mcp-server), or build it: go install github.com/meshailabs-org/meshai-mcp-server/cmd/meshai-mcp-server@latest" >&2
	exit 1
fi
exec "$bin" "$@"
