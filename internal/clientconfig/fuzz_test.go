package clientconfig

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tailscale/hujson"
)

// For any file that parses as a JSON(C) object and holds no meshai entry, in every client's format: install
// gives a file that still parses and holds the entry, installing again changes nothing, and uninstall gives
// the original bytes back — or, where install had to make the object of servers (or VS Code's inputs), the
// original with that object left empty. A file that does not parse is refused, never changed.
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
		if v, err := hujson.Parse(bytes.TrimPrefix(src, []byte("\ufeff"))); err == nil && (v.Find(pointer("mcpServers", Name)) != nil || v.Find(pointer("servers", Name)) != nil || bytes.Contains(src, []byte(InputID))) {
			return // already has an entry of ours: uninstall would rightly remove it
		}
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
			again, action, err := fm.install("f.json", out, entry)
			if err != nil || action != Unchanged || !bytes.Equal(again, out) {
				t.Fatalf("%s: second install: %s, %v\n%q", name, action, err, out)
			}
			back, action, err := fm.uninstall("f.json", out)
			if err != nil || action != Removed {
				t.Fatalf("%s: uninstall: %s, %v\n%q", name, action, err, out)
			}
			if !bytes.Equal(back, src) && (hasAll(src, containers[name]) || !sameButEmptied(src, back)) {
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
	std, err := hujson.Standardize(b)
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
