package cli

import (
	"context"
	"errors"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/auth"
	"github.com/meshailabs-org/meshai-mcp-server/bridge"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
	"github.com/meshailabs-org/meshai-mcp-server/remote"
)

// signInView shows the sign-in to the bridge: its phases as the bridge knows them, and each failure with the one
// thing to do about it.
type signInView struct {
	si  *auth.SignIn
	adv adviser
}

// Watch implements bridge.SignIn.
func (v signInView) Watch() (bridge.SignInState, <-chan struct{}) {
	st, changed := v.si.Watch()
	out := bridge.SignInState{URL: st.URL, Elsewhere: st.Elsewhere}
	if st.RedirectURI != "" {
		out.Note = "This sign-in uses a client registered beforehand (--client-id): its registration must list the redirect URI " +
			st.RedirectURI + " exactly, or the server shows its own error page and the sign-in never completes."
	}
	switch st.Phase {
	case auth.SigningIn:
		out.Phase = bridge.SigningIn
	case auth.SignedIn:
		out.Phase = bridge.SignedIn
	case auth.Failed:
		out.Phase, out.Problem = bridge.SignInFailed, "the sign-in failed"
		if st.Err != nil {
			out.Problem = v.adv.with(signInFailure{st.Err}).Error()
		}
	default:
		out.Phase = bridge.SignedOut
	}
	out.Wait, out.ServerWait = v.waits(st.Phase == auth.SigningIn && !st.Elsewhere)
	return out, changed
}

// waits reads the rate limits the shared HTTP client waits out: the MCP endpoint's, and, while this bridge signs
// in, the latest of every other endpoint's (discovery, registration, token), which only the sign-in calls then.
func (v signInView) waits(signingIn bool) (signIn, server time.Time) {
	if v.si.HTTP == nil {
		return
	}
	rl, ok := v.si.HTTP.Transport.(*ratelimit.Transport)
	if !ok {
		return
	}
	mcp := ratelimit.Endpoint(v.si.Endpoint())
	for endpoint, until := range rl.Waiting() {
		switch {
		case endpoint == mcp:
			server = until
		case signingIn && until.After(signIn):
			signIn = until
		}
	}
	return signIn, server
}

// Retry implements bridge.SignIn.
func (v signInView) Retry() { v.si.Retry() }

// advisingSignIn is the sign-in as remote sees it (a token source that re-authorizes), its refusals carrying
// the advice that the client then reads in its error.
type advisingSignIn struct {
	si  *auth.SignIn
	adv adviser
}

// Token implements oauth2.TokenSource.
func (a advisingSignIn) Token() (*oauth2.Token, error) {
	tok, err := a.si.Token()
	return tok, a.adv.with(err)
}

// Reauthorize implements remote.Reauthorizer. An error that leaves the sign-in Failed is that sign-in's failure,
// marked so for the advice (signInFailure) and for remote (remote.SignInFailure: a rate limit it met is no
// harmless wait, since the sign-in's code is spent).
func (a advisingSignIn) Reauthorize(ctx context.Context, status int, wwwAuthenticate []string, rejected string) error {
	err := a.si.Reauthorize(ctx, status, wwwAuthenticate, rejected)
	if err == nil {
		return nil
	}
	st, _ := a.si.Watch()
	failed := errors.Is(err, auth.ErrSignInFailed) || (st.Phase == auth.Failed && errors.Is(st.Err, err))
	if failed {
		err = signInFailure{err}
	}
	if err = a.adv.with(err); failed {
		return &remote.SignInFailure{Err: err}
	}
	return err
}

// signInFailure marks an error as a sign-in that failed, not a refresh or a request: advice may then start the
// next sign-in (a rate limit, for one, lost the sign-in, where a refresh loses nothing). It says what err says.
type signInFailure struct{ error }

func (e signInFailure) Unwrap() error { return e.error }

// isSignInFailure reports whether err is a failed sign-in: one marked so, or one a later request met.
func isSignInFailure(err error) bool {
	var sf signInFailure
	return errors.As(err, &sf) || errors.Is(err, auth.ErrSignInFailed)
}

// advisedError is an error with the advice for it; errors.Is and errors.As still see the cause.
type advisedError struct {
	err    error
	advice string
}

func (e *advisedError) Error() string { return e.err.Error() + ": " + e.advice }
func (e *advisedError) Unwrap() error { return e.err }

// with adds to err the one thing to do about it, when the adviser knows one, and only once.
func (a adviser) with(err error) error {
	var done *advisedError
	if err == nil || errors.As(err, &done) {
		return err
	}
	if s := a.advise(err); s != "" {
		return &advisedError{err: err, advice: s}
	}
	return err
}
