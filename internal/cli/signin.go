package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// meshaiScopes are requested from MeshAI when neither its challenge nor its metadata names scopes. Other servers
// get no scope parameter then, as the MCP spec asks.
var meshaiScopes = []string{"mcp:read", "mcp:execute"}

// defaultScopes returns meshaiScopes for MeshAI's own endpoint and none for any other server.
func defaultScopes(cfg Config) []string {
	if def, _ := url.Parse(config.DefaultURL); strings.EqualFold(cfg.URL.Host, def.Host) {
		return meshaiScopes
	}
	return nil
}

// newSignIn prepares the OAuth side for cfg.URL. The token store opens on first use, so a start-up with no
// sign-in needed yet pays nothing for it.
func newSignIn(cfg Config, env Env, log *slog.Logger, hc *http.Client) *auth.SignIn {
	return &auth.SignIn{
		ServerURL:         cfg.URL,
		ConfigDir:         cfg.ConfigDir,
		Store:             lazyStore(cfg, env),
		HTTP:              hc,
		DefaultScopes:     defaultScopes(cfg),
		ClientID:          cfg.ClientID,
		ClientSecret:      cfg.ClientSecret,
		ClientMetadataURL: cfg.ClientMetadataURL,
		ClientMetadata:    cfg.ClientMetadata,
		CallbackPort:      cfg.CallbackPort,
		CallbackHost:      cfg.CallbackHost,
		CallbackPath:      cfg.CallbackPath,
		DeviceCode:        cfg.DeviceCode,
		Resource:          cfg.Resource,
		AuthorizeParams:   cfg.AuthorizeParams,
		BrowserCommand:    cfg.BrowserCommand,
		AuthTimeout:       cfg.AuthTimeout,
		Stderr:            env.Stderr,
		Version:           Version,
		Log:               log,
	}
}

// account runs login, status or logout and prints what to do next.
func account(ctx context.Context, action string, cfg Config, env Env) error {
	log, closeLog := openConfigLog(cfg, env.Stderr)
	defer closeLog()
	roots, err := rootCAs(cfg.CAFiles)
	if err != nil {
		return err
	}
	hc := remote.NewHTTPClientWithRoots(roots)
	si := newSignIn(cfg, env, log, hc)
	if p := cfg.URL.Path; p == "" || p == "/" { // a bare origin: use the endpoint the bridge would find there
		if u := remote.FindEndpoint(ctx, remote.Options{URL: cfg.URL, Mode: cfg.Mode, HTTPClient: hc, Header: cfg.Header, Logger: log}); u != nil {
			si.Relocate(u)
		}
	}
	out := env.Stdout
	switch action {
	case "login":
		if err := si.Login(ctx, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "Signed in to %s. Desktop clients using meshai-mcp-server now connect without asking.\n", cfg.URL.Redacted())
	case "logout":
		if err := si.Logout(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "Signed out of %s: its tokens and registration are gone from the %s store. `meshai-mcp-server login` signs in again.\n",
			cfg.URL.Redacted(), si.Store.Kind())
	case "status":
		st, err := si.Status(ctx)
		if err != nil {
			return err
		}
		if !st.SignedIn {
			fmt.Fprintf(out, "Not signed in to %s (token store: %s). Run `meshai-mcp-server login %s`, or just use it: the first request opens the sign-in.\n",
				cfg.URL.Redacted(), st.StoreKind, cfg.URL.Redacted())
			return nil
		}
		expiry := "does not expire"
		if !st.Expiry.IsZero() {
			expiry = "expires " + st.Expiry.Local().Format(time.RFC1123)
		}
		refresh := "no refresh token: a new sign-in is needed when it expires"
		if st.Refresh {
			refresh = "refreshed automatically"
		}
		account := st.Account
		if account == "" {
			account = "(the server offers no userinfo)"
		}
		fmt.Fprintf(out, "Signed in to %s\n  account               %s\n  authorization server  %s\n  client                %s\n  scopes                %s\n  access token          %s (%s)\n  token store           %s\n",
			cfg.URL.Redacted(), account, st.Issuer, st.ClientID, strings.Join(st.Scopes, " "), expiry, refresh, st.StoreKind)
	}
	return nil
}

// lazyStore is the token store cfg asks for, opened on first use; its warning, if any, goes to stderr with the
// way to choose.
func lazyStore(cfg Config, env Env) credstore.Store {
	return credstore.OpenLazy(cfg.TokenStore, cfg.ConfigDir, 0, func(w string) { fmt.Fprintln(env.Stderr, w+keychainFallbackAdvice) })
}
