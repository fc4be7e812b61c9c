package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/bridge"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// adviser words the one thing to do about a failure for one run of the command: it knows where the advice is
// read (a running bridge's MCP client, or a terminal) and what the command was given (the server URL, the
// client flags), so that a command it quotes is one the user can run as it stands.
type adviser struct {
	serving     bool   // the advice reaches an MCP client through a running bridge; else a terminal
	login       string // `meshai-mcp-server login …` for this server and client (loginCommand)
	apiKey      bool   // MESHAI_API_KEY is set: the bridge sends it instead of signing in
	authHeader  bool   // an Authorization header was given (--header, --header-file)
	authTimeout string // --auth-timeout when the user set it shorter than the default, else ""
	clientFile  bool   // the pre-registered client came from --static-oauth-client-info
}

// newAdviser is the adviser of a command run with cfg; serving when the advice goes to an MCP client.
func newAdviser(cfg Config, serving bool, getenv func(string) string) adviser {
	a := adviser{serving: serving, login: loginCommand(cfg), apiKey: getenv(config.EnvAPIKey) != ""}
	a.authHeader = cfg.Header.Get("Authorization") != ""
	a.clientFile = cfg.clientFlags != ""
	if cfg.AuthTimeout > 0 && cfg.AuthTimeout < defaultAuthTimeout {
		a.authTimeout = cfg.AuthTimeout.String()
	}
	return a
}

// loginCommand is the login command for cfg's server, with the flags of its pre-registered client: without
// them, login would sign in to another server or with no client.
func loginCommand(cfg Config) string {
	flags := cfg.clientFlags
	if flags == "" && cfg.ClientID != "" {
		flags = " --client-id " + quoteArg(cfg.ClientID)
		if cfg.ClientSecret != "" {
			flags += " --client-secret <its secret>"
		}
	}
	url := config.DefaultURL
	if cfg.URL != nil {
		url = cfg.URL.Redacted()
	}
	return "`meshai-mcp-server login" + flags + " " + quoteArg(url) + "`"
}

// defaultAuthTimeout is --auth-timeout's default.
const defaultAuthTimeout = 5 * time.Minute

// quoteArg quotes s for a POSIX shell when it holds more than letters, digits and _@%+=:,./-.
func quoteArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// advise returns the one thing to do about err, naming real flags, variables and commands, or "" when it has
// nothing to add to what err already says. The library packages state the facts as typed errors; the advice
// about this command's flags lives here.
func (a adviser) advise(err error) string {
	if err == nil {
		return ""
	}
	for _, rule := range adviceRules {
		if s := rule(a, err); s != "" {
			return s
		}
	}
	return ""
}

// adviceRules are tried in order, each about one kind of typed fact; a package with facts of its own (such as
// rate limits) gets a rule here. The specific come first: a failed sign-in that a later request met
// (adviser.failed) gets the advice for its cause when a rule knows it.
var adviceRules = []func(adviser, error) string{adviser.unsafeDir, adviser.namedURL, adviser.noOAuth, adviser.challenge,
	adviser.refusal, adviser.freshToken, adviser.registration, adviser.noRegistration, adviser.portBusy, adviser.noDeviceGrant,
	adviser.clientRefused, adviser.timeout, adviser.codeRateLimited, adviser.rateLimited, adviser.unreadable, adviser.signInRequired, adviser.keychain,
	adviser.storeKind, adviser.apiKeyValue, adviser.failed}

// again is how the user starts the next sign-in, once the cause is gone: the bridge's tool, or the login command.
func (a adviser) again() string {
	if a.serving {
		return "call the " + bridge.SignInTool + " tool"
	}
	return "run " + a.login
}

// reconfigure is the advice for a cause in the bridge's configuration: fix, done where the configuration lives.
// A running bridge keeps the configuration it started with, so its sign-in tool cannot help; the text says so,
// which also keeps the bridge from adding "call the tool to try again" (bridge's tryAgain).
func (a adviser) reconfigure(fix string) string {
	switch {
	case !a.serving:
		return fix
	case a.apiKey: // no sign-in, no tool
		return fix + " in this server's entry of the MCP client's configuration, then restart the MCP client"
	}
	return fix + " in this server's entry of the MCP client's configuration, then restart the MCP client " +
		"(calling the " + bridge.SignInTool + " tool again cannot help)"
}

