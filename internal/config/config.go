// Package config is the one home of what the command line and doctor must agree on: MeshAI's endpoint, the
// environment variables the bridge reads, and the directory where it keeps tokens, locks and its log. It
// imports nothing of the project.
package config

// DefaultURL is MeshAI's MCP endpoint, used when neither an argument nor MESHAI_MCP_URL names one.
const DefaultURL = "https://auth.meshai.dev/v1/mcp"

// The environment variables the bridge reads.
const (
	EnvURL        = "MESHAI_MCP_URL"     // the MCP endpoint, when no argument names one
	EnvConfigDir  = "MESHAI_CONFIG_DIR"  // the directory of tokens, locks and the log
	EnvAPIKey     = "MESHAI_API_KEY"     // sent as the bearer token; no sign-in then
	EnvTokenStore = "MESHAI_TOKEN_STORE" // auto, keychain or file
	EnvMaxMemory  = "MESHAI_MAX_MEMORY"  // bytes of messages held at once (--max-memory)
)

// Env lists every variable above, for checks that a message names only real ones.
var Env = []string{EnvURL, EnvConfigDir, EnvAPIKey, EnvTokenStore, EnvMaxMemory}

// AppDir is the name of the bridge's directory inside the OS's per-user directory.
const AppDir = "meshai-mcp-server"
