package cli

import (
	"errors"
	"fmt"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/bridge"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// advise returns the one thing to do about err, naming real flags, variables and commands, or "" when it has
// nothing to add to what err already says. The library packages state the facts as typed errors; the advice
// about this command's flags lives here.
func advise(err error) string {
	if err == nil {
		return ""
	}
	for _, rule := range adviceRules {
		if a := rule(err); a != "" {
			return a
		}
	}
	return ""
}

// adviceRules are tried in order, each about one kind of typed fact; a package with facts of its own (such as
// rate limits) gets a rule here. The specific come first: a failed sign-in that a later request met
// (failedAdvice) gets the advice for its cause when a rule knows it.
var adviceRules = []func(error) string{unsafeDirAdvice, namedURLAdvice, noOAuthAdvice, challengeAdvice, refusalAdvice,
	freshTokenAdvice, registrationAdvice, noRegistrationAdvice, portBusyAdvice, noDeviceGrantAdvice, clientRefusedAdvice, timeoutAdvice, codeRateLimitedAdvice,
	unreadableAdvice, signInRequiredAdvice, keychainAdvice, storeKindAdvice, apiKeyAdvice, failedAdvice}

// unsafeDirAdvice: the config directory can be written by other users.
func unsafeDirAdvice(err error) string {
	var ue *config.UnsafeDirError
	if !errors.As(err, &ue) {
		return ""
	}
	return "make it yours and private (chown it to yourself, then chmod 700 " + ue.Dir + "), or set " + config.EnvConfigDir +
		" to a directory only you can write"
}

// namedURLAdvice: a server that is not local named a URL on this machine or its network (or plain http); the
// bridge refused it, as it would a hostile server's attempt to reach services here.
func namedURLAdvice(err error) string {
	var ne *oauth.NamedURLError
	var re *netutil.RefusedAddressError
	if !errors.As(err, &ne) && !errors.As(err, &re) {
		return ""
	}
	return "the server's configuration is at fault, or it is trying to reach services on your machine or network: ask its operator; " +
		"if the MCP server really runs on this machine or its network, give its local address (localhost, 127.0.0.1 or its private IP) as the URL"
}

// freshTokenAdvice: the server refused a token it had just issued; another window would be refused the same way.
func freshTokenAdvice(err error) string {
	if !errors.Is(err, auth.ErrRefusedFreshToken) {
		return ""
	}
	return "the server's configuration is at fault (ask its operator); to start over, run `meshai-mcp-server logout`, then " + signInAgain
}

// failedAdvice: a sign-in failed and no rule above knows better; the next one starts only when the user asks.
func failedAdvice(err error) string {
	var oe *auth.OtherFailureError
	if !errors.Is(err, auth.ErrSignInFailed) && !errors.As(err, &oe) {
		return ""
	}
	return signInAgain + " to try again"
}

// registrationAdvice: the authorization server refused the bridge's dynamic registration. A refusal in its own
// words other than of the redirect URI is the server's to explain.
func registrationAdvice(err error) string {
	var re *oauth.RegistrationError
	switch {
	case !errors.As(err, &re):
		return ""
	case re.RedirectRefused:
		return "the server may accept other redirect URIs: try --callback-port, --host or --callback-path, " +
			"or a client registered there, with --client-id"
	case re.Code == "":
		return "pass --client-id (and --client-secret) of a client registered there"
	}
	return ""
}

// noRegistrationAdvice: the bridge cannot register itself, so the user must name a client.
func noRegistrationAdvice(err error) string {
	var ne *auth.NoRegistrationError
	switch {
	case !errors.As(err, &ne):
		return ""
	case ne.Device:
		return "pass --client-id of a client registered there for the device grant"
	}
	return "pass --client-id (and --client-secret) of a client registered there"
}

// noDeviceGrantAdvice: --device-code asked for a grant the authorization server does not offer.
func noDeviceGrantAdvice(err error) string {
	var ne *auth.NoDeviceGrantError
	if !errors.As(err, &ne) {
		return ""
	}
	return "drop --device-code to sign in with a browser, or run `meshai-mcp-server login` on a machine that has one and copy its token store"
}

// clientRefusedAdvice: invalid_client. The user's own client is theirs to fix; a forgotten registration is
// registered anew by the next sign-in.
func clientRefusedAdvice(err error) string {
	var ce *auth.ClientRefusedError
	switch {
	case !errors.As(err, &ce):
		return ""
	case ce.Configured:
		return "check --client-id and --client-secret, and how the client authenticates (token_endpoint_auth_method in a --static-oauth-client-info file), or drop them to let the bridge register itself"
	}
	return signInAgain + " to register and sign in anew"
}

// timeoutAdvice: the browser step took longer than --auth-timeout allows.
func timeoutAdvice(err error) string {
	var te *auth.TimeoutError
	if !errors.As(err, &te) {
		return ""
	}
	if te.StaleClientID != "" { // the error says the next sign-in registers anew
		return signInAgain + " to try again"
	}
	if te.RedirectURI != "" {
		return "register " + te.RedirectURI + " as a redirect URI of client_id " + te.ClientID + " at the authorization server, " +
			"or make the bridge use one the client has registered: --callback-port, --host and --callback-path " +
			"(or the redirect_uris of a --static-oauth-client-info file); then " + signInAgain
	}
	return signInAgain + " for a new sign-in link, and finish in the browser within that time (raise --auth-timeout to allow more)"
}

// codeRateLimitedAdvice: the token endpoint's rate limit spent the browser's code; only a new sign-in helps.
func codeRateLimitedAdvice(err error) string {
	var ce *auth.CodeRateLimitedError
	if !errors.As(err, &ce) {
		return ""
	}
	when := "once the server's wait is over"
	if !ce.Until.IsZero() {
		when = "after " + ce.Until.UTC().Format("15:04:05") + " UTC"
	}
	return when + ", " + signInAgain + " for a new sign-in link"
}

// unreadableAdvice: the stored sign-in is damaged or was edited by hand.
func unreadableAdvice(err error) string {
	if !errors.Is(err, credstore.ErrUnreadable) {
		return ""
	}
	return "to start clean, run `meshai-mcp-server logout`, then " + signInAgain
}

// signInRequiredAdvice: no usable tokens, and nothing here starts a sign-in by itself.
func signInRequiredAdvice(err error) string {
	if !errors.Is(err, auth.ErrSignInRequired) {
		return ""
	}
	return "sign in: " + signInAgain
}

// keychainAdvice: the OS keychain did not answer, or failed the probe; files are the other store.
func keychainAdvice(err error) string {
	var ke *credstore.KeychainError
	if !errors.As(err, &ke) {
		return ""
	}
	return "unlock the OS keychain (or set one up), or keep the tokens in files: --token-store file (" + config.EnvTokenStore + "=file)"
}

// storeKindAdvice: --token-store or its variable names no store.
func storeKindAdvice(err error) string {
	if !errors.Is(err, credstore.ErrUnknownKind) {
		return ""
	}
	return "choose auto, keychain or file with --token-store or " + config.EnvTokenStore
}

// keychainFallbackAdvice follows credstore's warning that the tokens went to files because the keychain failed.
const keychainFallbackAdvice = " (choose with --token-store keychain|file or " + config.EnvTokenStore + ")"

// apiKeyAdvice: the API key the bridge read from its variable cannot be sent.
func apiKeyAdvice(err error) string {
	switch {
	case errors.Is(err, auth.ErrEmptyAPIKey):
		return "set " + config.EnvAPIKey + " to your API key, or unset it to sign in"
	case errors.Is(err, auth.ErrMalformedAPIKey):
		return "copy the key into " + config.EnvAPIKey + " again, without quotes or line breaks"
	}
	return ""
}

// signInAgain is how a user starts another sign-in: the bridge's tool, or the login command.
const signInAgain = "call the " + bridge.SignInTool + " tool (or run `meshai-mcp-server login`)"

// noOAuthAdvice: the server has no sign-in at all, so it takes some other credential.
func noOAuthAdvice(err error) string {
	if !errors.Is(err, oauth.ErrNoOAuth) {
		return ""
	}
	return "this server takes an API key, not a sign-in: set " + config.EnvAPIKey +
		" in the MCP client's config for this server (or pass --header \"Authorization: Bearer …\"); " +
		"if it has a sign-in whose endpoints it does not publish, give them with --authorization-url and --token-url"
}

// challengeAdvice: bot protection answered where an API answer was expected; only the operator can change that.
func challengeAdvice(err error) string {
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
		"ask the server's operator to let API clients through there (a %s WAF skip rule for that path)", vendor, where, vendor)
}

