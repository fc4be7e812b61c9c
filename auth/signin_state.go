package auth

import (
	"errors"
	"sync"
)

// Phase is where the sign-in to one server stands.
type Phase int

// The phases. A sign-in moves SignedOut → SigningIn → SignedIn, or → Failed; a Failed sign-in stays failed
// until the user asks again (Retry, `login`) or another bridge signs in: requests that queue behind it get its
// error instead of a new browser tab each.
const (
	SignedOut Phase = iota // nothing usable is known yet; the next refusal starts a sign-in
	SigningIn              // a sign-in is under way, in this process or in another bridge holding the lock
	SignedIn               // tokens are held
	Failed                 // the last sign-in failed; State.Err says why
)

func (p Phase) String() string {
	switch p {
	case SignedOut:
		return "signed out"
	case SigningIn:
		return "signing in"
	case SignedIn:
		return "signed in"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// State is a snapshot of a sign-in's lifecycle.
type State struct {
	Phase Phase
	// URL is what the user must open while SigningIn (the authorization URL, or the device verification URL),
	// empty until known and while another bridge holds the sign-in.
	URL string
	// UserCode is the code to enter at URL in a device sign-in.
	UserCode string
	// RedirectURI is, while SigningIn with a client registered beforehand, the redirect URI the sign-in sends,
	// which that client's registration must list.
	RedirectURI string
	// Elsewhere: while SigningIn, another bridge on this machine holds the sign-in and this one waits for it.
	Elsewhere bool
	// Err is why the sign-in failed, when Failed.
	Err error
}

// ErrSignInFailed wraps the error of a failed sign-in that a later request met: no new sign-in was started for
// it. Retry (the client's sign-in tool) or `meshai-mcp-server login` starts the next one.
var ErrSignInFailed = errors.New("the last sign-in failed")

// FailedError is what a request gets while the sign-in is Failed: the failure it did not retry.
type FailedError struct{ Err error }

func (e *FailedError) Error() string { return e.Err.Error() }

// Unwrap returns both the cause and ErrSignInFailed, so errors.Is finds either.
func (e *FailedError) Unwrap() []error { return []error{e.Err, ErrSignInFailed} }

// lifecycle holds one State and pushes its changes: Watch's channel is closed at the next change.
type lifecycle struct {
	mu      sync.Mutex
	st      State
	changed chan struct{}
}

// get returns the state and a channel closed when it changes.
func (l *lifecycle) get() (State, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.st, l.changed
}

// update applies edit to the state and wakes the watchers.
func (l *lifecycle) update(edit func(st *State)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	edit(&l.st)
	if l.changed != nil {
		close(l.changed)
	}
	l.changed = make(chan struct{})
}

// set replaces the state.
func (l *lifecycle) set(st State) { l.update(func(s *State) { *s = st }) }