// unsafeDir: the config directory can be written by other users.
func (adviser) unsafeDir(err error) string {
	var ue *config.UnsafeDirError
	if !errors.As(err, &ue) {
		return ""
	}
	return "make it yours and private (chown it to yourself, then chmod 700 " + ue.Dir + "), or set " + config.EnvConfigDir +
		" to a directory only you can write"
}

// namedURL: a server that is not local named a URL on this machine or its network (or plain http); the
// bridge refused it, as it would a hostile server's attempt to reach services here.
func (adviser) namedURL(err error) string {
	var ne *oauth.NamedURLError
	var re *netutil.RefusedAddressError
	if !errors.As(err, &ne) && !errors.As(err, &re) {
		return ""
	}
	return "the server's configuration is at fault, or it is trying to reach services on your machine or network: ask its operator; " +
		"if the MCP server really runs on this machine or its network, give its local address (localhost, 127.0.0.1 or its private IP) as the URL"
}

// freshToken: the server refused a token it had just issued; another sign-in would be refused the same way.
func (a adviser) freshToken(err error) string {
	if !errors.Is(err, auth.ErrRefusedFreshToken) {
		return ""
	}
	return "the server's configuration is at fault: ask its operator to fix it, then " + a.again()
}

// failed: a sign-in failed and no rule above knows better; the next one starts only when the user asks.
func (a adviser) failed(err error) string {
	var oe *auth.OtherFailureError
	if !errors.Is(err, auth.ErrSignInFailed) && !errors.As(err, &oe) {
		return ""
	}
	return a.again() + " to try again"
}

// registration: the authorization server refused the bridge's dynamic registration. A refusal in its own words
// other than of the redirect URI is the server's to explain.
func (a adviser) registration(err error) string {
	var re *oauth.RegistrationError
	switch {
	case !errors.As(err, &re):
		return ""
	case re.RedirectRefused:
		return a.reconfigure("the server registers no client with the bridge's loopback redirect URI: give a client registered there " +
			"whose redirect_uris hold a loopback one, such as http://127.0.0.1:8080/callback, with --static-oauth-client-info")
	case re.Code == "":
		return a.reconfigure("give a client registered there with --static-oauth-client-info")
	}
	return ""
}

// noRegistration: the bridge cannot register itself, so the user must name a client.
func (a adviser) noRegistration(err error) string {
	var ne *auth.NoRegistrationError
	switch {
	case !errors.As(err, &ne):
		return ""
	case ne.Device:
		return a.reconfigure("give a client registered at " + ne.Issuer + " for the device grant with --static-oauth-client-info")
	}
	return a.reconfigure("give a client registered at " + ne.Issuer + " with --static-oauth-client-info (a client.json; `meshai-mcp-server doctor` checks it)")
}

// noDeviceGrant: --device-code asked for a grant the authorization server does not offer.
func (a adviser) noDeviceGrant(err error) string {
	var ne *auth.NoDeviceGrantError
	if !errors.As(err, &ne) {
		return ""
	}
	return a.reconfigure("drop --device-code: this server signs in only in a browser")
}

// clientRefused: invalid_client. The user's own client is theirs to fix, and dropping it is no fix: a server
// that wants clients registered beforehand may offer no registration at all. A forgotten registration is
// registered anew by the next sign-in.
func (a adviser) clientRefused(err error) string {
	var ce *auth.ClientRefusedError
	switch {
	case !errors.As(err, &ce):
		return ""
	case ce.Configured && a.clientFile:
		return a.reconfigure("give the client_secret and token_endpoint_auth_method that client_id " + ce.ClientID +
			" is registered with in the --static-oauth-client-info file")
	case ce.Configured:
		return a.reconfigure("give the secret that client_id " + ce.ClientID + " is registered with in --client-secret")
	}
	return a.again() + " to register and sign in anew"
}

