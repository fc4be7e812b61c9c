package clientconfig

import (
	"encoding/json"
	"slices"

	"github.com/tailscale/hujson"
)

// The fields of an entry that install manages. An entry that is already there is updated field by field: these
// are made what install writes, and everything else a user added to the entry stays — "disabled",
// "autoApprove", "timeout", and in env the variables other than managedEnv (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, …).
var (
	managedFields = []string{"command", "args"}
	// staleFields describe a remote server; an entry install writes starts the bridge, so they go.
	staleFields = []string{"url", "serverUrl", "headers"}
)

// mergeServer updates the existing entry have (at the JSON pointer at, laid out as l) to server: see
// managedFields. It reports whether anything changed.
func mergeServer(root *hujson.Value, at string, have *hujson.Object, l layout, server any) (bool, error) {
	b, err := json.Marshal(server)
	if err != nil {
		return false, err
	}
	wantDoc, err := hujson.Parse(b)
	if err != nil {
		return false, err
	}
	want := wantDoc.Value.(*hujson.Object)
	field := func(key string) (json.RawMessage, bool) {
		if i := memberIndex(want, key); i >= 0 {
			return json.RawMessage(want.Members[i].Value.Pack()), true
		}
		return nil, false
	}
	changed := false
	set := func(obj *hujson.Object, l layout, key string, v any) error {
		c, err := setMember(obj, l, key, v)
		changed = changed || c
		return err
	}
	remove := func(obj *hujson.Object, ptr, key string) error {
		if memberIndex(obj, key) < 0 {
			return nil
		}
		changed = true
		return removeAt(root, ptr+pointer(key))
	}
	inner := objectLayout(have, l)
	for _, key := range managedFields {
		if v, ok := field(key); ok {
			err = set(have, inner, key, v)
		} else {
			err = remove(have, at, key)
		}
		if err != nil {
			return false, err
		}
	}
	for _, key := range staleFields {
		if err := remove(have, at, key); err != nil {
			return false, err
		}
	}
	// "type" is written where the format has it (VS Code, Claude Code), and kept elsewhere unless it says the
	// entry is not a local server.
	if v, ok := field("type"); ok {
		err = set(have, inner, "type", v)
	} else if j := memberIndex(have, "type"); j >= 0 && !sameJSON(have.Members[j].Value, "stdio") {
		err = remove(have, at, "type")
	}
	if err != nil {
		return false, err
	}

	var wantEnv map[string]json.RawMessage
	if v, ok := field("env"); ok {
		if err := json.Unmarshal(v, &wantEnv); err != nil {
			return false, err
		}
	}
	i := memberIndex(have, "env")
	env, isObject := (*hujson.Object)(nil), false
	if i >= 0 {
		env, isObject = have.Members[i].Value.Value.(*hujson.Object)
	}
	switch {
	case !isObject && len(wantEnv) > 0: // none yet, or not an object: ours
		return true, set(have, inner, "env", wantEnv)
	case !isObject:
		return changed, nil
	}
	envLayout := objectLayout(env, inner)
	for _, k := range sortedKeys(rawKeys(wantEnv)) {
		if err := set(env, envLayout, k, wantEnv[k]); err != nil {
			return false, err
		}
	}
	removed := false
	for _, k := range managedEnv {
		if _, ok := wantEnv[k]; !ok && memberIndex(env, k) >= 0 {
			if err := remove(env, at+pointer("env"), k); err != nil {
				return false, err
			}
			removed = true
		}
	}
	if removed && len(env.Members) == 0 && env.AfterExtra.IsStandard() { // it held only what install had written
		return true, remove(have, at, "env")
	}
	return changed || removed, nil
}

// rawKeys is m with its keys only, for sortedKeys.
func rawKeys(m map[string]json.RawMessage) map[string]string {
	keys := make(map[string]string, len(m))
	for k := range m {
		keys[k] = ""
	}
	return keys
}

// keepingEnvOf is e with the environment variables of have that install does not manage (all but
// MESHAI_API_KEY and e's own): how Claude Code's entry is updated through its command, which writes entries
// whole.
func (e Entry) keepingEnvOf(have Entry) Entry {
	env := map[string]string{}
	for k, v := range have.Env {
		if !slices.Contains(managedEnv, k) {
			env[k] = v
		}
	}
	for k, v := range e.Env {
		env[k] = v
	}
	if len(env) == 0 {
		env = nil
	}
	e.Env = env
	return e
}
