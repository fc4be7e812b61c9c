package cli

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// parseSeconds reads a duration ("90s", "5m") or, as mcp-remote takes it, a number of seconds.
func parseSeconds(v string, d *time.Duration) error {
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return errors.New("must be positive")
		}
		*d = time.Duration(n) * time.Second
		return nil
	}
	parsed, err := time.ParseDuration(v)
	if err != nil || parsed <= 0 {
		return fmt.Errorf("%q: give seconds (60) or a duration (90s, 5m)", v)
	}
	*d = parsed
	return nil
}

// reservedAuthorizeHints say, for a parameter the sign-in sets itself (oauth.ReservedParam), where its value
// comes from instead.
var reservedAuthorizeHints = map[string]string{
	"resource": " (use --resource)", "scope": " (use --scope)",
}

// parseScopes reads --scope: scopes separated by spaces (RFC 6749 §3.3), at least one.
func parseScopes(v string, scopes *[]string) error {
	s := oauth.UnionScopes(nil, strings.Fields(v))
	if len(s) == 0 {
		return errors.New(`expected scopes separated by spaces, e.g. "mcp:read mcp:execute"`)
	}
	for _, sc := range s {
		if strings.ContainsAny(sc, `"\\`) {
			return fmt.Errorf("scope %q: a scope cannot hold a quote or a backslash (RFC 6749 §3.3)", sc)
		}
	}
	*scopes = s
	return nil
}

// addAuthorizeParam reads one --authorize-param k=v.
func addAuthorizeParam(v string, cfg *Config) error {
	k, val, ok := strings.Cut(v, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q: expected key=value", v)
	}
	if oauth.ReservedParam(k) { // refused here, at parsing, rather than when a sign-in builds its request
		return fmt.Errorf("%s is set by the bridge and cannot be overridden%s", k, reservedAuthorizeHints[strings.ToLower(k)])
	}
	if cfg.AuthorizeParams == nil {
		cfg.AuthorizeParams = url.Values{}
	}
	cfg.AuthorizeParams.Add(k, val)
	return nil
}

// readClientMetadata reads --static-oauth-client-metadata: a JSON object, or @file holding one, ${VAR} expanded.
func readClientMetadata(v string, getenv func(string) string, cfg *Config) error {
	raw := []byte(v)
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("client metadata file: %w", err)
		}
		raw = b
	}
	expanded := envRef.ReplaceAllStringFunc(string(raw), func(ref string) string { return getenv(ref[2 : len(ref)-1]) })
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(expanded), &obj); err != nil {
		return errors.New(`expected a JSON object of client metadata, e.g. {"client_name": "My team's bridge"}`)
	}
	if _, ok := obj["redirect_uris"]; ok {
		return errors.New("redirect_uris is set by the bridge (its loopback redirect): use --host, --callback-path or the callback port instead")
	}
	cfg.ClientMetadata = json.RawMessage(expanded)
	return nil
}

// checkCallback accepts a loopback host name and an absolute path for the sign-in redirect.
// checkSignInFlags checks the flags of signInFlags, for serving and doctor alike.
func checkSignInFlags(cfg *Config) error {
	if err := checkCallback(cfg.CallbackHost, cfg.CallbackPath); err != nil {
		return err
	}
	if p := cfg.CallbackPort; p < 0 || p > 65535 {
		return fmt.Errorf("--callback-port %d: expected a port, 1-65535", p)
	}
	if doc := cfg.ClientMetadataURL; doc != "" {
		u, err := url.Parse(doc)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") == "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("--client-metadata-url %q: expected an https URL with a path and no fragment, where the client's metadata document is served (it is the client_id)", doc)
		}
	}
	return nil
}

func checkCallback(host, path string) error {
	switch strings.Trim(host, "[]") {
	case "127.0.0.1", "localhost", "::1":
	default:
		return fmt.Errorf("--host %q: the sign-in redirect must stay on this machine: use 127.0.0.1, localhost or ::1", host)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("--callback-path %q: expected a path such as /callback or /oauth/callback", path)
	}
	return nil
}

// rootCAs returns the system's trusted CAs plus those in files, or nil (the system's alone) when there are none.
func rootCAs(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate: export the CA as PEM (-----BEGIN CERTIFICATE-----)", f)
		}
	}
	return pool, nil
}