// timeout: the browser step took longer than --auth-timeout allows.
func (a adviser) timeout(err error) string {
	var te *auth.TimeoutError
	switch {
	case !errors.As(err, &te):
		return ""
	case te.StaleClientID != "": // the error says the next sign-in registers anew
		return a.again() + " to try again"
	case te.RedirectURI != "" && a.clientFile:
		return a.reconfigure("list in the redirect_uris of the --static-oauth-client-info file a loopback redirect URI that client_id " +
			te.ClientID + " is registered with, in place of " + te.RedirectURI)
	case te.RedirectURI != "":
		return a.reconfigure("make the bridge send a redirect URI that client_id " + te.ClientID +
			" is registered with, in place of " + te.RedirectURI + ": --callback-port, --host and --callback-path set its port, host and path")
	case a.authTimeout != "":
		return a.reconfigure("raise --auth-timeout (now " + a.authTimeout + ")")
	}
	return a.again() + " for a new sign-in link, and finish in the browser within that time"
}

// rateLimited: an endpoint of the sign-in is rate limiting, and the sign-in gave up: the next one may start once
// the wait is over. A refresh that met a rate limit is no failed sign-in, and remote says when to try again.
func (a adviser) rateLimited(err error) string {
	var rl *ratelimit.Error
	named := errors.As(err, &rl)
	if !isSignInFailure(err) || !named && !oauth.IsRateLimited(err) {
		return ""
	}
	if named { // the time ratelimit quotes: rounded up to whole seconds, never sooner than the server asked
		return a.again() + " after " + untilText(rl.Until, rl.Wait) + " to sign in again"
	}
	return a.again() + " in a few minutes to sign in again"
}

// codeRateLimited: the token endpoint's rate limit spent the browser's code; only a new sign-in helps, after the
// wait.
func (a adviser) codeRateLimited(err error) string {
	var ce *auth.CodeRateLimitedError
	if !errors.As(err, &ce) {
		return ""
	}
	if ce.Until.IsZero() {
		return a.again() + " once the server's wait is over, for a new sign-in link"
	}
	return a.again() + " after " + untilText(ce.Until, time.Until(ce.Until)) + " for a new sign-in link"
}

// untilText quotes the end of a server's wait as ratelimit does: rounded up to whole seconds, never sooner than
// the server asked; with the date when it is a day or more away.
func untilText(until time.Time, wait time.Duration) string {
	until, layout := until.UTC(), "15:04:05 UTC"
	if until.Nanosecond() != 0 {
		until = until.Truncate(time.Second).Add(time.Second)
	}
	if wait >= 24*time.Hour {
		layout = "2006-01-02 15:04:05 UTC"
	}
	return until.Format(layout)
}

// unreadable: the stored sign-in is damaged or was edited by hand; a new sign-in replaces it.
func (a adviser) unreadable(err error) string {
	if !errors.Is(err, credstore.ErrUnreadable) {
		return ""
	}
	return a.again() + " to sign in anew"
}

// signInRequired: no usable tokens, and nothing here starts a sign-in by itself.
func (a adviser) signInRequired(err error) string {
	if !errors.Is(err, auth.ErrSignInRequired) {
		return ""
	}
	return "sign in: " + a.again()
}

// keychain: the OS keychain did not answer, or failed the probe; files are the other store.
func (adviser) keychain(err error) string {
	var ke *credstore.KeychainError
	if !errors.As(err, &ke) {
		return ""
	}
	return "unlock the OS keychain (or set one up), or keep the tokens in files: --token-store file (" + config.EnvTokenStore + "=file)"
}

// storeKind: --token-store or its variable names no store.
func (adviser) storeKind(err error) string {
	if !errors.Is(err, credstore.ErrUnknownKind) {
		return ""
	}
	return "choose auto, keychain or file with --token-store or " + config.EnvTokenStore
}

// keychainFallbackAdvice follows credstore's warning that the tokens went to files because the keychain failed.
const keychainFallbackAdvice = " (choose with --token-store keychain|file or " + config.EnvTokenStore + ")"