// refusalAdvice: the authorization server sent an error back to the loopback redirect.
func refusalAdvice(err error) string {
	var ae *auth.AuthorizationError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.Code {
	case "access_denied":
		return "the sign-in was refused in the browser; " + signInAgain + " to try again"
	case "server_error", "temporarily_unavailable":
		return "the authorization server failed during the sign-in; " + signInAgain + " to try again in a moment"
	}
	return "the authorization server refused the sign-in request itself (" + ae.Code + "): ask the server's operator"
}

// adviseUpstream is what to do about a request the server could not answer, where that lies in the bridge's
// configuration (remote.Options.Advise): remote states what happened, this names the flag or variable.
func adviseUpstream(e *remote.UpstreamError) string {
	switch e.Cause {
	case remote.CauseCredentials:
		return "set " + config.EnvAPIKey + " to a valid key, or pass --header \"Authorization: Bearer …\""
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
	return advise(e)
}

// portBusyAdvice: the port a pre-registered client's redirect URI names is taken.
func portBusyAdvice(err error) string {
	var pe *auth.CallbackPortBusyError
	if !errors.As(err, &pe) {
		return ""
	}
	return fmt.Sprintf("stop the program listening on port %d, or register another loopback redirect URI for the client and use its port "+
		"(--callback-port, or the redirect_uris of the --static-oauth-client-info file)", pe.Port)
}
