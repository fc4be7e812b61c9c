package clientconfig

import (
	"bytes"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/tailscale/hujson"
)

// Action is what install or uninstall did to a client's configuration.
type Action string

// The actions, as printed.
const (
	Added     Action = "added"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Removed   Action = "removed"
	Absent    Action = "absent" // uninstall found no entry
)

// format is the layout of a client's configuration file: how the entry goes in and comes out.
type format interface {
	install(file string, src []byte, e Entry) ([]byte, Action, error)
	uninstall(file string, src []byte) ([]byte, Action, error)
	// secret reports whether the file will hold e's API key itself.
	secret(e Entry) bool
}

// edit parses src, lets change edit its top-level object and returns the document packed again, and whether
// change changed anything. A byte-order mark (Notepad writes one) and CRLF line ends are kept, so that what is
// added looks like the rest of the file.
func edit(file string, src []byte, change func(root *hujson.Value, obj *hujson.Object, l layout) (bool, error)) ([]byte, bool, error) {
	bom := []byte("\ufeff")
	body, hadBOM := bytes.CutPrefix(src, bom)
	// hujson's tree aliases the bytes it parsed and its edits may append into them: parse a copy, so that src is
	// never written to.
	body = bytes.Clone(body)
	root, err := parseObject(file, body)
	if err != nil {
		return nil, false, err
	}
	obj := root.Value.(*hujson.Object)
	changed, err := change(&root, obj, rootLayout(obj))
	if err != nil || !changed {
		return src, false, err
	}
	out := root.Pack()
	if len(body) == 0 || body[len(body)-1] == '\n' {
		if len(out) == 0 || out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	if bytes.Contains(body, []byte("\r\n")) {
		out = bytes.ReplaceAll(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	}
	if hadBOM {
		out = append(bom, out...)
	}
	return out, true, nil
}

// setServer sets the server Name under serversKey to server; the action is Added, Updated or Unchanged.
// An entry that is there already, as an object, is updated field by field (mergeServer).
func setServer(file string, src []byte, root *hujson.Value, obj *hujson.Object, l layout, serversKey string, server any) (Action, error) {
	servers, err := childObject(file, src, obj, serversKey)
	if err != nil {
		return "", err
	}
	if servers == nil {
		_, err := setMember(obj, l, serversKey, map[string]any{Name: server})
		return Added, err
	}
	sl := objectLayout(servers, l)
	i := memberIndex(servers, Name)
	if i < 0 {
		_, err := setMember(servers, sl, Name, server)
		return Added, err
	}
	var changed bool
	if have, ok := servers.Members[i].Value.Value.(*hujson.Object); ok {
		changed, err = mergeServer(root, pointer(serversKey, Name), have, sl, server)
	} else {
		changed, err = setMember(servers, sl, Name, server)
	}
	switch {
	case err != nil:
		return "", err
	case !changed:
		return Unchanged, nil
	}
	return Updated, nil
}

// removeServer removes the server Name under serversKey: Removed, or Absent when there is none.
func removeServer(file string, src []byte, root *hujson.Value, obj *hujson.Object, serversKey string) (Action, error) {
	servers, err := childObject(file, src, obj, serversKey)
	if err != nil || servers == nil || memberIndex(servers, Name) < 0 {
		return Absent, err
	}
	return Removed, removeAt(root, pointer(serversKey, Name))
}

// mcpServers is the format of Claude Desktop, Cursor, Windsurf and Claude Code: {"mcpServers": {NAME: entry}}.
type mcpServers struct {
	// server is the value an entry is written as.
	server func(Entry) any
}

// plainServer writes the entry as it is: command, args, env.
func plainServer(e Entry) any { return e }

// stdioServer writes the entry with "type": "stdio" first, as `claude mcp add` does.
func stdioServer(e Entry) any {
	return struct {
		Type string `json:"type"`
		Entry
	}{"stdio", e}
}

func (f mcpServers) install(file string, src []byte, e Entry) ([]byte, Action, error) {
	var action Action
	out, _, err := edit(file, src, func(root *hujson.Value, obj *hujson.Object, l layout) (bool, error) {
		var err error
		action, err = setServer(file, src, root, obj, l, "mcpServers", f.server(e))
		return action != Unchanged, err
	})
	return out, action, err
}

func (mcpServers) secret(e Entry) bool { return e.Env[config.EnvAPIKey] != "" }

func (f mcpServers) uninstall(file string, src []byte) ([]byte, Action, error) {
	var action Action
	out, _, err := edit(file, src, func(root *hujson.Value, obj *hujson.Object, _ layout) (bool, error) {
		var err error
		action, err = removeServer(file, src, root, obj, "mcpServers")
		return action == Removed, err
	})
	return out, action, err
}

// InputID is the id of the VS Code input that asks for the API key.
const InputID = "meshai-api-key"

// vscodeInput is an entry of VS Code's "inputs": a prompt whose answer VS Code keeps in its secret storage.
type vscodeInput struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Description string `json:"description"`
	Password    bool   `json:"password"`
}

// apiKeyInput is the prompt for MeshAI's API key.
var apiKeyInput = vscodeInput{Type: "promptString", ID: InputID, Description: "MeshAI API key", Password: true}

// vscodeServer is an entry in VS Code's "servers": the entry with "type": "stdio", and the API key (if any)
// replaced by a reference to the input that asks for it.
func vscodeServer(e Entry) any {
	if _, ok := e.Env[config.EnvAPIKey]; ok {
		env := map[string]string{}
		for k, v := range e.Env {
			env[k] = v
		}
		env[config.EnvAPIKey] = "${input:" + InputID + "}"
		e.Env = env
	}
	return stdioServer(e)
}

// vscode is the format of VS Code's mcp.json (JSONC): {"servers": {NAME: {"type": "stdio", …}}, "inputs": [...]}.
type vscode struct{}

func (vscode) install(file string, src []byte, e Entry) ([]byte, Action, error) {
	var action Action
	_, wantKey := e.Env[config.EnvAPIKey]
	out, _, err := edit(file, src, func(root *hujson.Value, obj *hujson.Object, l layout) (bool, error) {
		var err error
		if action, err = setServer(file, src, root, obj, l, "servers", vscodeServer(e)); err != nil {
			return false, err
		}
		inputChanged, err := setInput(file, src, root, obj, l, wantKey)
		if inputChanged && action == Unchanged {
			action = Updated
		}
		return action != Unchanged, err
	})
	return out, action, err
}

// setInput puts the API key's input in "inputs" when want, and takes it out when not; it reports a change.
func setInput(file string, src []byte, root *hujson.Value, obj *hujson.Object, l layout, want bool) (bool, error) {
	inputs, err := childArray(file, src, obj, "inputs")
	if err != nil {
		return false, err
	}
	at := -1
	if inputs != nil {
		for i, el := range inputs.Elements {
			if o, ok := el.Value.(*hujson.Object); ok {
				if j := memberIndex(o, "id"); j >= 0 {
					if lit, ok := o.Members[j].Value.Value.(hujson.Literal); ok && lit.String() == InputID {
						at = i
					}
				}
			}
		}
	}
	switch {
	case !want && at < 0:
		return false, nil
	case !want:
		return true, removeAt(root, pointer("inputs")+"/"+itoa(at))
	case inputs == nil:
		return setMember(obj, l, "inputs", []any{apiKeyInput})
	case at >= 0 && sameJSON(inputs.Elements[at], apiKeyInput):
		return false, nil
	case at >= 0:
		if err := removeAt(root, pointer("inputs")+"/"+itoa(at)); err != nil {
			return false, err
		}
	}
	return true, appendElement(inputs, arrayLayout(inputs, l), apiKeyInput)
}

// secret is false: VS Code keeps the key in its secret storage, and the file names the prompt.
func (vscode) secret(Entry) bool { return false }

func (vscode) uninstall(file string, src []byte) ([]byte, Action, error) {
	var action Action
	out, _, err := edit(file, src, func(root *hujson.Value, obj *hujson.Object, l layout) (bool, error) {
		var err error
		if action, err = removeServer(file, src, root, obj, "servers"); err != nil {
			return false, err
		}
		inputChanged, err := setInput(file, src, root, obj, l, false)
		if inputChanged && action == Absent {
			action = Removed
		}
		return action == Removed, err
	})
	return out, action, err
}
