package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// The OAuth 2.0 Device Authorization Grant (RFC 8628), for machines with no browser: the bridge asks the
// authorization server for a device code and a user code, the user opens the verification URI on any device
// and enters the user code, and the bridge polls the token endpoint until the user has approved or denied.
// The device code is a credential: it is kept out of every error, log line and printed form of DeviceCode.

// DeviceGrantType is the grant_type of device access token requests (RFC 8628 §3.4).
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Errors PollDevice and RunDeviceFlow wrap, for errors.Is.
var (
	// ErrDeviceDenied means the user refused the request on the verification page (access_denied).
	ErrDeviceDenied = errors.New("the sign-in was denied on the verification page")
	// ErrDeviceExpired means the codes expired before the user approved (expired_token, or expires_in passed).
	ErrDeviceExpired = errors.New("the sign-in code expired before it was approved")
)

// deviceAfter waits between polls; tests replace it to record the waits and not wait at all.
var deviceAfter = time.After

// Limits on what a device authorization response may say.
const (
	defaultDeviceInterval = 5     // seconds, when the server gives no interval (RFC 8628 §3.2)
	slowDownSeconds       = 5     // added to the interval on slow_down (RFC 8628 §3.5)
	maxDeviceSeconds      = 86400 // expires_in and interval are capped at a day
	maxUserCode           = 64    // characters of a user code the bridge agrees to print
	maxPollNetErrors      = 3     // consecutive network failures tolerated while polling, with backoff
)

// DeviceCode is a device authorization response (RFC 8628 §3.2), checked: the verification URIs are https (or
// http on a loopback host) and the user code is printable. The device code itself is unexported and never
// printed: String, GoString and LogValue leave it out.
type DeviceCode struct {
	UserCode                string        // what the user enters on the verification page
	VerificationURI         string        // where the user goes
	VerificationURIComplete string        // the same with the user code in it, or ""
	Expiry                  time.Time     // when the codes expire
	Interval                time.Duration // the wait between polls; PollDevice adds 5 s on each slow_down

	code string
}

// Instructions is the text to show the user: where to go and what to enter.
func (d DeviceCode) Instructions() string {
	left := time.Until(d.Expiry).Round(time.Minute)
	s := fmt.Sprintf("To sign in, open %s and enter the code %s", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		s += fmt.Sprintf(" (or open %s)", d.VerificationURIComplete)
	}
	if left >= time.Minute {
		s += fmt.Sprintf("; it expires in %d minutes", int(left/time.Minute))
	}
	return s + "."
}

// String describes the code for the user, without the device code.
func (d DeviceCode) String() string {
	return fmt.Sprintf("user code %s at %s", d.UserCode, d.VerificationURI)
}

// GoString is String, so %#v does not print the device code either.
func (d DeviceCode) GoString() string { return "oauth.DeviceCode{" + d.String() + "}" }

// LogValue is what slog records of a DeviceCode: no device code.
func (d DeviceCode) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user_code", d.UserCode), slog.String("verification_uri", d.VerificationURI),
		slog.Time("expiry", d.Expiry))
}

// deviceJSON is the RFC 8628 §3.2 answer, with the RFC 6749 §5.2 error fields.
type deviceJSON struct {
	DeviceCode              string      `json:"device_code"`
	UserCode                string      `json:"user_code"`
	VerificationURI         string      `json:"verification_uri"`
	VerificationURL         string      `json:"verification_url"` // the pre-RFC name some servers still send
	VerificationURIComplete string      `json:"verification_uri_complete"`
	ExpiresIn               json.Number `json:"expires_in"`
	Interval                json.Number `json:"interval"`
	Error                   string      `json:"error"`
	ErrorDescription        string      `json:"error_description"`
}

