package auth

import (
	"errors"
	"fmt"
	"time"
)

// failureMemory is how long a sign-in that failed in one bridge stands for the others: a client that starts
// several bridges to one server, or restarts one at once, gets the failure, not one browser tab per bridge.
const failureMemory = time.Minute

// ErrRefusedFreshToken: the server refused an access token it had issued moments before, so no new sign-in
// window was opened for it (a second one would be refused the same way).
var ErrRefusedFreshToken = errors.New("the server refused the token it issued moments ago; no new sign-in window was opened")

// OtherFailureError is a sign-in that another bridge on this machine ran for the same server and that failed
// moments before: this bridge did not open a window of its own.
type OtherFailureError struct {
	At      time.Time
	Message string // that sign-in's error
}

func (e *OtherFailureError) Error() string {
	return fmt.Sprintf("a sign-in to this server (here or in another meshai-mcp-server window) failed at %s: %s", e.At.Local().Format(time.TimeOnly), e.Message)
}
