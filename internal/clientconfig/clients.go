package clientconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Client is a desktop MCP client whose configuration install and uninstall change.
type Client interface {
	// Name is the client's name on the command line (claude-desktop, cursor, …).
	Name() string
	// Found reports whether the client is on this machine: its configuration directory (or command) exists.
	Found(env Env) bool
	// Install adds or updates the entry; with dryRun it only says what it would do.
	Install(ctx context.Context, env Env, e Entry, dryRun bool) (Result, error)
	// Uninstall removes the entry, and nothing else; with dryRun it only says what it would do.
	Uninstall(ctx context.Context, env Env, dryRun bool) (Result, error)
}

// Clients are the clients install knows, in the order it reports them.
func Clients() []Client {
	return []Client{claudeDesktop, cursor, vscodeClient, windsurf, claudeCode{file: claudeCodeFile}}
}

// Names are the clients' names.
func Names() []string {
	var names []string
	for _, c := range Clients() {
		names = append(names, c.Name())
	}
	return names
}

// Lookup is the client called name, or an error that lists the names.
func Lookup(name string) (Client, error) {
	for _, c := range Clients() {
		if c.Name() == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no client %q: the clients are %s, or all", name, strings.Join(Names(), ", "))
}

// fileClient is a client configured by one JSON file.
type fileClient struct {
	name string
	// file is the configuration file on env's OS; dir is the directory whose existence says that the client is
	// installed.
	file, dir func(env Env) (string, error)
	format    format
}

func (c fileClient) Name() string { return c.name }

func (c fileClient) Found(env Env) bool { return exists(c.dir(env)) }

func (c fileClient) Install(_ context.Context, env Env, e Entry, dryRun bool) (Result, error) {
	path, err := c.file(env)
	if err != nil {
		return Result{Client: c.name}, err
	}
	res, err := changeFile(path, dryRun, c.format.secret(e), func(src []byte) ([]byte, Action, error) { return c.format.install(path, src, e) })
	res.Client = c.name
	return res, err
}

func (c fileClient) Uninstall(_ context.Context, env Env, dryRun bool) (Result, error) {
	path, err := c.file(env)
	if err != nil {
		return Result{Client: c.name}, err
	}
	res, err := changeFile(path, dryRun, false, func(src []byte) ([]byte, Action, error) { return c.format.uninstall(path, src) })
	res.Client = c.name
	return res, err
}

// exists reports whether the path that p returned exists.
func exists(p string, err error) bool {
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// The clients configured by a file, with where each path comes from.
var (
	// Claude Desktop: claude_desktop_config.json in the app's directory (Settings → Developer → Edit Config).
	// modelcontextprotocol.io/quickstart/user: ~/Library/Application Support/Claude on macOS, %APPDATA%\Claude on
	// Windows — the MSIX package's copy of it when the app is one (claudeDesktopDir); Linux builds (not
	// Anthropic's) use Electron's ~/.config/Claude.
	claudeDesktop = fileClient{
		name: "claude-desktop",
		dir:  func(env Env) (string, error) { return env.claudeDesktopDir() },
		file: func(env Env) (string, error) {
			dir, err := env.claudeDesktopDir()
			return env.join(dir, "claude_desktop_config.json"), err
		},
		format: mcpServers{server: plainServer},
	}
	// Cursor: the global ~/.cursor/mcp.json, key mcpServers (cursor.com/docs/context/mcp, "Configuration
	// locations"; %USERPROFILE%\.cursor on Windows).
	cursor = fileClient{
		name:   "cursor",
		dir:    func(env Env) (string, error) { return env.inHome(".cursor") },
		file:   func(env Env) (string, error) { return env.inHome(".cursor", "mcp.json") },
		format: mcpServers{server: plainServer},
	}
	// VS Code: the user profile's mcp.json, key servers, JSONC (code.visualstudio.com/docs/copilot/reference/
	// mcp-configuration); the profile is Code/User under Electron's app data directory
	// (code.visualstudio.com/docs/configure/settings#_settings-file-locations).
	vscodeClient = fileClient{
		name:   "vscode",
		dir:    func(env Env) (string, error) { return env.appConfigDir("Code", "User") },
		file:   func(env Env) (string, error) { return env.appConfigDir("Code", "User", "mcp.json") },
		format: vscode{},
	}
	// Windsurf: ~/.codeium/windsurf/mcp_config.json, key mcpServers (docs.windsurf.com/windsurf/cascade/mcp;
	// %USERPROFILE%\.codeium\windsurf on Windows).
	windsurf = fileClient{
		name:   "windsurf",
		dir:    func(env Env) (string, error) { return env.inHome(".codeium", "windsurf") },
		file:   func(env Env) (string, error) { return env.inHome(".codeium", "windsurf", "mcp_config.json") },
		format: mcpServers{server: plainServer},
	}
	// Claude Code without its command: the user scope is the top-level mcpServers of ~/.claude.json
	// (code.claude.com/docs/en/mcp, "MCP installation scopes"; $CLAUDE_CONFIG_DIR/.claude.json when that is set),
	// entries with "type": "stdio" as `claude mcp add` writes them.
	claudeCodeFile = fileClient{
		name: "claude-code",
		dir: func(env Env) (string, error) {
			dir, _, err := env.claudeCodeDir()
			return dir, err
		},
		file: func(env Env) (string, error) {
			_, file, err := env.claudeCodeDir()
			return file, err
		},
		format: mcpServers{server: stdioServer},
	}
)
