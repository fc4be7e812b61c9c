package clientconfig

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tailscale/hujson"
)

// For any file that parses as a JSON(C) object and holds no meshai entry, in every client's format: install
// gives a file that still parses, holds the entry and every comment of the original; installing again changes
// nothing; and uninstall gives the original bytes back — or, where install had to make the object of servers
// (or VS Code's inputs), the original with that object left empty. In a file with comments, where hujson's
// rules for which comment belongs to which member decide, uninstall gives back the same JSON and every comment,
// in order, and only the blank space around them may differ. A file that does not parse is refused, never
// changed.
func FuzzInstallRoundTrip(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("{}"))
	f.Add([]byte(""))
	f.Add([]byte(`{"mcpServers": {}, "servers": [], "inputs": {}}`))
	f.Add([]byte("{\n\t\"servers\": { // x\n\t},\n\t/* y */ \"inputs\": [ ],\n}"))
	f.Add([]byte("\ufeff{\r\n  \"a\": [1, 2,],\r\n}\r\n"))
	entry := NewEntry(EntryOptions{URL: "https://mcp.example.com/mcp", APIKey: "k"})
	formats := map[string]format{"mcpServers": mcpServers{server: plainServer}, "stdio": mcpServers{server: stdioServer}, "vscode": vscode{}}
	containers := map[string][]string{"mcpServers": {"mcpServers"}, "stdio": {"mcpServers"}, "vscode": {"servers", "inputs"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := hujson.Parse(bytes.TrimPrefix(src, []byte("\ufeff")))
		if err == nil && (v.Find(pointer("mcpServers", Name)) != nil || v.Find(pointer("servers", Name)) != nil || bytes.Contains(src, []byte(InputID))) {
			return // already has an entry of ours: uninstall would rightly remove it
		}
		comments := commentsOf(src)
		for name, fm := range formats {
			out, action, err := fm.install("f.json", src, entry)
			if err != nil {
				if !bytes.Equal(out, nil) && !bytes.Equal(out, src) {
					t.Fatalf("%s: a refused file was changed: %v", name, err)
				}
				continue
			}
			if action != Added {
				t.Fatalf("%s: install: %s", name, action)
			}
			if _, err := parseObject("f.json", bytes.TrimPrefix(out, []byte("\ufeff"))); err != nil {
				t.Fatalf("%s: install made a file that does not parse: %v\n%q\n%q", name, err, src, out)
			}
			if !inOrder(comments, out) {
				t.Fatalf("%s: install lost a comment:\n%q\n%q", name, src, out)
			}
			again, action, err := fm.install("f.json", out, entry)
			if err != nil || action != Unchanged || !bytes.Equal(again, out) {
				t.Fatalf("%s: second install: %s, %v\n%q", name, action, err, out)
			}
			back, action, err := fm.uninstall("f.json", out)
			if err != nil || action != Removed {
				t.Fatalf("%s: uninstall: %s, %v\n%q", name, action, err, out)
			}
			exact := hasAll(src, containers[name]) && len(comments) == 0
			if !bytes.Equal(back, src) && (exact || !sameButEmptied(src, back) || !inOrder(comments, back)) {
				t.Fatalf("%s: uninstall did not give the file back:\n%q\ninstalled\n%q\nback\n%q", name, src, out, back)
			}
		}
	})
}

// sameButEmptied reports whether back is src with, at most, the composites install makes (mcpServers, servers,
// inputs) added empty or emptied: the same JSON once those are dropped from both when empty.
func sameButEmptied(src, back []byte) bool {
	norm := func(b []byte) map[string]any {
		m := readSeedBytes(b)
		if m == nil {
			return nil
		}
		for _, k := range []string{"mcpServers", "servers", "inputs"} {
			switch v := m[k].(type) {
			case map[string]any:
				if len(v) == 0 {
					delete(m, k)
				}
			case []any:
				if len(v) == 0 {
					delete(m, k)
				}
			}
		}
		return m
	}
	a, b := norm(src), norm(back)
	return a != nil && b != nil && jsonEqual(a, b)
}

// readSeedBytes is b as standard JSON decoded, nil when it is not an object (an empty file is an empty object).
func readSeedBytes(b []byte) map[string]any {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}
	}
	std, err := hujson.Standardize(bytes.Clone(b)) // Standardize blanks comments in the bytes it is given
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(std, &m) != nil {
		return nil
	}
	return m
}

// hasAll reports whether src holds every one of keys as a non-empty object or array: then uninstall must give
// it back byte for byte.
func hasAll(src []byte, keys []string) bool {
	m := readSeedBytes(src)
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return false
			}
		case []any:
			if len(v) == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// commentsOf lists the comments of a JSONC document, in order.
func commentsOf(b []byte) [][]byte {
	var out [][]byte
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == '/' && i+1 < len(b) && (b[i+1] == '/' || b[i+1] == '*'):
			end := bytes.IndexByte(b[i:], '\n')
			if b[i+1] == '*' {
				end = bytes.Index(b[i+2:], []byte("*/"))
				if end >= 0 {
					end += 4
				}
			}
			if end < 0 {
				end = len(b) - i
			}
			out = append(out, b[i:i+end])
			i += end - 1
		}
	}
	return out
}

// inOrder reports whether each of parts is in b, one after the other.
func inOrder(parts [][]byte, b []byte) bool {
	for _, p := range parts {
		i := bytes.Index(b, p)
		if i < 0 {
			return false
		}
		b = b[i+len(p):]
	}
	return true
}
