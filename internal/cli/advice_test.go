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
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// adviceCase is one error and the advice it must get ("" for none).
type adviceCase struct {
	name string
	err  error
	want string // a text the advice holds; "" means no advice
}

// Advisers of the tests: a bridge serving an MCP client, and the login command in a terminal, each started for
// the same server; one with a client.json, one with --client-id and --client-secret.
var (
	served    = adviser{serving: true, login: "`meshai-mcp-server login https://mcp.example.com/mcp`"}
	commanded = adviser{login: "`meshai-mcp-server login https://mcp.example.com/mcp`"}
	withFile  = adviser{serving: true, clientFile: true}
	withFlags = adviser{serving: true}
)

// configuration is what a serving bridge adds to the fix of a cause in its configuration.
const configuration = " in this server's entry of the MCP client's configuration, then restart the MCP client (calling the meshai_sign_in tool again cannot help)"

// adviceCases are every kind of fact advise knows, from the reference server where it can produce them, as a
// serving bridge words them.
func adviceCases(t *testing.T) []adviceCase {
	t.Helper()
	limited := &ratelimit.Error{Endpoint: "https://as/oauth/token", Until: time.Date(2026, 1, 2, 9, 34, 17, 400, time.UTC), Status: 429, Wait: 30 * time.Second}
	return []adviceCase{
		{"no OAuth at all", signInError(t, devserver.FaultAPIKeyOnly),
			"this server takes an API key, not a sign-in: set MESHAI_API_KEY to your API key for it" + configuration},
		{"no OAuth, wrapped", fmt.Errorf("sign-in: %w", &oauth.NoOAuthError{Server: "https://x"}), "set MESHAI_API_KEY"},
		{"challenge at the token endpoint", refreshError(t, devserver.FaultCloudflareToken),
			"Cloudflare's bot protection stops API clients at the token endpoint and no client can pass its browser check: ask the server's operator to let API clients through there (a Cloudflare WAF skip rule for that path), then call the meshai_sign_in tool"},
		{"challenge at a metadata URL", fmt.Errorf("discover: %w", &oauth.ChallengeError{URL: "https://x/.well-known/oauth-protected-resource", Status: 403, Vendor: "Cloudflare"}),
			"at https://x/.well-known/oauth-protected-resource and no client"},
		{"denied in the browser", fmt.Errorf("sign-in did not complete: %w", &auth.AuthorizationError{Code: "access_denied", Description: "The user denied the request"}),
			"the sign-in was refused in the browser; call the meshai_sign_in tool to try again"},
		{"state expired, no iss", &auth.AuthorizationError{Code: "access_denied", Description: "OAUTH_STATE_EXPIRED", MissingIss: true}, "to try again"},
		{"server error", &auth.AuthorizationError{Code: "temporarily_unavailable"}, "call the meshai_sign_in tool in a moment to try again"},
		{"bad request", &auth.AuthorizationError{Code: "invalid_scope"}, "refused the sign-in request itself (invalid_scope): ask the server's operator to fix it, then call the meshai_sign_in tool"},
		{"registration refuses the redirect URI", signInError(t, devserver.FaultRegistrationRejectsRedirect),
			"the server registers no client with the bridge's loopback redirect URI: give a client registered there whose redirect_uris hold a loopback one, such as http://127.0.0.1:8080/callback, with --static-oauth-client-info" + configuration},
		{"registration answers without an OAuth error", fmt.Errorf("sign-in: %w", &oauth.RegistrationError{Endpoint: "https://as/register", Status: 404}),
			"give a client registered there with --static-oauth-client-info" + configuration},
		{"registration refused in the server's words", &oauth.RegistrationError{Status: 400, Code: "invalid_client_metadata"}, ""},
		{"no registration", &auth.NoRegistrationError{Issuer: "https://as"},
			"give a client registered at https://as with --static-oauth-client-info (a client.json; `meshai-mcp-server doctor` checks it)" + configuration},
		{"no registration at the reference server", signInError(t, devserver.FaultNoRegistration), "with --static-oauth-client-info"},
		{"no registration for the device grant", &auth.NoRegistrationError{Issuer: "https://as", Device: true},
			"give a client registered at https://as for the device grant with --static-oauth-client-info" + configuration},
		{"no device grant", &auth.NoDeviceGrantError{Issuer: "https://as"}, "drop --device-code: this server signs in only in a browser" + configuration},
		{"registration forgotten", fmt.Errorf("redeem the sign-in code: %w", &auth.ClientRefusedError{ClientID: "dyn"}),
			"call the meshai_sign_in tool to register and sign in anew"},
		{"browser too slow, met again later", &auth.FailedError{Err: &auth.TimeoutError{After: 2 * time.Second}},
			"call the meshai_sign_in tool for a new sign-in link, and finish in the browser within that time"},
		{"browser never came back with an unused registration", &auth.FailedError{Err: &auth.TimeoutError{After: 2 * time.Second, StaleClientID: "dyn"}},
			"call the meshai_sign_in tool to try again"},
		{"code spent by a rate limit", fmt.Errorf("redeem the sign-in code: %w", &auth.CodeRateLimitedError{Until: time.Date(2026, 1, 2, 9, 34, 18, 0, time.UTC), Err: errors.New("429")}),
			"call the meshai_sign_in tool after 09:34:18 UTC for a new sign-in link"},
		{"code spent by a rate limit, no end named", &auth.FailedError{Err: &auth.CodeRateLimitedError{Err: errors.New("429")}},
			"call the meshai_sign_in tool once the server's wait is over"},
		{"a pre-registered client's port is taken", &auth.CallbackPortBusyError{Port: 8080, ClientID: "sigil"},
			"stop the program listening on port 8080, then call the meshai_sign_in tool"},
		{"browser never came back to a pre-registered client's redirect", &auth.TimeoutError{After: time.Second, ClientID: "sigil", RedirectURI: "http://127.0.0.1:5/callback"},
			"make the bridge send a redirect URI that client_id sigil is registered with, in place of http://127.0.0.1:5/callback: --callback-port, --host and --callback-path set its port, host and path" + configuration},
		{"code exchange rate limited", signInFailure{fmt.Errorf("redeem the sign-in code: %w", limited)},
			"call the meshai_sign_in tool after 09:34:18 UTC to sign in again"},
		{"a later request meets the rate-limited sign-in", &auth.FailedError{Err: limited}, "call the meshai_sign_in tool after 09:34:18 UTC to sign in again"},
		{"refresh rate limited: nothing lost, remote says when", fmt.Errorf("refresh: %w", limited), ""},
		{"stored sign-in unreadable", fmt.Errorf("the stored sign-in for https://x is unreadable: %w", credstore.ErrUnreadable),
			"call the meshai_sign_in tool to sign in anew"},
		{"sign-in required", fmt.Errorf("%w (invalid_grant)", auth.ErrSignInRequired), "sign in: call the meshai_sign_in tool"},
		{"keychain does not answer", fmt.Errorf("OS keychain: read x: %w", &credstore.KeychainError{Timeout: 3 * time.Second}),
			"unlock the OS keychain (or set one up), or keep the tokens in files: --token-store file (MESHAI_TOKEN_STORE=file)"},
		{"no such token store", openError(t, "vault"), "choose auto, keychain or file with --token-store or MESHAI_TOKEN_STORE"},
		{"empty API key", apiKeyError(t, " \n"), "set MESHAI_API_KEY to your API key" + configuration},
		{"API key with a line break inside", apiKeyError(t, "sk-1\nsk-2"), "copy the key into MESHAI_API_KEY again"},
		{"token refused as JSON", &oauth.TokenError{Status: 400, Code: "invalid_grant"}, ""},
		{"plain error", errors.New("boom"), ""},
		{"nil", nil, ""},
	}
}

