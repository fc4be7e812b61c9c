package bridge

import "time"

// SignIn is the sign-in to the server as the relay sees it; internal/cli adapts *auth.SignIn to it.
type SignIn interface {
	// Watch returns where the sign-in stands and a channel that is closed at its next change.
	Watch() (SignInState, <-chan struct{})
	// Retry forgets a failed sign-in, so that the next attempt to connect starts a new one.
	Retry()
}

// SignInPhase is where a sign-in stands.
type SignInPhase int

// The phases of a sign-in.
const (
	SignedOut    SignInPhase = iota // nothing started yet, or abandoned
	SigningIn                       // under way, here or in another bridge
	SignedIn                        // tokens are held
	SignInFailed                    // the last sign-in failed; only Retry starts the next
)

// SignInState is a snapshot of the sign-in.
type SignInState struct {
	Phase SignInPhase
	// URL is what the user must open while SigningIn, once known.
	URL string
	// Note is, while SigningIn, what else the user must know to finish, e.g. the redirect URI a client registered
	// beforehand must list; shown with URL.
	Note string
	// Elsewhere: while SigningIn, another bridge on this machine runs the sign-in and this one waits for it.
	Elsewhere bool
	// Problem says, when SignInFailed, what went wrong and the one thing to do, in words for the user.
	Problem string
	// Wait is, while SigningIn, when the rate limit that a server of the sign-in (its registration or token
	// endpoint) asked for ends: the sign-in waits it out and goes on by itself. Zero when it waits for none.
	Wait time.Time
	// ServerWait is, in any phase, when the rate limit that the MCP endpoint asked for ends; zero when none.
	ServerWait time.Time
}

// SignInTool is the tool the relay offers while the user is not signed in.
const SignInTool = "meshai_sign_in"
