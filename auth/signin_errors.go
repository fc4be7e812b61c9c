package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// The sign-in's failures, stated as facts with the values involved; what to do about them (which flag, which
// command) is the caller's to say.

// TimeoutError: the browser sign-in was not completed within the time allowed (SignIn.AuthTimeout).
type TimeoutError struct {
	After time.Duration
	// ClientID and RedirectURI are set when the client was registered beforehand: the likely cause is then that
	// its registration lacks RedirectURI, so the server showed its own error page and never sent the browser back.
	ClientID, RedirectURI string
	// StaleClientID is set when the sign-in reused a registration the bridge made itself earlier and never signed
	// in with: the authorization server may have dropped it (servers purge unused registrations; a restarted one
	// may forget them all) and shown its own error page, so the browser never came back. The registration has been
	// forgotten here, and the next sign-in registers anew.
	StaleClientID string
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("the sign-in was not completed in the browser within %s", e.After)
	if e.StaleClientID != "" {
		msg += fmt.Sprintf("; the browser never came back: the authorization server may no longer know this app's registration "+
			"(client_id %s, never used for a sign-in) and have shown its own error page instead; "+
			"that registration is forgotten here, and the next sign-in registers anew", e.StaleClientID)
	}
	if e.RedirectURI != "" {
		msg += fmt.Sprintf("; the browser never came back to %s: the likely cause is that client_id %s does not have this redirect URI registered, "+
			"so the authorization server showed its own error page instead of sending the browser back", e.RedirectURI, e.ClientID)
	}
	return msg
}

// Unwrap makes a TimeoutError a context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// ClientRefusedError: the authorization server answered invalid_client for ClientID. A client the user
// configured (Configured) stays refused; a dynamic registration is forgotten, and the next sign-in registers anew.
type ClientRefusedError struct {
	ClientID   string
	Configured bool   // the client is SignIn.ClientID, not one the bridge registered
	Method     string // how the bridge authenticated it, when known (client_secret_basic, client_secret_post, none)
	Err        error  // the token endpoint's answer, when there is one
}

func (e *ClientRefusedError) Error() string {
	msg := fmt.Sprintf("the authorization server refused client_id %s (invalid_client)", e.ClientID)
	if e.Method != "" {
		msg = fmt.Sprintf("the authorization server refused client_id %s authenticated with %s (invalid_client)", e.ClientID, e.Method)
	}
	if !e.Configured {
		msg = fmt.Sprintf("the authorization server no longer knows this app's registration (client_id %s, invalid_client); "+
			"it is forgotten here, and the next sign-in registers anew", e.ClientID)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ClientRefusedError) Unwrap() error { return e.Err }

// NoRegistrationError: the authorization server offers no dynamic registration (RFC 7591) and no client was
// given, so the bridge has no client to sign in with (for the device grant, when Device).
type NoRegistrationError struct {
	Issuer string
	Device bool
}

func (e *NoRegistrationError) Error() string {
	msg := fmt.Sprintf("the authorization server %s offers no dynamic registration, and no client is configured", e.Issuer)
	if e.Device {
		msg += " for the device grant"
	}
	return msg
}

// NoDeviceGrantError: a device sign-in was asked for, and the authorization server offers no device
// authorization endpoint (RFC 8628).
type NoDeviceGrantError struct {
	Issuer string
}

func (e *NoDeviceGrantError) Error() string {
	return fmt.Sprintf("the authorization server %s offers no device sign-in (RFC 8628)", e.Issuer)
}

// CallbackPortBusyError: the loopback port a client registered beforehand needs for its redirect URI (a pinned
// CallbackPort) is taken by another program, and any other port would send a redirect URI it does not list.
type CallbackPortBusyError struct {
	Port     int
	ClientID string
}

func (e *CallbackPortBusyError) Error() string {
	return fmt.Sprintf("port %d, which the redirect URI of client_id %s needs, is in use by another program", e.Port, e.ClientID)
}

// CodeRateLimitedError: the token endpoint rate limited the redemption of the code the browser brought back, for
// longer than the sign-in could wait. That sign-in is over and its code is not kept (codes are short-lived and
// single-use), so, unlike a rate-limited refresh, nothing is retried by itself: after the wait, a new sign-in in the
// browser is needed.
type CodeRateLimitedError struct {
	Until time.Time // when the server said its wait ends; zero when it did not say
	Err   error     // the rate limit as the token client reported it (oauth.IsRateLimited)
}

// codeRateLimited wraps err, a rate limit met redeeming the sign-in code, with when it ends if the server said.
func codeRateLimited(err error) *CodeRateLimitedError {
	e := &CodeRateLimitedError{Err: err}
	if rl := (*ratelimit.Error)(nil); errors.As(err, &rl) {
		e.Until = rl.Until
	}
	return e
}

func (e *CodeRateLimitedError) Error() string {
	return e.Err.Error() + "; the code the browser brought back is spent with this sign-in, so a new sign-in is needed after the wait"
}

func (e *CodeRateLimitedError) Unwrap() error { return e.Err }
