package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// defaultMaxMemory is --max-memory's default: four answers of 64 MiB at once, or two of 128 MiB.
const defaultMaxMemory = 256 << 20

// headerList collects repeated --header flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// serveArgs are the flags of serving (and of login, status and logout) that parseServe reads further.
type serveArgs struct {
	headers    headerList
	headerFile string
	transport  string
}

// serveFlagSet is the flag set of serving, login, status and logout; parsing fills cfg and a. Every flag a
// message names must be in it or in doctorFlagSet (TestMessagesNameRealFlags).
func serveFlagSet(cfg *Config, a *serveArgs, getenv func(string) string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("meshai-mcp-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&a.headers, "header", "extra HTTP header `\"Name: value\"` for every request (repeatable; ${VAR} is expanded)")
	fs.StringVar(&a.headerFile, "header-file", "", "read headers from `PATH`, one \"Name: value\" per line")
	fs.StringVar(&a.transport, "transport", string(remote.HTTPFirst), "http-first, sse-first, http-only or sse-only")
	fs.BoolVar(&cfg.Debug, "debug", false, "verbose log on stderr")
	fs.BoolVar(&cfg.AllowHTTP, "allow-http", false, "allow a plain-http URL on a host that is not loopback")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and exit")
	fs.StringVar(&cfg.TokenStore, "token-store", getenv(config.EnvTokenStore), "where tokens are kept: auto, keychain or file (env "+config.EnvTokenStore+")")
	clientFlags(fs, cfg, getenv)
	signInFlags(fs, cfg)
	fs.Func("browser-command", "open the sign-in URL with this `command`, split into words as a shell does (quotes, backslashes) but run without a shell and with nothing expanded; the URL is appended as the last argument (default $BROWSER, else the system browser)", func(v string) error {
		return setBrowserCommand(v, cfg)
	})
	fs.BoolFunc("no-browser", "print the sign-in URL on stderr and open nothing (headless machines)", func(string) error {
		cfg.BrowserCommand = auth.NoBrowser
		return nil
	})
	cfg.AuthTimeout = defaultAuthTimeout
	fs.Func("auth-timeout", "how long to wait for the browser sign-in: a duration (`90s`, 5m) or seconds, as mcp-remote (default 5m0s)", func(v string) error {
		return parseSeconds(v, &cfg.AuthTimeout)
	})
	cfg.SignInWait = 5 * time.Second
	fs.Func("sign-in-wait", "how long the client's initialize waits for a sign-in before the bridge completes the handshake itself and offers the meshai_sign_in tool (default 5s)", func(v string) error {
		return parseSeconds(v, &cfg.SignInWait)
	})
	cfg.StallTimeout = 5 * time.Minute
	fs.Func("stall-timeout", "give up on an answer that carries no complete message for this long: a duration or seconds (default 5m0s)", func(v string) error {
		return parseSeconds(v, &cfg.StallTimeout)
	})
	cfg.MaxMemory = defaultMaxMemory
	if v := getenv(config.EnvMaxMemory); v != "" {
		cfg.MaxMemory = -1 // not a size: parseServe says so unless --max-memory overrides it
		if n, err := membudget.ParseSize(v); err == nil {
			cfg.MaxMemory = n
		}
	}
	fs.Func("max-memory", "bytes of messages the bridge holds at once, all streams together (`SIZE`: 256MiB, 1GiB); one message may be half of it (env "+
		config.EnvMaxMemory+"; default 256MiB)", func(v string) error {
		n, err := membudget.ParseSize(v)
		cfg.MaxMemory = n
		return err
	})
	fs.StringVar(&cfg.Resource, "resource", "", "the RFC 8707 resource `URI` to ask tokens for (default: the server URL); also keeps its sign-in apart")
	fs.Func("scope", "the scopes to ask for, space-separated (`\"a b\"`), instead of the server's challenge or metadata (a 403 insufficient_scope still adds what it asks for)", func(v string) error {
		return parseScopes(v, &cfg.Scopes)
	})
	fs.Func("authorize-param", "extra authorization request parameter `k=v` (repeatable; e.g. audience=…, access_type=offline)", func(v string) error {
		return addAuthorizeParam(v, cfg)
	})
	fs.Func("static-oauth-client-metadata", "client metadata laid over the registration request: JSON {\"client_name\":…} or @file (as mcp-remote)", func(v string) error {
		return readClientMetadata(v, getenv, cfg)
	})
	fs.Func("ignore-tool", "hide tools matching `PATTERN` (* matches anything; case-insensitive) from tools/list and refuse their calls (repeatable)", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty pattern")
		}
		cfg.IgnoreTools = append(cfg.IgnoreTools, strings.TrimSpace(v))
		return nil
	})
	fs.BoolVar(&cfg.Silent, "silent", false, "write no log lines on stderr (the log file keeps them; the sign-in URL is still printed)")
	fs.BoolFunc("enable-proxy", "accepted for mcp-remote compatibility: HTTPS_PROXY, HTTP_PROXY and NO_PROXY are always honoured", func(string) error { return nil })
	fs.Func("ca-file", "also trust the CA certificates in this PEM `file` (repeatable; SSL_CERT_FILE and NODE_EXTRA_CA_CERTS are read too)", func(v string) error {
		cfg.CAFiles = append(cfg.CAFiles, v)
		return nil
	})
	fs.Usage = func() { usage(fs) }
	return fs
}

