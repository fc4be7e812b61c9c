package cli

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// Config is what the command line and environment ask for.
type Config struct {
	URL       *url.URL
	Header    http.Header
	Mode      remote.Mode
	Debug     bool
	AllowHTTP bool
	ConfigDir string // where tokens, locks and the log are kept (config.ResolveDir)
	// RoamingDir is, on Windows, the %AppData% directory of earlier versions, moved to ConfigDir when a
	// command starts (settleConfigDir).
	RoamingDir string
	Version    bool

	// Sign-in (OAuth); unused when MESHAI_API_KEY is set.
	TokenStore        string
	ClientID          string
	ClientSecret      string
	ClientMetadataURL string
	CallbackPort      int
	BrowserCommand    string
	AuthTimeout       time.Duration
	Resource          string          // --resource: the RFC 8707 resource, instead of the URL's canonical form
	Scopes            []string        // --scope: the scopes to ask for, replacing the choice (oauth.ScopeRule)
	AuthorizeParams   url.Values      // --authorize-param k=v, added to the authorization request
	ClientMetadata    json.RawMessage // --static-oauth-client-metadata: fields laid over the registration request
	CallbackHost      string          // --host: the loopback redirect's host name
	CallbackPath      string          // --callback-path: the loopback redirect's path
	DeviceCode        bool            // --device-code: sign in with the device authorization grant (RFC 8628)
	SignInWait        time.Duration   // how long initialize waits for a sign-in before the bridge answers it

	// From a client.json (--static-oauth-client-info): its token_endpoint_auth_method ("" lets the sign-in choose)
	// and its redirect_uris, whose loopback one sets the callback (applyClientRedirect).
	ClientAuthMethod string
	ClientRedirects  []string
	// clientFlags is --static-oauth-client-info as a command names it again (loginCommand): the @file as given,
	// an inline JSON as a placeholder, since it may hold the secret.
	clientFlags string
	// Endpoints set by hand, for servers that publish no metadata (--authorization-url, --token-url, --registration-url).
	AuthorizationURL, TokenURL, RegistrationURL string

	StallTimeout time.Duration // --stall-timeout: how long an answer may carry no complete message
	MaxMemory    int64         // --max-memory: bytes of messages held at once; one message may be half of it

	IgnoreTools []string // --ignore-tool patterns
	Silent      bool     // --silent: no log lines on stderr (the log file keeps them)
	CAFiles     []string // --ca-file, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS: extra trusted CA certificates

	dirNote string // what settleConfigDir did, for the log
}

// parseInterleaved parses args with fs, flags before, between and after the positional arguments (as mcp-remote
// takes them), and returns the positional ones in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseServe reads `[flags] [URL]`; flags may come before or after the URL, as with mcp-remote.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var (
		cfg Config
		a   serveArgs
	)
	fs := serveFlagSet(&cfg, &a, getenv, stderr)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return cfg, err
	}
	if cfg.Version {
		return cfg, nil
	}
	if cfg.MaxMemory < 0 {
		_, err := membudget.ParseSize(getenv(config.EnvMaxMemory))
		return cfg, fmt.Errorf("%s: %w", config.EnvMaxMemory, err)
	}
	if len(positional) == 2 { // mcp-remote's `<url> [callback-port]`
		port, err := strconv.Atoi(positional[1])
		if err != nil || port < 1 || port > 65535 {
			return cfg, fmt.Errorf("%q after the URL is not a callback port (1-65535)", positional[1])
		}
		cfg.CallbackPort = port
		positional = positional[:1]
	}
	if len(positional) > 1 {
		return cfg, fmt.Errorf("expected a URL and at most a callback port, got %q", positional)
	}
	raw := getenv(config.EnvURL)
	if len(positional) == 1 {
		raw = positional[0]
	}
	if raw == "" {
		raw = config.DefaultURL
	}
	if cfg.URL, err = checkURL(raw, cfg.AllowHTTP); err != nil {
		return cfg, err
	}
	if cfg.Mode, err = remote.ParseMode(a.transport); err != nil {
		return cfg, err
	}
	if cfg.Header, err = buildHeaders(a.headers, a.headerFile, getenv); err != nil {
		return cfg, err
	}
	if err = applyClientRedirect(&cfg, flagsSet(fs)); err != nil {
		return cfg, err
	}
	if err = checkEndpoints(&cfg); err != nil {
		return cfg, err
	}
	if err = checkSignInFlags(&cfg); err != nil {
		return cfg, err
	}
	if cfg.Resource != "" {
		if u, err := url.Parse(cfg.Resource); err != nil || !u.IsAbs() || u.Fragment != "" {
			return cfg, fmt.Errorf("--resource %q: expected an absolute URI without a fragment (RFC 8707)", cfg.Resource)
		}
	}
	cfg.CAFiles = caFilesFromEnv(runtime.GOOS, getenv, cfg.CAFiles)
	dir, err := config.ResolveDir(getenv)
	if err != nil {
		return cfg, fmt.Errorf("%w; set %s to a writable directory", err, config.EnvConfigDir)
	}
	cfg.ConfigDir, cfg.RoamingDir = dir.Path, dir.Roaming
	return cfg, nil
}

