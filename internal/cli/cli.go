// Package cli is the command line of meshai-mcp-server: it reads flags and environment and wires the bridge,
// the remote transport and the token source together. cmd/meshai-mcp-server only calls Main.
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
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/bridge"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
	"golang.org/x/oauth2"
)

// Version is the release version, set at build time with -ldflags "-X .../internal/cli.Version=X.Y.Z".
var Version = "0.1.0-dev"

// Env is the process's surroundings, passed in so tests can run Main in-process.
type Env struct {
	Args   []string // without the program name
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer // JSON-RPC only when serving
	Stderr io.Writer
}

// Main runs the command and returns the exit code.
func Main(env Env) int {
	// Everything this process prints on stderr may quote a server: none of the secrets it holds gets through.
	env.Stderr = secrets.Writer(env.Stderr)
	secrets.Add(env.Getenv(config.EnvAPIKey))
	if len(env.Args) > 0 {
		switch env.Args[0] {
		case "version":
			fmt.Fprintln(env.Stdout, "meshai-mcp-server", Version)
			return 0
		case "demo":
			// The demo holds the reference server and mcp-go's server: kept out of this binary for start-up time.
			fmt.Fprintln(env.Stderr, "meshai-mcp-server: the demo is a command of its own: go run "+
				"github.com/meshailabs-org/meshai-mcp-server/cmd/meshai-demo@latest (or go run ./cmd/meshai-demo in a checkout)")
			return 2
		case "doctor":
			env.Stdout = secrets.Writer(env.Stdout) // the report quotes servers
			return runDoctor(env)
		case "install", "uninstall":
			return runInstall(env, env.Args[0] == "install")
		}
	}
	action, args := "serve", env.Args
	if len(args) > 0 && (args[0] == "login" || args[0] == "logout" || args[0] == "status") {
		action, args = args[0], args[1:]
	}
	cfg, err := parseServe(args, env.Getenv, env.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(env.Stderr, "meshai-mcp-server:", err)
		return 2
	case cfg.Version:
		fmt.Fprintln(env.Stdout, "meshai-mcp-server", Version)
		return 0
	}
	addSecrets(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.dirNote = settleConfigDir(&cfg)
	adv := newAdviser(cfg, action == "serve", env.Getenv)
	if err := config.CheckPrivate(cfg.ConfigDir); err != nil { // before the log file or a token is opened in it
		fmt.Fprintln(env.Stderr, "meshai-mcp-server:", adv.with(err))
		return 2
	}
	if action != "serve" {
		env.Stdout = secrets.Writer(env.Stdout) // status prints what the userinfo endpoint said
		err = account(ctx, action, cfg, env)
	} else {
		err = serve(ctx, cfg, env, adv)
	}
	if err != nil { // login, status and logout print their failures here: with the advice, as the bridge shows them
		fmt.Fprintln(env.Stderr, "meshai-mcp-server:", adv.with(err))
		return 1
	}
	return 0
}

// serve relays stdio to the remote server until the client goes away.
func serve(ctx context.Context, cfg Config, env Env, adv adviser) error {
	log, closeLog := openConfigLog(cfg, env.Stderr)
	defer closeLog()
	roots, err := rootCAs(cfg.CAFiles)
	if err != nil {
		return err
	}
	hc := remote.NewHTTPClientWithRoots(roots)
	stdin, stdout := pollableStdio(env.Stdin, env.Stdout)
	for _, f := range []any{stdin, stdout} {
		if f, ok := f.(*os.File); ok {
			growPipe(f)
		}
	}
	out := bridge.NewWriter(stdout)
	budget := membudget.New(cfg.MaxMemory)
	limitMemory(cfg.MaxMemory, env.Getenv)
	relay := &bridge.Relay{In: stdin, Out: out, Log: log, IgnoreTools: cfg.IgnoreTools, IgnoreReason: "hidden by --ignore-tool",
		ServerName: serverName(cfg), Version: Version, SignInWait: cfg.SignInWait,
		Budget: budget, LimitAdvice: "raise --max-memory (env " + config.EnvMaxMemory + ")"}
	var (
		token     oauth2.TokenSource
		relocated func(*url.URL)
	)
	if key := env.Getenv(config.EnvAPIKey); key != "" {
		if token, err = auth.APIKey(key); err != nil {
			return err
		}
	} else {
		si := newSignIn(cfg, env, log, hc)
		token = advisingSignIn{si, adv}
		relay.SignIn = signInView{si, adv}
		relocated = si.Relocate
		go si.KeepFresh(ctx)
	}
	log.Info("meshai-mcp-server starting", "version", Version, "url", cfg.URL.Redacted(), "transport", cfg.Mode,
		"api_key", env.Getenv(config.EnvAPIKey) != "", "extra_headers", len(cfg.Header), "ignored_tools", len(cfg.IgnoreTools))
	relay.Up = remote.New(remote.Options{
		URL:          cfg.URL,
		Mode:         cfg.Mode,
		HTTPClient:   hc,
		StallTimeout: cfg.StallTimeout,
		Header:       cfg.Header,
		Token:        token,
		Deliver:      relay.Deliver,
		Relocated:    relocated,
		Advise:       adv.upstream,
		Logger:       log,
		Budget:       budget,
	})
	err = relay.Run(ctx)
	log.Info("meshai-mcp-server stopped")
	return err
}

// limitMemory sets the Go runtime's soft memory limit from the message budget, unless GOMEMLIMIT does: the
// collector then frees a message's buffers before the heap grows far past what is held, rather than at twice
// the live heap. A message being joined from its blocks briefly counts twice, hence twice the budget.
func limitMemory(budget int64, getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2*budget + 32<<20)
	}
}

// serverName names the server in what the bridge tells the user: MeshAI for its own endpoint, else the host.
func serverName(cfg Config) string {
	if def, _ := url.Parse(config.DefaultURL); strings.EqualFold(cfg.URL.Host, def.Host) {
		return "MeshAI"
	}
	return cfg.URL.Hostname()
}
