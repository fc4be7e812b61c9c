package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// clientInfo is a client.json, as mcp-remote's --static-oauth-client-info takes it (RFC 7591 client information):
// the fields the bridge honours. Others (client_name, grant_types, scope, client_id_issued_at, …) are ignored.
type clientInfo struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
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
	var info clientInfo
	if err := json.Unmarshal([]byte(expanded), &info); err != nil || info.ClientID == "" {
		return errors.New(`expected {"client_id": "...", "client_secret": "...", "redirect_uris": [...], "token_endpoint_auth_method": "..."} (all but client_id optional)`)
	}
	switch m := info.TokenEndpointAuthMethod; {
	case m != "" && m != oauth.AuthNone && m != oauth.AuthBasic && m != oauth.AuthPost:
		return fmt.Errorf("token_endpoint_auth_method %q is not supported: use none, client_secret_basic or client_secret_post", m)
	case m == oauth.AuthNone && info.ClientSecret != "":
		return errors.New("token_endpoint_auth_method none goes with no client_secret: drop one of them")
	case (m == oauth.AuthBasic || m == oauth.AuthPost) && info.ClientSecret == "":
		return fmt.Errorf("token_endpoint_auth_method %s needs the client_secret", m)
	}
	cfg.ClientID, cfg.ClientSecret = info.ClientID, info.ClientSecret
	cfg.clientFlags = " --static-oauth-client-info '<the same JSON>'"
	if path, ok := strings.CutPrefix(v, "@"); ok {
		cfg.clientFlags = " --static-oauth-client-info " + quoteArg("@"+path)
	}
	cfg.ClientAuthMethod, cfg.ClientRedirects = info.TokenEndpointAuthMethod, info.RedirectURIs
	return nil
}

// flagsSet returns the names of the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// applyClientRedirect makes the sign-in's callback the client.json's loopback redirect URI: its host, port and
// path, each unless given explicitly (--host, --callback-port or the positional port, --callback-path). A file
// whose redirect URIs have no loopback http one cannot sign in through the browser here.
func applyClientRedirect(cfg *Config, set map[string]bool) error {
	if len(cfg.ClientRedirects) == 0 {
		return nil
	}
	u := loopbackRedirect(cfg.ClientRedirects)
	if u == nil {
		if cfg.DeviceCode {
			return nil
		}
		return fmt.Errorf("--static-oauth-client-info: none of its redirect_uris (%s) is a loopback http URI the sign-in can listen on, "+
			"such as http://localhost:8080/oauth/callback: run `meshai-mcp-server doctor%s %s`, which checks what the server offers and names the one fix it allows",
			strings.Join(cfg.ClientRedirects, ", "), cfg.clientFlags, quoteArg(cfg.URL.Redacted()))
	}
	if !set["host"] {
		cfg.CallbackHost = u.Hostname()
	}
	if p := u.Port(); p != "" && !set["callback-port"] && cfg.CallbackPort == 0 {
		cfg.CallbackPort, _ = strconv.Atoi(p)
	}
	if !set["callback-path"] {
		cfg.CallbackPath = u.EscapedPath()
		if cfg.CallbackPath == "" {
			cfg.CallbackPath = "/"
		}
	}
	return nil
}

// loopbackRedirect returns the first of uris that is http on 127.0.0.1, localhost or ::1 (with a port, or
// without one: then the sign-in picks it), without a query or fragment; nil when none is.
func loopbackRedirect(uris []string) *url.URL {
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			continue
		}
		if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
			continue
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				continue
			}
		}
		return u
	}
	return nil
}

// checkEndpoints checks the endpoints set by hand: --authorization-url and --token-url go together, and
// --registration-url only with them; each is https (http on a loopback host).
func checkEndpoints(cfg *Config) error {
	switch {
	case cfg.AuthorizationURL == "" && cfg.TokenURL == "" && cfg.RegistrationURL == "":
		return nil
	case cfg.AuthorizationURL == "" || cfg.TokenURL == "":
		return errors.New("--authorization-url and --token-url go together (--registration-url is optional): give both, or neither to discover them")
	}
	for _, e := range []struct{ flag, v string }{{"authorization-url", cfg.AuthorizationURL}, {"token-url", cfg.TokenURL}, {"registration-url", cfg.RegistrationURL}} {
		if e.v == "" {
			continue
		}
		u, err := oauth.ValidateEndpointURL(e.v)
		if err != nil {
			return fmt.Errorf("--%s: %w", e.flag, err)
		}
		if u.Scheme == "http" && !netutil.IsLoopback(u.Hostname()) {
			return fmt.Errorf("--%s: plain http is allowed only on a loopback host", e.flag)
		}
	}
	return nil
}
