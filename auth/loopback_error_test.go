package auth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An error sent back to the redirect URI is a typed *AuthorizationError with the server's words, shown even
// when the promised iss is missing (still refused, and saying so), never with the state or a code in it.
func TestLoopbackAuthorizationErrors(t *testing.T) {
	const iss, state = "https://auth.example.com", "st-SECRET-1"
	for _, c := range []struct {
		name      string
		issReq    bool
		query     url.Values
		want      *AuthorizationError // nil: not an AuthorizationError
		denied    bool                // errors.Is(err, ErrAccessDenied)
		issueMiss bool                // errors.Is(err, ErrIssuerMismatch)
		msg, page []string            // texts the error and the page must hold
	}{
		{name: "state expired, no iss although promised", issReq: true,
			query:  url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {"OAUTH_STATE_EXPIRED: start again"}},
			want:   &AuthorizationError{Code: "access_denied", Description: "OAUTH_STATE_EXPIRED: start again", MissingIss: true},
			denied: true, issueMiss: true,
			msg: []string{"the authorization server refused the sign-in: access_denied (OAUTH_STATE_EXPIRED: start again)",
				"(the answer also lacked the iss parameter the server promised, so it was not trusted)"},
			page: []string{"OAUTH_STATE_EXPIRED: start again", "lacked the iss parameter the server promised, so it was not trusted"}},
		{name: "denied, with iss", issReq: true,
			query:  url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {"The user denied the request"}, "iss": {iss}},
			want:   &AuthorizationError{Code: "access_denied", Description: "The user denied the request"},
			denied: true, msg: []string{"refused the sign-in: access_denied (The user denied the request)"},
			page: []string{"The server said: access_denied (The user denied the request)."}},
		{name: "another error, iss not promised",
			query: url.Values{"state": {state}, "error": {"server_error"}},
			want:  &AuthorizationError{Code: "server_error"}, msg: []string{"refused the sign-in: server_error"}, page: []string{"server_error"}},
		{name: "the state and a code echoed back are taken out", issReq: true,
			query: url.Values{"state": {state}, "error": {"invalid_request"}, "code": {"code-SECRET-2"},
				"error_description": {"bad state " + state + " for code code-SECRET-2"}, "iss": {iss}},
			want: &AuthorizationError{Code: "invalid_request", Description: "bad state [redacted] for code [redacted]"},
			msg:  []string{"bad state [redacted] for code [redacted]"}, page: []string{"bad state [redacted]"}},
		{name: "a wrong iss shows nothing of the answer", issReq: true,
			query:     url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {"call +1 555 phish"}, "iss": {"https://evil.example"}},
			issueMiss: true, msg: []string{"iss mismatch"}, page: []string{"unexpected authorization server"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := ListenLoopback(nil)
			if err != nil {
				t.Fatal(err)
			}
			l.Expect(state, iss, c.issReq)
			_, body := get(t, l.RedirectURI(), c.query)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only a hang guard
			defer cancel()
			_, err = l.Wait(ctx)
			var ae *AuthorizationError
			switch {
			case err == nil:
				t.Fatal("no error")
			case c.want == nil && errors.As(err, &ae):
				t.Errorf("err = %#v, want no AuthorizationError", ae)
			case c.want != nil && (!errors.As(err, &ae) || *ae != *c.want):
				t.Errorf("err = %v (%#v), want %#v", err, ae, c.want)
			}
			if errors.Is(err, ErrAccessDenied) != c.denied || errors.Is(err, ErrIssuerMismatch) != c.issueMiss {
				t.Errorf("err = %v: access denied %v (want %v), iss mismatch %v (want %v)", err,
					errors.Is(err, ErrAccessDenied), c.denied, errors.Is(err, ErrIssuerMismatch), c.issueMiss)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to hold %q", err, m)
				}
			}
			for _, p := range c.page {
				if !strings.Contains(body, p) {
					t.Errorf("page %q, want it to hold %q", body, p)
				}
			}
			for _, secret := range []string{state, "code-SECRET-2", "phish"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(body, secret) {
					t.Errorf("%q shows: err %q, page %q", secret, err, body)
				}
			}
		})
	}
}

// A sign-in nobody answered is not an AuthorizationError: callers tell a refusal from a timeout.
func TestLoopbackTimeoutIsNoRefusal(t *testing.T) {
	l, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Expect("s", "", false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Wait(ctx)
	var ae *AuthorizationError
	if err == nil || errors.As(err, &ae) || errors.Is(err, ErrAccessDenied) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the context's error and no AuthorizationError", err)
	}
}
