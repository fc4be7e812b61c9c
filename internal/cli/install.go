package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/meshailabs-org/meshai-mcp-server/internal/clientconfig"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// installOptions are the flags of install and uninstall.
type installOptions struct {
	clients   []string
	command   string
	apiKeyEnv bool
	dryRun    bool
}

// installFlagSet is the flag set of `meshai-mcp-server install` (uninstall when !install: --client and
// --dry-run only); parsing fills o.
func installFlagSet(o *installOptions, install bool, stderr io.Writer) *flag.FlagSet {
	name := "meshai-mcp-server uninstall"
	if install {
		name = "meshai-mcp-server install"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Func("client", "`NAME` of a client: "+strings.Join(clientconfig.Names(), ", ")+", or all (the default: every client found on this machine); repeatable, or a comma-separated list", func(v string) error {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name != "all" {
				if _, err := clientconfig.Lookup(name); err != nil {
					return err
				}
			}
			o.clients = append(o.clients, name)
		}
		return nil
	})
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would change, as a diff, and write nothing")
	if install {
		fs.StringVar(&o.command, "command", "npx", "how clients start the bridge: `HOW` = npx (npx -y "+clientconfig.Package+") or self (the absolute path of this binary, for an install without npm)")
		fs.BoolVar(&o.apiKeyEnv, "api-key-env", false, "also give the bridge $"+config.EnvAPIKey+": its value is written into each client's file (Claude Code gets it through claude mcp add -e, on that command's line while it runs); VS Code gets a password prompt instead and keeps the key in its secret storage. Without this flag no key is written and the bridge signs in with OAuth")
	}
	fs.Usage = func() {
		if install {
			fmt.Fprintf(fs.Output(), `meshai-mcp-server install adds the server "%s" to desktop MCP clients' configuration, or updates it, and
keeps everything else in their files (comments too, in VS Code's). Each file changed is first copied to
<file>%s. Running it again changes nothing. Restart a client to load what changed.

Usage:
  meshai-mcp-server install [flags] [URL]   (URL: a server other than MeshAI's %s)

Flags:
`, clientconfig.Name, clientconfig.BackupSuffix, config.DefaultURL)
		} else {
			fmt.Fprintf(fs.Output(), `meshai-mcp-server uninstall removes the server "%s" from desktop MCP clients' configuration, and nothing else.

Usage:
  meshai-mcp-server uninstall [flags]

Flags:
`, clientconfig.Name)
		}
		fs.PrintDefaults()
	}
	return fs
}

// runInstall runs `meshai-mcp-server install` (or uninstall): one line per client on stdout, exit 1 when a
// client could not be changed.
func runInstall(env Env, install bool) int {
	cmd := "meshai-mcp-server " + env.Args[0]
	var o installOptions
	fs := installFlagSet(&o, install, env.Stderr)
	args := env.Args[1:]
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if !install && len(positional) > 0 || len(positional) > 1 {
		fmt.Fprintf(env.Stderr, "%s: unexpected arguments %q\n", cmd, positional)
		return 2
	}
	cenv := clientconfig.EnvFor(runtime.GOOS, env.Getenv)
	clients, err := chooseClients(cenv, o.clients, install)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return 2
	}
	if len(clients) == 0 { // uninstall on a machine without any of them
		fmt.Fprintf(env.Stdout, "found none of %s here: nothing to remove\n", strings.Join(clientconfig.Names(), ", "))
		return 0
	}
	var entry clientconfig.Entry
	if install {
		if entry, err = installEntry(o, positional, clients, env.Getenv); err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, changed := false, false
	for _, c := range clients {
		var res clientconfig.Result
		if install {
			res, err = c.Install(ctx, cenv, entry, o.dryRun)
		} else {
			res, err = c.Uninstall(ctx, cenv, o.dryRun)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %s: %v\n", cmd, c.Name(), err)
			failed = true
			continue
		}
		fmt.Fprintln(env.Stdout, resultLine(res, o.dryRun))
		fmt.Fprint(env.Stdout, res.Diff)
		changed = changed || res.Action == clientconfig.Added || res.Action == clientconfig.Updated || res.Action == clientconfig.Removed
	}
	if changed && !o.dryRun {
		fmt.Fprintln(env.Stdout, "Restart the clients changed (or reload their MCP servers) to load the change.")
	}
	if failed {
		return 1
	}
	return 0
}

