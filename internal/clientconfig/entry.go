// Package clientconfig adds the meshai entry to desktop MCP clients' configuration (Claude Desktop, Cursor,
// VS Code, Windsurf, Claude Code) and takes it out again, keeping everything else in their files, and makes the
// one-click install links of Cursor and VS Code from the same entry.
package clientconfig

import (
	"maps"
	"slices"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// Name is the server's name in every client's configuration, as README's hand-written examples have it.
const Name = "meshai"

// Package is the npm package that npx starts.
const Package = "meshai-mcp-server"

// Entry is how a client starts the bridge: the command, its arguments and its environment.
type Entry struct {
	Command string            `json:"command"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// EntryOptions choose the entry that NewEntry makes.
type EntryOptions struct {
	// OS is the runtime.GOOS of the machine the client runs on ("" for links, which any machine opens).
	OS string
	// Binary is the absolute path of a meshai-mcp-server binary to start instead of npx ("" for npx).
	Binary string
	// URL is the server's URL; written only when it is not MeshAI's endpoint, the bridge's default.
	URL string
	// APIKey is the value given to MESHAI_API_KEY ("" for none: the bridge signs in with OAuth). VS Code's file
	// never holds it: its client writes an input prompt in its place.
	APIKey string
}

// npmEnv keeps npx from holding a start up for over a minute when the registry cannot be reached: npm tries once
// (no retries 10-60 s apart) and gives up on a registry that sends nothing for 5 s (an idle timeout), then starts
// the copy in its cache; the entry still picks up a new release at the next start while the registry answers.
// README's start-up table has the measurements.
var npmEnv = map[string]string{"npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}

// managedEnv are the environment variables install writes and therefore owns: each is set, or taken out when
// the entry no longer has it (no API key; a binary, which needs no npm settings). Others in a file stay.
var managedEnv = []string{config.EnvAPIKey, "npm_config_fetch_retries", "npm_config_fetch_timeout"}

// NewEntry is the recommended entry, the one place that says what command, arguments and environment a client
// is given: install writes it and README's links and examples are checked against it.
func NewEntry(o EntryOptions) Entry {
	var e Entry
	switch {
	case o.Binary != "":
		e.Command = o.Binary
	case o.OS == "windows":
		// npx is npx.cmd on Windows, which a client that starts programs without a shell cannot run.
		e.Command, e.Args = "cmd", []string{"/c", "npx", "-y", Package}
	default:
		e.Command, e.Args = "npx", []string{"-y", Package}
	}
	if o.URL != "" && o.URL != config.DefaultURL {
		e.Args = append(e.Args, o.URL)
	}
	env := map[string]string{}
	if o.Binary == "" {
		maps.Copy(env, npmEnv)
	}
	if o.APIKey != "" {
		env[config.EnvAPIKey] = o.APIKey
	}
	if len(env) > 0 {
		e.Env = env
	}
	return e
}

// Equal reports whether two entries start the same thing (no environment and an empty one are the same).
func (e Entry) Equal(o Entry) bool {
	return e.Command == o.Command && slices.Equal(e.Args, o.Args) && maps.Equal(e.Env, o.Env)
}

// PromptedKey stands for an API key that the client asks the user for (VS Code's input prompt): given as
// EntryOptions.APIKey when the key itself is not at hand.
const PromptedKey = "${input:" + InputID + "}"
