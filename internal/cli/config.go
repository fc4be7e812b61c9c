package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// DefaultURL is MeshAI's MCP endpoint, used when neither an argument nor MESHAI_MCP_URL names one.
const DefaultURL = "https://auth.meshai.dev/v1/mcp"

// Environment variables the bridge reads.
const (
	EnvURL       = "MESHAI_MCP_URL"
	EnvConfigDir = "MESHAI_CONFIG_DIR"
)

// Config is what the command line and environment ask for.
type Config struct {
	URL       *url.URL
	Header    http.Header
	Mode      remote.Mode
	Debug     bool
	AllowHTTP bool
	ConfigDir string
	Version   bool

	// Sign-in (OAuth); unused when MESHAI_API_KEY is set.
	TokenStore        string
	ClientID          string
	ClientSecret      string
	ClientMetadataURL string
	CallbackPort      int
	BrowserCommand    string
	AuthTimeout       time.Duration
}

// headerList collects repeated --header flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// parseServe reads `[flags] [URL]`; flags may come before or after the URL, as with mcp-remote.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("meshai-mcp-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        Config
		headers    headerList
		headerFile string
		transport  string
	)
	fs.Var(&headers, "header", "extra HTTP header `\"Name: value\"` for every request (repeatable; ${VAR} is expanded)")
	fs.StringVar(&headerFile, "header-file", "", "read headers from `PATH`, one \"Name: value\" per line")
	fs.StringVar(&transport, "transport", string(remote.HTTPFirst), "http-first, sse-first, http-only or sse-only")
	fs.BoolVar(&cfg.Debug, "debug", false, "verbose log on stderr")
	fs.BoolVar(&cfg.AllowHTTP, "allow-http", false, "allow a plain-http URL on a host that is not loopback")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and exit")
	fs.StringVar(&cfg.TokenStore, "token-store", getenv(auth.EnvTokenStore), "where tokens are kept: auto, keychain or file (env "+auth.EnvTokenStore+")")
	fs.StringVar(&cfg.ClientID, "client-id", "", "a client pre-registered at the authorization server (skips registration)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "its secret, if it has one")
	fs.StringVar(&cfg.ClientMetadataURL, "client-metadata-url", "", "an https `URL` serving this client's ID metadata document, used as client_id where the server supports it")
	fs.Func("static-oauth-client-info", "pre-registered client as JSON {\"client_id\":…, \"client_secret\":…} or @file (as mcp-remote)", func(v string) error {
		return readClientInfo(v, getenv, &cfg)
	})
	fs.IntVar(&cfg.CallbackPort, "callback-port", 0, "pin the loopback port of the sign-in redirect (default: stable per server)")
	fs.StringVar(&cfg.BrowserCommand, "browser-command", "", "open the sign-in URL with this `command` (the URL is appended; default $BROWSER, else the system browser)")
	fs.BoolFunc("no-browser", "print the sign-in URL on stderr and open nothing (headless machines)", func(string) error {
		cfg.BrowserCommand = auth.NoBrowser
		return nil
	})
	fs.DurationVar(&cfg.AuthTimeout, "auth-timeout", 300*time.Second, "how long to wait for the browser sign-in")
	fs.Usage = func() { usage(fs) }
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return cfg, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if cfg.Version {
		return cfg, nil
	}
	if len(positional) > 1 {
		return cfg, fmt.Errorf("expected at most one URL, got %q", positional)
	}
	raw := getenv(EnvURL)
	if len(positional) == 1 {
		raw = positional[0]
	}
	if raw == "" {
		raw = DefaultURL
	}
	var err error
	if cfg.URL, err = checkURL(raw, cfg.AllowHTTP); err != nil {
		return cfg, err
	}
	if cfg.Mode, err = remote.ParseMode(transport); err != nil {
		return cfg, err
	}
	if cfg.Header, err = buildHeaders(headers, headerFile, getenv); err != nil {
		return cfg, err
	}
	cfg.ConfigDir, err = configDir(getenv)
	return cfg, err
}

// checkURL accepts https, and http only on a loopback host or with --allow-http.
func checkURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an http(s) URL: give the full MCP endpoint, e.g. %s", raw, DefaultURL)
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing plain http to %s: tokens would travel unencrypted; use https, or pass --allow-http if you must", u.Host)
	}
	u.Fragment = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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

// configDir is MESHAI_CONFIG_DIR, else the OS user config directory + /meshai-mcp-server.
func configDir(getenv func(string) string) (string, error) {
	if d := getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", errors.New("no config directory: set " + EnvConfigDir + " (or HOME)")
	}
	return filepath.Join(base, "meshai-mcp-server"), nil
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), `meshai-mcp-server relays a desktop MCP client's stdio to a remote MCP server over HTTP.

Usage:
  meshai-mcp-server [flags] [URL]   serve stdio (URL: argument, else $%s, else %s)
  meshai-mcp-server login [URL]     sign in now, in the browser
  meshai-mcp-server status [URL]    show the stored sign-in
  meshai-mcp-server logout [URL]    forget the stored sign-in
  meshai-mcp-server demo            run the bridge against a built-in MeshAI reference server and show the exchange
  meshai-mcp-server version         print the version

Environment:
  MESHAI_API_KEY     sent as "Authorization: Bearer <key>"; no sign-in then
  %s  config and log directory

Flags:
`, EnvURL, DefaultURL, EnvConfigDir)
	fs.PrintDefaults()
}

// readClientInfo reads --static-oauth-client-info: JSON, or @file holding JSON, with ${VAR} expanded.
func readClientInfo(v string, getenv func(string) string, cfg *Config) error {
	raw := []byte(v)
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("client info file: %w", err)
		}
		raw = b
	}
	expanded := envRef.ReplaceAllStringFunc(string(raw), func(ref string) string { return getenv(ref[2 : len(ref)-1]) })
	var info struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(expanded), &info); err != nil || info.ClientID == "" {
		return errors.New(`expected {"client_id": "...", "client_secret": "..."} (client_secret optional)`)
	}
	cfg.ClientID, cfg.ClientSecret = info.ClientID, info.ClientSecret
	return nil
}
