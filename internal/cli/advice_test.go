package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// adviceCase is one error and the advice it must get ("" for none).
type adviceCase struct {
	name string
	err  error
	want string // a text the advice holds; "" means no advice
}

// adviceCases are every kind of fact advise knows, from the reference server where it can produce them.
func adviceCases(t *testing.T) []adviceCase {
	t.Helper()
	return []adviceCase{
		{"no OAuth at all", signInError(t, devserver.FaultAPIKeyOnly),
			`this server takes an API key, not a sign-in: set MESHAI_API_KEY in the MCP client's config for this server (or pass --header "Authorization: Bearer …")`},
		{"no OAuth, wrapped", fmt.Errorf("sign-in: %w", &oauth.NoOAuthError{Server: "https://x"}), "set MESHAI_API_KEY"},
		{"challenge at the token endpoint", refreshError(t, devserver.FaultCloudflareToken),
			"Cloudflare's bot protection stops API clients at the token endpoint and no client can pass its browser check: ask the server's operator"},
		{"challenge at a metadata URL", fmt.Errorf("discover: %w", &oauth.ChallengeError{URL: "https://x/.well-known/oauth-protected-resource", Status: 403, Vendor: "Cloudflare"}),
			"at https://x/.well-known/oauth-protected-resource and no client"},
		{"denied in the browser", fmt.Errorf("sign-in did not complete: %w", &auth.AuthorizationError{Code: "access_denied", Description: "The user denied the request"}),
			"the sign-in was refused in the browser; call the meshai_sign_in tool (or run `meshai-mcp-server login`) to try again"},
		{"state expired, no iss", &auth.AuthorizationError{Code: "access_denied", Description: "OAUTH_STATE_EXPIRED", MissingIss: true}, "to try again"},
		{"server error", &auth.AuthorizationError{Code: "temporarily_unavailable"}, "to try again in a moment"},
		{"bad request", &auth.AuthorizationError{Code: "invalid_scope"}, "refused the sign-in request itself (invalid_scope): ask the server's operator"},
		{"registration refuses the redirect URI", signInError(t, devserver.FaultRegistrationRejectsRedirect),
			"the server may accept other redirect URIs: try --callback-port, --host or --callback-path, or a client registered there, with --client-id"},
		{"registration answers without an OAuth error", fmt.Errorf("sign-in: %w", &oauth.RegistrationError{Endpoint: "https://as/register", Status: 404}),
			"pass --client-id (and --client-secret) of a client registered there"},
		{"registration refused in the server's words", &oauth.RegistrationError{Status: 400, Code: "invalid_client_metadata"}, ""},
		{"no registration", signInError(t, devserver.FaultNoRegistration), "pass --client-id (and --client-secret) of a client registered there"},
		{"no registration for the device grant", &auth.NoRegistrationError{Issuer: "https://as", Device: true},
			"pass --client-id of a client registered there for the device grant"},
		{"no device grant", &auth.NoDeviceGrantError{Issuer: "https://as"},
			"drop --device-code to sign in with a browser, or run `meshai-mcp-server login` on a machine that has one"},
		{"configured client refused", &auth.ClientRefusedError{ClientID: "mine", Configured: true},
			"check --client-id and --client-secret, and how the client authenticates (token_endpoint_auth_method in a --static-oauth-client-info file), or drop them to let the bridge register itself"},
		{"registration forgotten", fmt.Errorf("redeem the sign-in code: %w", &auth.ClientRefusedError{ClientID: "dyn"}), "to register and sign in anew"},
		{"browser too slow, met again later", &auth.FailedError{Err: &auth.TimeoutError{After: 2 * time.Second}},
			"for a new sign-in link, and finish in the browser within that time (raise --auth-timeout to allow more)"},
		{"browser never came back with an unused registration", &auth.FailedError{Err: &auth.TimeoutError{After: 2 * time.Second, StaleClientID: "dyn"}},
			"call the meshai_sign_in tool (or run `meshai-mcp-server login`) to try again"},
		{"code exchange rate limited", fmt.Errorf("redeem the sign-in code: %w", &auth.CodeRateLimitedError{Until: time.Date(2026, 1, 2, 9, 34, 18, 0, time.UTC), Err: errors.New("429")}),
			"after 09:34:18 UTC, call the meshai_sign_in tool (or run `meshai-mcp-server login`) for a new sign-in link"},
		{"code exchange rate limited, no end named", &auth.FailedError{Err: &auth.CodeRateLimitedError{Err: errors.New("429")}},
			"once the server's wait is over, call the meshai_sign_in tool"},
		{"a pre-registered client's port is taken", &auth.CallbackPortBusyError{Port: 8080, ClientID: "sigil"},
			"stop the program listening on port 8080, or register another loopback redirect URI for the client and use its port (--callback-port"},
		{"browser never came back to a pre-registered client's redirect", &auth.TimeoutError{After: time.Second, ClientID: "sigil", RedirectURI: "http://127.0.0.1:5/callback"},
			"register http://127.0.0.1:5/callback as a redirect URI of client_id sigil at the authorization server, or make the bridge use one the client has registered: --callback-port, --host and --callback-path"},
		{"stored sign-in unreadable", fmt.Errorf("the stored sign-in for https://x is unreadable: %w", credstore.ErrUnreadable),
			"to start clean, run `meshai-mcp-server logout`, then call the meshai_sign_in tool"},
		{"sign-in required", fmt.Errorf("%w (invalid_grant)", auth.ErrSignInRequired), "sign in: call the meshai_sign_in tool (or run `meshai-mcp-server login`)"},
		{"keychain does not answer", fmt.Errorf("OS keychain: read x: %w", &credstore.KeychainError{Timeout: 3 * time.Second}),
			"unlock the OS keychain (or set one up), or keep the tokens in files: --token-store file (MESHAI_TOKEN_STORE=file)"},
		{"no such token store", openError(t, "vault"), "choose auto, keychain or file with --token-store or MESHAI_TOKEN_STORE"},
		{"empty API key", apiKeyError(t, " \n"), "set MESHAI_API_KEY to your API key, or unset it to sign in"},
		{"API key with a line break inside", apiKeyError(t, "sk-1\nsk-2"), "copy the key into MESHAI_API_KEY again"},
		{"token refused as JSON", &oauth.TokenError{Status: 400, Code: "invalid_grant"}, ""},
		{"plain error", errors.New("boom"), ""},
		{"nil", nil, ""},
	}
}

