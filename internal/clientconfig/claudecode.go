package clientconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/tailscale/hujson"
)

// claudeCode is Claude Code: configured through its own command, `claude mcp add -s user` and `claude mcp
// remove -s user` (code.claude.com/docs/en/mcp), when `claude` is on PATH — Claude Code rewrites
// ~/.claude.json often, so its command is the safe writer — and else through that file.
type claudeCode struct {
	file fileClient // ~/.claude.json, read to know the current entry, and written when there is no command
}

func (c claudeCode) Name() string { return c.file.name }

func (c claudeCode) Found(env Env) bool {
	if _, err := env.lookPath("claude"); err == nil {
		return true
	}
	return c.file.Found(env) || exists(c.file.file(env))
}

func (c claudeCode) Install(ctx context.Context, env Env, e Entry, dryRun bool) (Result, error) {
	claude, err := env.lookPath("claude")
	if err != nil {
		return c.file.Install(ctx, env, e, dryRun)
	}
	res := Result{Client: c.Name()}
	have, found, err := c.current(env)
	if err != nil {
		return res, err
	}
	e = e.keepingEnvOf(have)
	if found && have.Equal(e) {
		res.Action, res.Where = Unchanged, c.path(env)
		return res, nil
	}
	res.Action = Added
	if found {
		res.Action = Updated
	}
	var cmds [][]string
	if found {
		cmds = append(cmds, []string{"mcp", "remove", "-s", "user", Name})
	}
	cmds = append(cmds, addCommand(e))
	res, done, err := c.run(ctx, claude, res, cmds, secrets(e), dryRun)
	if err != nil && found && done == 1 { // removed, but not added again: put the old entry back
		if _, _, rerr := c.run(ctx, claude, Result{}, [][]string{addCommand(have)}, secrets(have), false); rerr != nil {
			return res, fmt.Errorf("%w; the previous entry was removed and could not be put back: %w", err, rerr)
		}
		return res, fmt.Errorf("%w; the previous entry was put back", err)
	}
	return res, err
}

// addCommand is the claude command that adds e in the user scope.
func addCommand(e Entry) []string {
	add := []string{"mcp", "add", "-s", "user"}
	for _, k := range sortedKeys(e.Env) {
		add = append(add, "-e", k+"="+e.Env[k])
	}
	return append(append(add, Name, "--", e.Command), e.Args...)
}

func (c claudeCode) Uninstall(ctx context.Context, env Env, dryRun bool) (Result, error) {
	claude, err := env.lookPath("claude")
	if err != nil {
		return c.file.Uninstall(ctx, env, dryRun)
	}
	res := Result{Client: c.Name()}
	if _, found, err := c.current(env); err != nil || !found {
		res.Action, res.Where = Absent, c.path(env)
		return res, err
	}
	res.Action = Removed
	res, _, err = c.run(ctx, claude, res, [][]string{{"mcp", "remove", "-s", "user", Name}}, nil, dryRun)
	return res, err
}

// run runs the claude commands one after the other until one fails (or, in a dry run, lists them), with secret
// values hidden in what it reports; done is the number of commands that succeeded.
func (c claudeCode) run(ctx context.Context, claude string, res Result, cmds [][]string, secret []string, dryRun bool) (_ Result, done int, _ error) {
	hide := func(s string) string {
		for _, v := range secret {
			s = strings.ReplaceAll(s, v, "***")
		}
		return s
	}
	var shown []string
	for _, args := range cmds {
		shown = append(shown, hide("claude "+strings.Join(args, " ")))
	}
	res.Where = strings.Join(shown, " && ")
	if dryRun {
		res.Diff = "would run: " + strings.Join(shown, "\n           ") + "\n"
		return res, 0, nil
	}
	for i, args := range cmds {
		out, err := exec.CommandContext(ctx, claude, args...).CombinedOutput()
		if err != nil {
			return res, i, fmt.Errorf("%s: %w: %s", shown[i], err, hide(strings.TrimSpace(string(out))))
		}
	}
	return res, len(cmds), nil
}

// path is ~/.claude.json, where the current entry is read.
func (c claudeCode) path(env Env) string {
	p, _ := c.file.file(env)
	return p
}

// current is the entry in Claude Code's user scope (the top-level mcpServers of ~/.claude.json), if any.
func (c claudeCode) current(env Env) (Entry, bool, error) {
	path, err := c.file.file(env)
	if err != nil {
		return Entry{}, false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	} else if err != nil {
		return Entry{}, false, err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	root, err := parseObject(path, b)
	if err != nil {
		return Entry{}, false, err
	}
	servers, err := childObject(path, b, root.Value.(*hujson.Object), "mcpServers")
	if err != nil || servers == nil {
		return Entry{}, false, err
	}
	i := memberIndex(servers, Name)
	if i < 0 {
		return Entry{}, false, nil
	}
	v := servers.Members[i].Value.Clone()
	v.Standardize()
	var e Entry
	if err := json.Unmarshal(v.Pack(), &e); err != nil {
		return Entry{}, true, nil // something else under our name: replaced
	}
	if len(e.Env) == 0 {
		e.Env = nil
	}
	return e, true, nil
}

// lookPath finds a command on PATH (env.LookPath in tests).
func (e Env) lookPath(name string) (string, error) {
	if e.LookPath != nil {
		return e.LookPath(name)
	}
	return exec.LookPath(name)
}

// secrets are the values of e's environment that must not be shown.
func secrets(e Entry) []string {
	var s []string
	for k, v := range e.Env {
		if _, setting := npmEnv[k]; v != "" && !(setting && v == npmEnv[k]) { // npm's settings are no secret
			s = append(s, v)
		}
	}
	return s
}

// sortedKeys are m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