// apiKeyValue: the API key the bridge read from its variable cannot be sent.
func (a adviser) apiKeyValue(err error) string {
	switch {
	case errors.Is(err, auth.ErrEmptyAPIKey):
		return a.reconfigure("set " + config.EnvAPIKey + " to your API key")
	case errors.Is(err, auth.ErrMalformedAPIKey):
		return a.reconfigure("copy the key into " + config.EnvAPIKey + " again, without quotes or line breaks")
	}
	return ""
}

// noOAuth: the server has no sign-in at all, so it takes some other credential.
func (a adviser) noOAuth(err error) string {
	if !errors.Is(err, oauth.ErrNoOAuth) {
		return ""
	}
	if !a.serving {
		return "this server takes an API key, not a sign-in, so there is nothing to log in to: set " + config.EnvAPIKey +
			" to your API key for it in this server's entry of the MCP client's configuration"
	}
	return "this server takes an API key, not a sign-in: " + a.reconfigure("set "+config.EnvAPIKey+" to your API key for it")
}

// challenge: bot protection answered where an API answer was expected; only the operator can change that.
func (a adviser) challenge(err error) string {
	var (
		ce            *oauth.ChallengeError
		te            *oauth.TokenError
		vendor, where string
	)
	switch {
	case errors.As(err, &ce):
		vendor, where = ce.Vendor, ce.URL
	case errors.As(err, &te) && te.Challenge != "":
		vendor, where = te.Challenge, "the token endpoint"
	default:
		return ""
	}
	return fmt.Sprintf("%s's bot protection stops API clients at %s and no client can pass its browser check: "+
		"ask the server's operator to let API clients through there (a %s WAF skip rule for that path), then %s", vendor, where, vendor, a.again())
}

// refusal: the authorization server sent an error back to the loopback redirect.
func (a adviser) refusal(err error) string {
	var ae *auth.AuthorizationError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.Code {
	case "access_denied":
		return "the sign-in was refused in the browser; " + a.again() + " to try again"
	case "server_error", "temporarily_unavailable":
		return "the authorization server failed during the sign-in; " + a.again() + " in a moment to try again"
	}
	return "the authorization server refused the sign-in request itself (" + ae.Code + "): ask the server's operator to fix it, then " + a.again()
}

// upstream is what to do about a request the server could not answer, where that lies in the bridge's
// configuration (remote.Options.Advise): remote states what happened, this names the flag or variable. A
// failure that carries its advice already (the sign-in's, through advisingSignIn) gets none again, nor one
// whose message says when to try again.
func (a adviser) upstream(e *remote.UpstreamError) string {
	var done *advisedError
	if errors.As(e, &done) || !e.Until.IsZero() {
		return ""
	}
	switch e.Cause {
	case remote.CauseCredentials:
		switch {
		case a.apiKey:
			return a.reconfigure("set " + config.EnvAPIKey + " to a key this server accepts")
		case a.authHeader:
			return a.reconfigure("give an Authorization header (--header) this server accepts")
		}
		return a.reconfigure("set " + config.EnvAPIKey + " to your API key for this server")
	case remote.CausePlainHTTP:
		return "use that http:// URL (loopback hosts are allowed as they are; others need --allow-http)"
	case remote.CauseUnknownAuthority:
		return "point --ca-file (or SSL_CERT_FILE) at the CA bundle of the proxy or private CA"
	case remote.CauseTimeout:
		return "check your network, VPN or proxy (HTTPS_PROXY)"
	case remote.CauseStall:
		return "for tools that stay silent longer, raise --stall-timeout"
	case remote.CauseTooLarge:
		return "to take larger answers, raise --max-memory (env " + config.EnvMaxMemory + "; one message may be half of it), or ask the tool for less"
	}
	return a.advise(e)
}

// portBusy: the port a pre-registered client's redirect URI names is taken.
func (a adviser) portBusy(err error) string {
	var pe *auth.CallbackPortBusyError
	if !errors.As(err, &pe) {
		return ""
	}
	return fmt.Sprintf("stop the program listening on port %d, then %s", pe.Port, a.again())
}