// resultLine is the line that says what happened to one client.
func resultLine(res clientconfig.Result, dryRun bool) string {
	action, width := string(res.Action), 10
	if dryRun {
		width = 18
		if res.Diff != "" {
			action = "would be " + action
		}
	}
	line := fmt.Sprintf("%-15s %-*s %s", res.Client, width, action, res.Where)
	if res.Backup != "" {
		line += " (backup: " + res.Backup + ")"
	}
	return line
}

// chooseClients are the clients named (all, or none named: those found on this machine; for uninstall, those
// found too).
func chooseClients(env clientconfig.Env, names []string, install bool) ([]clientconfig.Client, error) {
	var chosen []clientconfig.Client
	if len(names) == 0 || slices.Contains(names, "all") {
		for _, c := range clientconfig.Clients() {
			if c.Found(env) {
				chosen = append(chosen, c)
			}
		}
		switch {
		case len(chosen) == 0 && install:
			return nil, fmt.Errorf("found none of %s on this machine: name one with --client to create its configuration", strings.Join(clientconfig.Names(), ", "))
		}
		return chosen, nil
	}
	for _, n := range names {
		c, err := clientconfig.Lookup(n)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(chosen, func(d clientconfig.Client) bool { return d.Name() == n }) {
			chosen = append(chosen, c)
		}
	}
	return chosen, nil
}

// installEntry is the entry that install writes, from the flags, the URL argument and the environment.
func installEntry(o installOptions, positional []string, clients []clientconfig.Client, getenv func(string) string) (clientconfig.Entry, error) {
	eo := clientconfig.EntryOptions{OS: runtime.GOOS}
	if len(positional) == 1 {
		u, err := url.Parse(positional[0])
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return clientconfig.Entry{}, fmt.Errorf("%q is not an http(s) URL of an MCP server", positional[0])
		}
		eo.URL = positional[0]
	}
	switch o.command {
	case "npx":
	case "self":
		bin, err := selfPath()
		if err != nil {
			return clientconfig.Entry{}, err
		}
		eo.Binary = bin
	default:
		return clientconfig.Entry{}, fmt.Errorf("--command %q: use npx or self", o.command)
	}
	if o.apiKeyEnv {
		eo.APIKey = getenv(config.EnvAPIKey)
		if eo.APIKey == "" {
			if slices.ContainsFunc(clients, func(c clientconfig.Client) bool { return c.Name() != "vscode" }) {
				return clientconfig.Entry{}, errors.New("--api-key-env: " + config.EnvAPIKey + " is not set: set it to your MeshAI API key, or leave out --api-key-env to sign in with OAuth")
			}
			eo.APIKey = clientconfig.PromptedKey // VS Code asks for it
		}
	}
	return clientconfig.NewEntry(eo), nil
}

// selfPath is the absolute path of this binary, links resolved; refused when npx runs it from its cache, which
// npm may empty at any time.
func selfPath() (string, error) {
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.EvalSymlinks(bin)
	}
	if err != nil {
		return "", fmt.Errorf("--command self: cannot tell where this binary is: %w", err)
	}
	if strings.Contains(filepath.ToSlash(bin), "/_npx/") {
		return "", fmt.Errorf("--command self: this binary runs from npx's cache (%s), which npm may clear: install it for good (npm i -g %s, or go install) and run install from there, or use --command npx", bin, clientconfig.Package)
	}
	return bin, nil
}