func TestAdvise(t *testing.T) {
	for _, c := range adviceCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := served.advise(c.err)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("advise(%v) = %q, want it to hold %q", c.err, got, c.want)
			}
		})
	}
}

// A running bridge's advice gives one thing to do: never the login command, which would sign in to the default
// server or without the client flags, and, for a cause in the configuration, never the sign-in tool as a retry.
func TestServedAdviceIsOneThing(t *testing.T) {
	for _, c := range adviceCases(t) {
		got := served.advise(c.err)
		if strings.Contains(got, "meshai-mcp-server login") || strings.Contains(got, "meshai-mcp-server logout") {
			t.Errorf("%s: %q quotes a command, where the bridge's tool or the configuration is the one thing to do", c.name, got)
		}
		if strings.Contains(got, "restart the MCP client") && strings.Contains(got, "to try again") {
			t.Errorf("%s: %q asks for a restart and a retry", c.name, got)
		}
		for _, or := range []string{", or drop", "; or ", "or sign in with"} {
			if strings.Contains(got, or) {
				t.Errorf("%s: %q offers alternatives (%q)", c.name, got, or)
			}
		}
	}
}

// The same facts, as the login command words them in a terminal: the command to run names the server, and a cause
// in the configuration is fixed there, with no word of the MCP client's restart or of the bridge's tool.
func TestCommandAdvice(t *testing.T) {
	for _, c := range []struct {
		name string
		adv  adviser
		err  error
		want string
	}{
		{"denied", commanded, &auth.AuthorizationError{Code: "access_denied"},
			"the sign-in was refused in the browser; run `meshai-mcp-server login https://mcp.example.com/mcp` to try again"},
		{"no registration", commanded, &auth.NoRegistrationError{Issuer: "https://as"},
			"give a client registered at https://as with --static-oauth-client-info (a client.json; `meshai-mcp-server doctor` checks it)"},
		{"no OAuth", commanded, &oauth.NoOAuthError{Server: "https://x"},
			"this server takes an API key, not a sign-in, so there is nothing to log in to: set MESHAI_API_KEY to your API key for it in this server's entry of the MCP client's configuration"},
		{"unreadable", commanded, fmt.Errorf("x: %w", credstore.ErrUnreadable),
			"run `meshai-mcp-server login https://mcp.example.com/mcp` to sign in anew"},
		{"wrong secret in a client.json", withFile, &auth.ClientRefusedError{ClientID: "neotoma", Configured: true, Method: "client_secret_basic"},
			"give the client_secret and token_endpoint_auth_method that client_id neotoma is registered with in the --static-oauth-client-info file" + configuration},
		{"wrong secret in the flags", withFlags, &auth.ClientRefusedError{ClientID: "neotoma", Configured: true},
			"give the secret that client_id neotoma is registered with in --client-secret" + configuration},
		{"the redirect of a client.json never came back", withFile, &auth.TimeoutError{After: time.Second, ClientID: "sigil", RedirectURI: "http://127.0.0.1:5/callback"},
			"list in the redirect_uris of the --static-oauth-client-info file a loopback redirect URI that client_id sigil is registered with, in place of http://127.0.0.1:5/callback" + configuration},
		{"a short --auth-timeout", adviser{serving: true, authTimeout: "2s"}, &auth.TimeoutError{After: 2 * time.Second},
			"raise --auth-timeout (now 2s)" + configuration},
	} {
		got := c.adv.advise(c.err)
		if got != c.want {
			t.Errorf("%s: advice %q, want %q", c.name, got, c.want)
		}
		if !c.adv.serving && (strings.Contains(got, "restart") || strings.Contains(got, "meshai_sign_in")) {
			t.Errorf("%s: a terminal's advice %q speaks of the MCP client", c.name, got)
		}
	}
}