// clientFlags defines the flags of a pre-registered client and of endpoints set by hand, shared by serving and
// doctor: --client-id, --client-secret, --static-oauth-client-info, --authorization-url, --token-url and
// --registration-url. applyClientRedirect and checkEndpoints check them after parsing.
func clientFlags(fs *flag.FlagSet, cfg *Config, getenv func(string) string) {
	fs.StringVar(&cfg.ClientID, "client-id", "", "a client pre-registered at the authorization server (skips registration)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "its secret, if it has one")
	fs.Func("static-oauth-client-info", "pre-registered client as JSON {\"client_id\":…, \"client_secret\":…, \"redirect_uris\":[…], \"token_endpoint_auth_method\":…} or @file (as mcp-remote); its loopback redirect URI sets the callback's host, port and path", func(v string) error {
		return readClientInfo(v, getenv, cfg)
	})
	fs.StringVar(&cfg.AuthorizationURL, "authorization-url", "", "the authorization endpoint `URL`, for a server that publishes no OAuth metadata (with --token-url)")
	fs.StringVar(&cfg.TokenURL, "token-url", "", "the token endpoint `URL`, for a server that publishes no OAuth metadata (with --authorization-url)")
	fs.StringVar(&cfg.RegistrationURL, "registration-url", "", "the dynamic registration endpoint `URL`, with --authorization-url and --token-url (optional: else give --client-id)")
}

// signInFlags defines the flags that shape the sign-in, shared by serving and doctor: --client-metadata-url,
// --callback-port, --host, --callback-path and --device-code. checkSignInFlags checks them after parsing.
func signInFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.ClientMetadataURL, "client-metadata-url", "", "an https `URL` serving this client's ID metadata document, used as client_id where the server supports it")
	fs.IntVar(&cfg.CallbackPort, "callback-port", 0, "pin the loopback port of the sign-in redirect (default: stable per server)")
	fs.StringVar(&cfg.CallbackHost, "host", "127.0.0.1", "host name of the sign-in redirect: 127.0.0.1, localhost or ::1")
	fs.StringVar(&cfg.CallbackPath, "callback-path", auth.CallbackPath, "`path` of the sign-in redirect (mcp-remote uses /oauth/callback)")
	fs.BoolVar(&cfg.DeviceCode, "device-code", false, "sign in with a code shown on stderr, entered on any device (RFC 8628): for machines with no browser")
}

// usage prints the help of serving, login, status and logout: the commands, the variables and the flags.
func usage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), `meshai-mcp-server relays a desktop MCP client's stdio to a remote MCP server over HTTP.

Usage:
  meshai-mcp-server [flags] [URL]   serve stdio (URL: argument, else $%s, else %s)
  meshai-mcp-server login [URL]     sign in now, in the browser
  meshai-mcp-server status [URL]    show the stored sign-in
  meshai-mcp-server logout [URL]    forget the stored sign-in
  meshai-mcp-server doctor [URL]    check config, network, TLS, the server's OAuth setup and the stored sign-in
  meshai-mcp-server install [URL]   add this server to the desktop clients found here (install -h: --client, --dry-run, …)
  meshai-mcp-server uninstall       remove it from them again
  meshai-mcp-server version         print the version

Environment:
  %s     sent as "Authorization: Bearer <key>"; no sign-in then
  %s  directory of tokens, locks and the log

Flags:
`, config.EnvURL, config.DefaultURL, config.EnvAPIKey, config.EnvConfigDir)
	fs.PrintDefaults()
}

// setBrowserCommand checks that --browser-command splits into words, so a stray quote fails at start-up, not at
// the first sign-in. An empty value is the default: $BROWSER, else the system browser.
func setBrowserCommand(v string, cfg *Config) error {
	if v != "" {
		argv, err := auth.SplitCommand(v)
		var ce *auth.CommandError
		switch {
		case errors.As(err, &ce):
			return fmt.Errorf("%s; --browser-command is split into words as a shell splits them (quotes and backslashes) but runs without one, so nothing is expanded: fix the quoting, put a literal $, ~ or {} in '…', or run a shell yourself: sh -c '…'", ce.Reason)
		case err != nil:
			return err
		case len(argv) == 0:
			return errors.New("it names no program: leave --browser-command out to use $BROWSER or the system browser")
		}
	}
	cfg.BrowserCommand = v
	return nil
}
