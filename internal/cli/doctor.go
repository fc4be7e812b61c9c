package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/doctor"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// runDoctor runs `meshai-mcp-server doctor [flags] [URL]`: every check, a checklist on stdout, exit 1 when one failed.
func runDoctor(env Env) int {
	var (
		opts   doctor.Options
		client Config // the client and endpoint flags, as serving reads them
		asJSON bool
	)
	fs := doctorFlagSet(&opts, &client, &asJSON, env.Getenv, env.Stderr)
	args := env.Args[1:]
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if err := doctorClient(&opts, &client, flagsSet(fs)); err != nil {
		fmt.Fprintln(env.Stderr, "meshai-mcp-server doctor:", err)
		return 2
	}
	if len(positional) > 1 {
		fmt.Fprintf(env.Stderr, "meshai-mcp-server doctor: expected at most one URL, got %d\n", len(positional))
		return 2
	}
	opts.URL = env.Getenv(config.EnvURL)
	if len(positional) == 1 {
		opts.URL = positional[0]
	}
	if opts.URL == "" {
		opts.URL = config.DefaultURL
	}
	opts.Getenv, opts.Version = env.Getenv, Version
	// The bridge's own choice, moved from the roaming profile first as the bridge would (else doctor's check would
	// make the new, empty directory and strand the sign-in); "" lets doctor report why there is none.
	if dir, err := config.ResolveDir(env.Getenv); err == nil {
		var note string
		if opts.ConfigDir, note = config.MoveRoaming(dir); note != "" {
			fmt.Fprintln(env.Stderr, "meshai-mcp-server:", note)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := doctor.Run(ctx, opts)
	write := rep.WriteText
	if asJSON {
		write = rep.WriteJSON
	}
	if err := write(env.Stdout); err != nil {
		fmt.Fprintln(env.Stderr, "meshai-mcp-server doctor:", err)
		return 1
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// doctorClient checks the client, endpoint and sign-in flags as serving does and hands them to doctor. A
// client.json without a loopback redirect URI, which serving refuses, is doctor's to judge: with what the
// server offers, it can say which one thing to do.
func doctorClient(opts *doctor.Options, cfg *Config, set map[string]bool) error {
	noLoopback := len(cfg.ClientRedirects) > 0 && loopbackRedirect(cfg.ClientRedirects) == nil
	if !noLoopback {
		if err := applyClientRedirect(cfg, set); err != nil {
			return err
		}
	}
	if err := checkEndpoints(cfg); err != nil {
		return err
	}
	if err := checkSignInFlags(cfg); err != nil {
		return err
	}
	opts.Callback = doctor.Callback{Host: cfg.CallbackHost, Path: cfg.CallbackPath, Port: cfg.CallbackPort}
	opts.DeviceCode, opts.ClientMetadataURL = cfg.DeviceCode, cfg.ClientMetadataURL
	if cfg.ClientID != "" {
		from := "--client-id"
		if set["static-oauth-client-info"] {
			from = "--static-oauth-client-info"
		}
		opts.Client = &doctor.Client{ID: cfg.ClientID, Secret: cfg.ClientSecret, AuthMethod: cfg.ClientAuthMethod, From: from}
		if noLoopback {
			opts.Client.NoLoopback = cfg.ClientRedirects
		}
	}
	if cfg.AuthorizationURL != "" {
		opts.Endpoints = &doctor.Endpoints{Authorization: cfg.AuthorizationURL, Token: cfg.TokenURL, Registration: cfg.RegistrationURL}
	}
	return nil
}

// doctorFlagSet is the flag set of `meshai-mcp-server doctor`; parsing fills opts, client (the client and
// endpoint flags serving has too) and asJSON.
func doctorFlagSet(opts *doctor.Options, client *Config, asJSON *bool, getenv func(string) string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("meshai-mcp-server doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clientFlags(fs, client, getenv)
	signInFlags(fs, client)
	fs.BoolVar(asJSON, "json", false, "print the report as JSON (id, status ok|fail|warn|skip, title, detail, fix, duration_ms per check)")
	fs.BoolVar(&opts.RegisterProbe, "register-probe", false, "register a client at the server to test dynamic registration (it creates a client there)")
	fs.BoolVar(&opts.CheckClients, "check-clients", false, "with --register-probe: also try Claude's, ChatGPT's and Cursor's redirect URIs")
	fs.BoolVar(&opts.Refresh, "refresh", false, "refresh the stored access token (the new tokens are saved)")
	fs.StringVar(&opts.TokenStore, "token-store", "", "token store to check: auto, keychain or file (default $"+config.EnvTokenStore+", else auto)")
	fs.BoolVar(&opts.AllowHTTP, "allow-http", false, "accept plain http to a host that is not loopback")
	fs.Func("scope", "the scopes the bridge is told to ask for (its --scope), space-separated", func(v string) error {
		return parseScopes(v, &opts.Scopes)
	})
	fs.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "time limit of each network step")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `meshai-mcp-server doctor checks configuration, network, the MCP endpoint, OAuth discovery, registration,
stored credentials and an authenticated round trip, and says how to fix what fails. It exits 1 when a check fails.

Usage:
  meshai-mcp-server doctor [flags] [URL]   (URL: argument, else $%s, else %s)

Flags:
`, config.EnvURL, config.DefaultURL)
		fs.PrintDefaults()
	}
	return fs
}
