package bridge

import (
	"encoding/json"
	"strings"
)

// ignored reports whether a tool name matches one of IgnoreTools: shell-style patterns where * matches any run
// of characters, compared without regard to case (as mcp-remote's --ignore-tool).
func (r *Relay) ignored(name string) bool {
	for _, pat := range r.IgnoreTools {
		if wildcard(strings.ToLower(pat), strings.ToLower(name)) {
			return true
		}
	}
	return false
}

// wildcard matches s against a pattern whose only special character is *.
func wildcard(pat, s string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return pat == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// filterTools answers the client's tools/list id with the server's answer raw, the ignored tools left out;
// anything it cannot read passes unchanged.
func (r *Relay) filterTools(id json.RawMessage, raw []byte) {
	out, err := r.withoutIgnored(raw)
	if err != nil {
		r.Log.Debug("tools/list answer left as is", "err", err)
		out = raw
	}
	r.answer(id, out)
}

func (r *Relay) withoutIgnored(raw []byte) ([]byte, error) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &msg); err != nil || msg["result"] == nil {
		return raw, err
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(msg["result"], &res); err != nil {
		return nil, err
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(res["tools"], &tools); err != nil {
		return nil, err
	}
	kept := tools[:0]
	for _, t := range tools {
		var tool struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(t, &tool) == nil && r.ignored(tool.Name) {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == len(tools) {
		return raw, nil
	}
	var err error
	if res["tools"], err = json.Marshal(kept); err != nil {
		return nil, err
	}
	if msg["result"], err = json.Marshal(res); err != nil {
		return nil, err
	}
	return json.Marshal(msg)
}