// DeviceAuthorize starts a device sign-in at the device authorization endpoint (RFC 8628 §3.1): it sends the
// client's identity (and authentication, per c.AuthMethod), the scopes and the RFC 8707 resource (c.Resource
// when resource is ""), and returns the checked codes.
func (c *TokenClient) DeviceAuthorize(ctx context.Context, endpoint string, scopes []string, resource string) (*DeviceCode, error) {
	if _, err := ValidateEndpointURL(endpoint); err != nil {
		return nil, fmt.Errorf("the device authorization endpoint is unusable: %w; ask the server's operator, or sign in with the browser", err)
	}
	form := url.Values{}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	cc := *c
	if resource != "" {
		cc.Resource = resource
	}
	resp, body, err := cc.sendTo(ctx, "device authorization endpoint", endpoint, form)
	if err != nil {
		return nil, err
	}
	var dj deviceJSON
	jsonErr := json.Unmarshal(body, &dj)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || dj.Error != "" {
		return nil, deviceAuthError(endpoint, resp, jsonErr == nil, dj)
	}
	if jsonErr != nil {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return nil, fmt.Errorf("the device authorization endpoint %s answered something other than JSON (%s); is a proxy in between?", endpoint, mt)
	}
	return checkDeviceCode(endpoint, dj)
}

// deviceAuthError turns a refusal of the device authorization endpoint into an error that says what to do; a
// *TokenError is wrapped when the server gave an OAuth error, so IsInvalidClient works on it.
func deviceAuthError(endpoint string, resp *http.Response, isJSON bool, dj deviceJSON) error {
	if !isJSON || dj.Error == "" {
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return fmt.Errorf("the device authorization endpoint %s answered HTTP %d: the server may not support the device flow; sign in with the browser instead",
				endpoint, resp.StatusCode)
		}
		return fmt.Errorf("the device authorization endpoint %s answered HTTP %d; try again later, or sign in with the browser", endpoint, resp.StatusCode)
	}
	te := &TokenError{Status: resp.StatusCode, Code: dj.Error, Description: dj.ErrorDescription}
	hint := "try again, or sign in with the browser"
	switch dj.Error {
	case "invalid_client", "unauthorized_client":
		hint = "the client is not allowed the device flow there: register it again with the device_code grant, or sign in with the browser"
	case "invalid_scope":
		hint = "the server does not grant these scopes; ask the server's operator"
	case "invalid_target":
		hint = "the server does not accept this MCP server as the resource; check the URL"
	}
	return &deviceError{msg: "the device authorization endpoint " + endpoint + " refused: " + ErrorText(dj.Error, dj.ErrorDescription) + "; " + hint, err: te}
}

// deviceError is an error with its own text that wraps the error it came from.
type deviceError struct {
	msg string
	err error
}

func (e *deviceError) Error() string { return e.msg }
func (e *deviceError) Unwrap() error { return e.err }

// checkDeviceCode validates a successful device authorization response.
func checkDeviceCode(endpoint string, dj deviceJSON) (*DeviceCode, error) {
	secrets.Add(dj.DeviceCode)
	bad := func(what string) error { // what may quote the server's values: never the device code among them
		return fmt.Errorf("the device authorization endpoint %s answered %s; ask the server's operator, or sign in with the browser",
			endpoint, Redact(what, dj.DeviceCode))
	}
	if dj.DeviceCode == "" {
		return nil, bad("without a device_code")
	}
	if dj.UserCode == "" {
		return nil, bad("without a user_code")
	}
	if len([]rune(dj.UserCode)) > maxUserCode || strings.ContainsFunc(dj.UserCode, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return nil, bad("with a user_code that cannot be shown (too long, or with control characters)")
	}
	if dj.VerificationURI == "" {
		dj.VerificationURI = dj.VerificationURL
	}
	if dj.VerificationURI == "" {
		return nil, bad("without a verification_uri")
	}
	if _, err := ValidateEndpointURL(dj.VerificationURI); err != nil {
		return nil, bad(fmt.Sprintf("with an unusable verification_uri: %v", err))
	}
	if dj.VerificationURIComplete != "" {
		if _, err := ValidateEndpointURL(dj.VerificationURIComplete); err != nil {
			return nil, bad(fmt.Sprintf("with an unusable verification_uri_complete: %v", err))
		}
	}
	expires, err := dj.ExpiresIn.Int64()
	if err != nil || expires <= 0 {
		return nil, bad("without a valid expires_in")
	}
	interval, err := dj.Interval.Int64()
	if dj.Interval == "" || err != nil || interval <= 0 {
		interval = defaultDeviceInterval
	}
	return &DeviceCode{
		UserCode:                dj.UserCode,
		VerificationURI:         dj.VerificationURI,
		VerificationURIComplete: dj.VerificationURIComplete,
		Expiry:                  time.Now().Add(time.Duration(min(expires, maxDeviceSeconds)) * time.Second),
		Interval:                time.Duration(min(interval, maxDeviceSeconds)) * time.Second,
		code:                    dj.DeviceCode,
	}, nil
}