// The login command a message quotes names the server and the pre-registered client, as the command was given.
func TestLoginCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"https://mcp.example.com/mcp"}, "`meshai-mcp-server login https://mcp.example.com/mcp`"},
		{nil, "`meshai-mcp-server login " + config.DefaultURL + "`"},
		{[]string{"--client-id", "neotoma", "https://x.example/mcp?a=1&b=2"}, "`meshai-mcp-server login --client-id neotoma 'https://x.example/mcp?a=1&b=2'`"},
		{[]string{"--client-id", "neotoma", "--client-secret", "s3cr3t", "https://x.example/mcp"},
			"`meshai-mcp-server login --client-id neotoma --client-secret <its secret> https://x.example/mcp`"},
		{[]string{"--static-oauth-client-info", `{"client_id":"neotoma","client_secret":"s3cr3t"}`, "https://x.example/mcp"},
			"`meshai-mcp-server login --static-oauth-client-info '<the same JSON>' https://x.example/mcp`"},
	} {
		cfg, err := parseServe(c.args, env(map[string]string{config.EnvConfigDir: t.TempDir()}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := loginCommand(cfg); got != c.want {
			t.Errorf("%q: %s, want %s", c.args, got, c.want)
		}
	}
}

// Advice is added once: a failure that carries it already, met again by a request (remote's failIDs asks for
// advice on what the sign-in returned) or wrapped again, gets none more.
func TestAdviceAddedOnce(t *testing.T) {
	for _, c := range adviceCases(t) {
		if c.want == "" || c.err == nil {
			continue
		}
		advised := served.with(served.with(c.err))
		text := advised.Error()
		ue := &remote.UpstreamError{Message: text, Err: advised}
		if a := served.upstream(ue); a != "" {
			text += ": " + a
		}
		if a := served.advise(c.err); a == "" {
			t.Errorf("%s: no advice", c.name)
		} else if n := strings.Count(text, a); n != 1 {
			t.Errorf("%s: the advice appears %d times: %q", c.name, n, text)
		}
	}
}

// referenceSignIn is a sign-in, with a file store and no browser, to a reference server started with cfg.
func referenceSignIn(t *testing.T, cfg devserver.Config) *auth.SignIn {
	t.Helper()
	r, err := devserver.Listen("127.0.0.1:0", cfg)
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
	return &auth.SignIn{ServerURL: u, ConfigDir: dir, Store: store, BrowserCommand: auth.NoBrowser, Stderr: io.Discard}
}

// signInError is what a sign-in against the reference server with fault f ends with.
func signInError(t *testing.T, f devserver.Fault) error {
	t.Helper()
	s := referenceSignIn(t, devserver.Config{OAuth: true, APIKey: "k", Faults: []devserver.Fault{f}})
	err := s.Login(t.Context(), nil, nil)
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
		got := served.upstream(&remote.UpstreamError{Message: "m", Cause: tc.cause})
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
			[]string{"offers no dynamic registration, and no client is configured: give a client registered at " + r.URL + " with --static-oauth-client-info"}},
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