func TestAdvise(t *testing.T) {
	for _, c := range adviceCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := advise(c.err)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("advise(%v) = %q, want it to hold %q", c.err, got, c.want)
			}
		})
	}
}

// signInError is what a sign-in against the reference server with fault f ends with.
func signInError(t *testing.T, f devserver.Fault) error {
	t.Helper()
	r, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, APIKey: "k", Faults: []devserver.Fault{f}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	dir := t.TempDir()
	store, _, err := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(r.URL + "/v1/mcp")
	s := &auth.SignIn{ServerURL: u, ConfigDir: dir, Store: store, BrowserCommand: auth.NoBrowser, Stderr: io.Discard}
	err = s.Login(t.Context(), nil, nil)
	if err == nil {
		t.Fatalf("sign-in against %s succeeded", f)
	}
	return err
}

// openError is what opening a token store of the given kind ends with.
func openError(t *testing.T, kind string) error {
	t.Helper()
	_, _, err := credstore.Open(context.Background(), kind, t.TempDir(), 0)
	if err == nil {
		t.Fatalf("opening a %q store succeeded", kind)
	}
	return err
}

// apiKeyError is what auth.APIKey says of key.
func apiKeyError(t *testing.T, key string) error {
	t.Helper()
	_, err := auth.APIKey(key)
	if err == nil {
		t.Fatalf("the API key %q was taken", key)
	}
	return err
}