// PollDevice polls the token endpoint (RFC 8628 §3.4) until the user approves or denies, the codes expire or
// ctx ends. It waits dc.Interval before each request, adds 5 s to it on every slow_down (and on a 429 that
// names no wait), waits out a longer Retry-After before the next poll, and backs off on network errors (§3.5).
// A denial wraps ErrDeviceDenied, an expiry ErrDeviceExpired; the device code appears in no error.
func (c *TokenClient) PollDevice(ctx context.Context, dc *DeviceCode) (*oauth2.Token, error) {
	if dc == nil || dc.code == "" {
		return nil, errors.New("no device code to poll with: start with DeviceAuthorize")
	}
	interval := dc.Interval
	if interval <= 0 {
		interval = defaultDeviceInterval * time.Second
	}
	var expired <-chan time.Time
	if !dc.Expiry.IsZero() {
		t := time.NewTimer(time.Until(dc.Expiry))
		defer t.Stop()
		expired = t.C
	}
	expiredErr := fmt.Errorf("%w: sign in again, and enter the code sooner", ErrDeviceExpired)
	netErrors := 0
	var notBefore time.Time // the token endpoint asked not to be polled again before then
	for {
		wait := interval
		if netErrors > 0 {
			wait = interval << netErrors // exponential backoff on connection failures (RFC 8628 §3.5)
		}
		wait = max(wait, time.Until(notBefore))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the device sign-in did not complete: %w", context.Cause(ctx))
		case <-expired:
			return nil, expiredErr
		case <-deviceAfter(wait):
		}
		if !dc.Expiry.IsZero() && !time.Now().Before(dc.Expiry) {
			return nil, expiredErr
		}
		tok, err := c.post(ctx, url.Values{"grant_type": {DeviceGrantType}, "device_code": {dc.code}}, "")
		if err == nil {
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the device sign-in did not complete: %w", context.Cause(ctx))
		}
		var rl *ratelimit.Error
		if errors.As(err, &rl) { // longer than one poll waits: the next poll comes after it, never sooner
			notBefore = rl.Until
			continue
		}
		var te *TokenError
		if !errors.As(err, &te) {
			var ue *url.Error
			if errors.As(err, &ue) && netErrors < maxPollNetErrors {
				netErrors++
				continue
			}
			return nil, fmt.Errorf("poll for the device sign-in: %w", err)
		}
		netErrors = 0
		te.Code = Redact(te.Code, dc.code)
		te.Description = Redact(te.Description, dc.code)
		if te.Status == http.StatusTooManyRequests { // a 429 that names no wait, whatever its code: slow down (§3.5)
			interval += slowDownSeconds * time.Second
			continue
		}
		switch te.Code {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownSeconds * time.Second
		case "access_denied":
			return nil, &deviceError{msg: ErrDeviceDenied.Error() + ": sign in again to retry", err: errors.Join(ErrDeviceDenied, te)}
		case "expired_token":
			return nil, &deviceError{msg: ErrDeviceExpired.Error() + ": sign in again, and enter the code sooner", err: errors.Join(ErrDeviceExpired, te)}
		case "unsupported_grant_type":
			return nil, fmt.Errorf("poll for the device sign-in: %w; the server does not support the device flow: sign in with the browser", te)
		case "invalid_client", "unauthorized_client":
			return nil, fmt.Errorf("poll for the device sign-in: %w; register the client again", te)
		default:
			return nil, fmt.Errorf("poll for the device sign-in: %w; sign in again", te)
		}
	}
}

// RunDeviceFlow runs a whole device sign-in: it asks endpoint for codes (sending scopes and the RFC 8707
// resource), calls show with them (a copy without the device code) so the user can go to the verification URI,
// then polls tc's token endpoint until the user answers, the codes expire or ctx ends.
func RunDeviceFlow(ctx context.Context, tc *TokenClient, endpoint string, scopes []string, resource string, show func(DeviceCode)) (*oauth2.Token, error) {
	dc, err := tc.DeviceAuthorize(ctx, endpoint, scopes, resource)
	if err != nil {
		return nil, err
	}
	if show != nil {
		shown := *dc
		shown.code = ""
		show(shown)
	}
	pc := *tc
	if resource != "" {
		pc.Resource = resource
	}
	return pc.PollDevice(ctx, dc)
}
