// Command meshai-dev-server runs the MeshAI reference MCP server: it prints its base URL as the first
// line of stdout, logs to stderr and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "meshai-dev-server:", err)
		os.Exit(1)
	}
}

// run parses flags, serves, and returns after a signal has shut the server down.
func run(args []string) error {
	fs := flag.NewFlagSet("meshai-dev-server", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on, host:port (port 0 picks a free one)")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer <key> on MCP requests")
	step := fs.Duration("step", 200*time.Millisecond, "pause between mesh_execute progress steps")
	oauth := fs.Bool("oauth", false, "serve an OAuth 2.1 authorization server and accept its access tokens on MCP requests")
	autoApprove := fs.Bool("auto-approve", false, "with --oauth: approve authorization requests at once, without the login page")
	tokenTTL := fs.Duration("access-token-ttl", 60*time.Minute, "with --oauth: access token lifetime")
	retryAfter := fs.Duration("retry-after", time.Second, "with a rate-limit-* --fault: the Retry-After of the 429 answers (rounded up to whole seconds)")
	scopes := fs.String("scopes-supported", "", "with --oauth: the protected resource metadata's scopes_supported, space-separated (e.g. \"openid profile email mcp:read mcp:execute mcp:manage\"); granted too")
	noChallengeScope := fs.Bool("no-challenge-scope", false, "with --oauth: the 401 challenge names no scope")
	var clients []devserver.Client
	fs.Func("client", "with --oauth: a client registered beforehand, as a client.json ({\"client_id\", \"client_secret\", \"token_endpoint_auth_method\", \"redirect_uris\"}) or @file (repeatable); its redirect URIs match exactly", func(v string) error {
		c, err := readClient(v)
		clients = append(clients, c)
		return err
	})
	var faults []devserver.Fault
	fs.Func("fault", "break the server on purpose, for testing clients and doctor (repeatable): "+faultNames(), func(v string) error {
		f, err := devserver.ParseFault(v)
		faults = append(faults, f)
		return err
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("parse flags: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := devserver.Listen(*listen, devserver.Config{APIKey: *apiKey, Step: *step, Logger: logger,
		OAuth: *oauth, AutoApprove: *autoApprove, AccessTokenTTL: *tokenTTL, Faults: faults,
		RetryAfter: *retryAfter, ScopesSupported: strings.Fields(*scopes), NoChallengeScope: *noChallengeScope, Clients: clients})
	if err != nil {
		return err
	}
	if _, err := fmt.Println(r.URL); err != nil {
		_ = r.Close()
		return fmt.Errorf("print URL: %w", err)
	}
	<-ctx.Done()
	logger.Info("shutting down", "signal", context.Cause(ctx))
	return r.Close()
}

// faultNames lists the names --fault takes.
func faultNames() string {
	names := make([]string, len(devserver.AllFaults))
	for i, f := range devserver.AllFaults {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// readClient reads a --client: a client.json as mcp-remote's --static-oauth-client-info takes it, or @file.
func readClient(v string) (devserver.Client, error) {
	raw := []byte(v)
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return devserver.Client{}, fmt.Errorf("client file: %w", err)
		}
		raw = b
	}
	var c struct {
		ID           string   `json:"client_id"`
		Secret       string   `json:"client_secret"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		RedirectURIs []string `json:"redirect_uris"`
		Name         string   `json:"client_name"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return devserver.Client{}, fmt.Errorf("client: %w", err)
	}
	return devserver.Client{ID: c.ID, Secret: c.Secret, AuthMethod: c.AuthMethod, RedirectURIs: c.RedirectURIs, Name: c.Name}, nil
}
