package clientconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An entry that is there already is updated field by field: what install manages (command, args, type, the API
// key, fields of a remote server) is made what it writes, and what the user added stays — disabled,
// autoApprove, other env variables, comments.
func TestUpdateKeepsWhatTheUserAdded(t *testing.T) {
	tests := []struct {
		name   string
		client fileClient
		have   string
		entry  Entry
		want   string
	}{
		{"url to npx, key dropped", windsurf, `{
  "mcpServers": {
    "meshai": {
      "serverUrl": "https://auth.meshai.dev/v1/mcp",
      "disabled": false,
      "env": {"MESHAI_API_KEY": "old", "HTTPS_PROXY": "http://proxy:3128"}, // for the office
      "autoApprove": ["list_agents"]
    }
  }
}
`, NewEntry(EntryOptions{}), `{
  "mcpServers": {
    "meshai": {
      "disabled": false,
      "env": {"HTTPS_PROXY": "http://proxy:3128", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}, // for the office
      "autoApprove": ["list_agents"],
      "command": "npx",
      "args": [
        "-y",
        "meshai-mcp-server"
      ]
    }
  }
}
`},
		{"npx to self, env only had the key", cursor, `{"mcpServers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"MESHAI_API_KEY": "old"}, "timeout": 60}}}`,
			NewEntry(EntryOptions{Binary: "/usr/local/bin/meshai-mcp-server"}),
			`{"mcpServers": {"meshai": {"type": "stdio", "command": "/usr/local/bin/meshai-mcp-server", "timeout": 60}}}`},
		{"key added next to the user's variables", claudeDesktop, `{"mcpServers": {"meshai": {"command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"NODE_EXTRA_CA_CERTS": "/etc/ca.pem"}}}}`,
			NewEntry(EntryOptions{APIKey: "sk-new"}),
			`{"mcpServers": {"meshai": {"command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"NODE_EXTRA_CA_CERTS": "/etc/ca.pem", "MESHAI_API_KEY": "sk-new", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}}}`},
		{"not an object: replaced", cursor, `{"mcpServers": {"meshai": "npx meshai-mcp-server"}}`, NewEntry(EntryOptions{}),
			`{"mcpServers": {"meshai": {"command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}}}`},
		{"npx to self: npm's settings go, the user's stay", cursor, `{"mcpServers": {"meshai": {"command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"HTTPS_PROXY": "p", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}}}`,
			NewEntry(EntryOptions{Binary: "/usr/local/bin/meshai-mcp-server"}),
			`{"mcpServers": {"meshai": {"command": "/usr/local/bin/meshai-mcp-server", "env": {"HTTPS_PROXY": "p"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
			path, _ := tt.client.file(env)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, []byte(tt.have), 0o644)
			res, err := tt.client.Install(ctx, env, tt.entry, false)
			if err != nil || res.Action != Updated {
				t.Fatalf("%+v, %v", res, err)
			}
			assertFile(t, path, tt.want)
			if res, err := tt.client.Install(ctx, env, tt.entry, false); err != nil || res.Action != Unchanged {
				t.Errorf("again: %+v, %v", res, err)
			}
		})
	}
}

// VS Code's entry gets the input reference in env; the user's other variables stay.
func TestVSCodeUpdateKeepsEnv(t *testing.T) {
	ctx := context.Background()
	env := Env{OS: "linux", Home: t.TempDir(), LookPath: noClaude}
	path, _ := vscodeClient.file(env)
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(`{"servers": {"meshai": {"type": "stdio", "command": "npx", "args": ["-y", "meshai-mcp-server"], "env": {"HTTPS_PROXY": "p"}}}}`), 0o644)
	if res, err := vscodeClient.Install(ctx, env, NewEntry(EntryOptions{APIKey: PromptedKey}), false); err != nil || res.Action != Updated {
		t.Fatalf("%+v, %v", res, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"env": {"HTTPS_PROXY": "p", "MESHAI_API_KEY": "${input:meshai-api-key}", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}`) || !strings.Contains(string(b), `"inputs": [{"type": "promptString", "id": "meshai-api-key", "description": "MeshAI API key", "password": true}]`) {
		t.Errorf("%s", b)
	}
}
