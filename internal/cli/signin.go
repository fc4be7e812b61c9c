package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// scopeRule is how cfg's sign-in chooses scopes: --scope, else the challenge's, else MeshAI's documented scopes on
// its own servers (config.IsMeshAI), else the metadata's. doctor builds the same rule (doctor.Options.Scopes).
func scopeRule(cfg Config) oauth.ScopeRule {
	return oauth.ScopeRule{Fixed: cfg.Scopes, Preferred: config.PreferredScopes(cfg.URL.Hostname())}
}

// newSignIn prepares the OAuth side for cfg.URL. The token store opens on first use, so a start-up with no
// sign-in needed yet pays nothing for it.
func newSignIn(cfg Config, env Env, log *slog.Logger, hc *http.Client) *auth.SignIn {
	return &auth.SignIn{
		ServerURL:         cfg.URL,
		ConfigDir:         cfg.ConfigDir,
		Store:             lazyStore(cfg, env),
		HTTP:              hc,
		Scopes:            scopeRule(cfg),
		ClientID:          cfg.ClientID,
		ClientSecret:      cfg.ClientSecret,
		ClientAuthMethod:  cfg.ClientAuthMethod,
		AuthorizationURL:  cfg.AuthorizationURL,
		TokenURL:          cfg.TokenURL,
		RegistrationURL:   cfg.RegistrationURL,
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
		// The server's challenge, as serving meets it on the first request: the scopes it names come first.
		ch := oauth.FindBearer(oauth.ParseWWWAuthenticate(remote.Challenge(ctx, remote.Options{URL: si.Endpoint(), Mode: cfg.Mode,
			HTTPClient: hc, Header: cfg.Header, Logger: log})))
		if err := si.Login(ctx, ch, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "Signed in to %s. Desktop clients using meshai-mcp-server now connect without asking.\n", cfg.URL.Redacted())
	case "logout":
		if err := si.Logout(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "Signed out of %s: its tokens and registration are gone from the %s store. %s signs in again.\n",
			cfg.URL.Redacted(), si.Store.Kind(), loginCommand(cfg))
	case "status":
		st, err := si.Status(ctx)
		if err != nil {
			return err
		}
		if !st.SignedIn {
			fmt.Fprintf(out, "Not signed in to %s (token store: %s). Run %s, or just use it: the first request opens the sign-in.\n",
				cfg.URL.Redacted(), st.StoreKind, loginCommand(cfg))
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