// refreshError is what a refresh at the reference server's token endpoint with fault f ends with.
func refreshError(t *testing.T, f devserver.Fault) error {
	t.Helper()
	r, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, Faults: []devserver.Fault{f}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	tc := &oauth.TokenClient{TokenURL: r.URL + "/oauth/token", ClientID: "c"}
	_, err = tc.Refresh(t.Context(), "a-refresh-token")
	if err == nil {
		t.Fatalf("refresh against %s succeeded", f)
	}
	return err
}

// Each failure remote reports with a cause gets the advice that names the flag or variable to change.
func TestAdviseUpstream(t *testing.T) {
	for _, tc := range []struct {
		cause remote.Cause
		want  string
	}{
		{remote.CauseCredentials, "MESHAI_API_KEY"},
		{remote.CausePlainHTTP, "--allow-http"},
		{remote.CauseUnknownAuthority, "--ca-file"},
		{remote.CauseTimeout, "HTTPS_PROXY"},
		{remote.CauseStall, "--stall-timeout"},
		{remote.CauseOther, ""},
	} {
		got := adviseUpstream(&remote.UpstreamError{Message: "m", Cause: tc.cause})
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("cause %d: advice %q, want it to name %q", tc.cause, got, tc.want)
		}
	}
}

// login, status and logout print their failures with the advice, as serving does: auth's facts, then what to do.
func TestCommandsPrintAdvice(t *testing.T) {
	r, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, Faults: []devserver.Fault{devserver.FaultNoRegistration}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	const nowhere = "https://mcp.example.invalid/v1/mcp" // never asked: each failure comes before any request
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string // the fact, then the advice
	}{
		{"login, no registration", []string{"login", r.URL + "/v1/mcp"}, nil,
			[]string{"offers no dynamic registration, and no client is configured: pass --client-id (and --client-secret)"}},
		{"status, no such store", []string{"status", "--token-store", "vault", nowhere}, nil,
			[]string{`unknown token store "vault": the kinds are auto, keychain and file: choose auto, keychain or file with --token-store`}},
		{"logout, no such store", []string{"logout", nowhere}, map[string]string{config.EnvTokenStore: "vault"},
			[]string{`forget the sign-in: unknown token store "vault"`, "with --token-store or MESHAI_TOKEN_STORE"}},
		{"serve, API key with a space inside", []string{nowhere}, map[string]string{config.EnvAPIKey: "sk 1"},
			[]string{"the API key contains spaces or control characters: copy the key into MESHAI_API_KEY again"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{config.EnvConfigDir: t.TempDir(), config.EnvTokenStore: credstore.KindFile}
			for k, v := range tc.env {
				m[k] = v
			}
			var out, errOut strings.Builder
			code := Main(Env{Args: tc.args, Getenv: env(m), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			for _, want := range tc.want {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
		})
	}
}

// When the keychain fails and the tokens go to files, the warning says how to choose the store. The session bus
// named here does not exist, so on Linux the keychain fails; where a keychain needs no bus, it answers instead.
func TestKeychainFallbackWarningAdvises(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	var stderr strings.Builder
	store := lazyStore(Config{TokenStore: credstore.KindAuto, ConfigDir: t.TempDir()}, Env{Stderr: &stderr})
	kind := store.Kind()
	warned := stderr.String()
	t.Logf("store %s, warning %q", kind, warned)
	switch kind {
	case credstore.KindFile:
		if !strings.Contains(warned, "0600 files in ") || !strings.HasSuffix(warned, keychainFallbackAdvice+"\n") {
			t.Errorf("the file store was chosen with the warning %q; want where the tokens are, then %q", warned, keychainFallbackAdvice)
		}
	case credstore.KindKeychain:
		if warned != "" {
			t.Errorf("the keychain answered, yet a warning was printed: %q", warned)
		}
	default:
		t.Errorf("store kind %q", kind)
	}
}