// settleConfigDir moves, on Windows, the roaming directory of earlier versions to cfg.ConfigDir once (or keeps
// using it where the move fails), and returns the line to log about it, or "".
func settleConfigDir(cfg *Config) string {
	var note string
	cfg.ConfigDir, note = config.MoveRoaming(config.Dir{Path: cfg.ConfigDir, Roaming: cfg.RoamingDir})
	cfg.RoamingDir = ""
	return note
}

// caFilesFromEnv adds SSL_CERT_FILE and NODE_EXTRA_CA_CERTS to the --ca-file list, each file once. On Linux and
// the BSDs Go's own system pool already is SSL_CERT_FILE, so it is not read twice: parsing a 140-certificate
// bundle costs ~10 ms, and both variables often name the same bundle (scripts/bench measured 29 ms at start).
func caFilesFromEnv(goos string, getenv func(string) string, files []string) []string {
	system := ""
	if goos != "darwin" && goos != "windows" && goos != "ios" {
		system = filepath.Clean(getenv("SSL_CERT_FILE"))
	}
	for _, env := range []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"} {
		f := getenv(env)
		if f == "" || filepath.Clean(f) == system || slices.Contains(files, f) {
			continue
		}
		files = append(files, f)
	}
	return files
}

// checkURL accepts https, and http only on a loopback host or with --allow-http.
func checkURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an http(s) URL: give the full MCP endpoint, e.g. %s", raw, config.DefaultURL)
	}
	if u.Scheme == "http" && !allowHTTP && !netutil.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing plain http to %s: tokens would travel unencrypted; use https, or pass --allow-http if you must", u.Host)
	}
	u.Fragment = ""
	return u, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// headerName is an RFC 9110 token.
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// buildHeaders parses --header values and the --header-file, expanding ${VAR} from the environment.
func buildHeaders(flags []string, file string, getenv func(string) string) (http.Header, error) {
	lines := append([]string(nil), flags...)
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("header file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("header file %s: %w", file, err)
		}
	}
	h := http.Header{}
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if !ok || !headerName.MatchString(name) {
			return nil, fmt.Errorf("header %q: expected \"Name: value\"", redactHeader(l))
		}
		var missing []string
		value = envRef.ReplaceAllStringFunc(strings.TrimSpace(value), func(ref string) string {
			v := getenv(ref[2 : len(ref)-1])
			if v == "" {
				missing = append(missing, ref)
			}
			return v
		})
		if len(missing) > 0 {
			return nil, fmt.Errorf("header %s: %s not set in the environment", name, strings.Join(missing, ", "))
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("header %s: value contains a line break", name)
		}
		h.Add(name, value)
	}
	return h, nil
}

// redactHeader keeps a header's name only: its value may be a secret.
func redactHeader(l string) string {
	if name, _, ok := strings.Cut(l, ":"); ok {
		return name + ": …"
	}
	if len(l) > 12 {
		return l[:4] + "…"
	}
	return l
}
