package clientconfig

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	linksBegin = "<!-- install links: begin (generated: scripts/install-links) -->\n"
	linksEnd   = "<!-- install links: end -->"
)

// README's install links are the ones ReadmeLinks makes (UPDATE_README=1 rewrites them: scripts/install-links),
// and each of them, decoded as Cursor or VS Code decodes it, is the documented entry: the recommended one, and the
// command and arguments of README's hand-written example.
func TestReadmeInstallLinks(t *testing.T) {
	const readme = "../../README.md"
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, linksBegin), strings.Index(doc, linksEnd)
	if i < 0 || j < i {
		t.Fatalf("README has no %q … %q block", linksBegin, linksEnd)
	}
	block := doc[i+len(linksBegin) : j]
	if want := ReadmeLinks(); block != want {
		if os.Getenv("UPDATE_README") != "" {
			if err := os.WriteFile(readme, []byte(doc[:i+len(linksBegin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			block = want
		} else {
			t.Errorf("README's install links are out of date: run scripts/install-links\nhave:\n%s\nwant:\n%s", block, want)
		}
	}

	want := NewEntry(EntryOptions{})
	var kinds []string
	for _, m := range regexp.MustCompile(`\]\(([a-z-]+:[^)\s]+)\)`).FindAllStringSubmatch(block, -1) {
		link := m[1]
		if strings.HasPrefix(link, "https://img.shields.io/") || strings.HasSuffix(link, ".svg") {
			continue
		}
		kind, e := decodeLink(t, link)
		kinds = append(kinds, kind)
		if !e.Equal(want) {
			t.Errorf("%s decodes to %+v, want %+v", link, e, want)
		}
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []string{"cursor", "cursor", "vscode", "vscode"}) {
		t.Errorf("links found: %v", kinds)
	}

	byHand := doc[strings.Index(doc, "### By hand"):]
	byHand = byHand[strings.Index(byHand, "```json\n")+len("```json\n"):]
	var example struct {
		MCPServers map[string]Entry `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(byHand[:strings.Index(byHand, "```")]), &example); err != nil {
		t.Fatalf("README's first hand-written example: %v", err)
	}
	if got := example.MCPServers[Name]; got.Command != want.Command || !slices.Equal(got.Args, want.Args) {
		t.Errorf("README's hand-written entry is %+v, want %+v", got, want)
	}

	// The hand-written VS Code example is what install writes with --api-key-env.
	vs := byHand[strings.Index(byHand, "**VS Code**"):]
	vs = vs[strings.Index(vs, "```json\n")+len("```json\n"):]
	var vsExample struct {
		Servers map[string]any `json:"servers"`
		Inputs  []any          `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(vs[:strings.Index(vs, "```")]), &vsExample); err != nil {
		t.Fatalf("README's VS Code example: %v", err)
	}
	if !jsonEqual(vsExample.Servers[Name], vscodeServer(NewEntry(EntryOptions{APIKey: "k"}))) || len(vsExample.Inputs) != 1 || !jsonEqual(vsExample.Inputs[0], apiKeyInput) {
		t.Errorf("README's VS Code example differs from what install writes: %+v", vsExample)
	}
}

// decodeLink reads an install link as the client does: which client, and the entry in it.
func decodeLink(t *testing.T, link string) (string, Entry) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	if u.Host == "insiders.vscode.dev" {
		return decodeLink(t, u.Query().Get("url"))
	}
	var e Entry
	switch {
	case u.Scheme == "cursor" || u.Host == "cursor.com":
		q := u.Query()
		raw, err := base64.StdEncoding.DecodeString(q.Get("config"))
		if err != nil || q.Get("name") != Name {
			t.Fatalf("%s: name %q, config %v", link, q.Get("name"), err)
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		return "cursor", e
	case u.Scheme == "vscode" && strings.HasPrefix(u.Opaque, "mcp/install"):
		raw, err := url.QueryUnescape(u.RawQuery)
		var named struct {
			Name string `json:"name"`
			Entry
		}
		if err == nil {
			err = json.Unmarshal([]byte(raw), &named)
		}
		if err != nil || named.Name != Name {
			t.Fatalf("%s: name %q, %v", link, named.Name, err)
		}
		return "vscode", named.Entry
	}
	t.Fatalf("not an install link: %s", link)
	return "", e
}

// The entry: npx by default (cmd /c on Windows), a binary's path with --command self, a URL only when it is not
// MeshAI's, MESHAI_API_KEY only when a key is given.
func TestNewEntry(t *testing.T) {
	// npx gets npm's settings for a registry that cannot be reached (README: Start-up time); a binary runs no npm.
	npm := map[string]string{"npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}
	tests := []struct {
		name string
		o    EntryOptions
		want Entry
	}{
		{"default", EntryOptions{OS: "linux"}, Entry{Command: "npx", Args: []string{"-y", Package}, Env: npm}},
		{"windows", EntryOptions{OS: "windows"}, Entry{Command: "cmd", Args: []string{"/c", "npx", "-y", Package}, Env: npm}},
		{"default URL not written", EntryOptions{URL: "https://auth.meshai.dev/v1/mcp"}, Entry{Command: "npx", Args: []string{"-y", Package}, Env: npm}},
		{"other URL", EntryOptions{URL: "https://mcp.example.com/mcp"}, Entry{Command: "npx", Args: []string{"-y", Package, "https://mcp.example.com/mcp"}, Env: npm}},
		{"binary: no npm settings", EntryOptions{OS: "windows", Binary: `C:\bin\meshai-mcp-server.exe`, URL: "https://mcp.example.com/mcp"},
			Entry{Command: `C:\bin\meshai-mcp-server.exe`, Args: []string{"https://mcp.example.com/mcp"}}},
		{"key", EntryOptions{APIKey: "k"}, Entry{Command: "npx", Args: []string{"-y", Package},
			Env: map[string]string{"MESHAI_API_KEY": "k", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "5000"}}},
		{"binary with a key", EntryOptions{Binary: "/usr/local/bin/meshai-mcp-server", APIKey: "k"},
			Entry{Command: "/usr/local/bin/meshai-mcp-server", Env: map[string]string{"MESHAI_API_KEY": "k"}}},
	}
	for _, tt := range tests {
		if got := NewEntry(tt.o); !got.Equal(tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
