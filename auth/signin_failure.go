package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	return fmt.Sprintf("a sign-in to this server in another meshai-mcp-server window failed at %s: %s", e.At.Local().Format(time.TimeOnly), e.Message)
}

// failureRecord is what <configDir>/locks/<key>.failed holds.
type failureRecord struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

func failurePath(configDir, key string) string {
	return filepath.Join(configDir, "locks", key+".failed")
}

// writeFailure records, under the sign-in lock, that the sign-in failed with err.
func writeFailure(configDir, key string, err error) {
	if configDir == "" {
		return
	}
	b, _ := json.Marshal(failureRecord{At: time.Now(), Message: err.Error()})
	_ = writeFileAtomic(failurePath(configDir, key), b)
}

// clearFailure forgets a recorded failure after a sign-in succeeded.
func clearFailure(configDir, key string) {
	if configDir != "" {
		_ = os.Remove(failurePath(configDir, key))
	}
}

// readFailure returns the last recorded failure of key's sign-in, or nil.
func readFailure(configDir, key string) *failureRecord {
	if configDir == "" {
		return nil
	}
	b, err := os.ReadFile(failurePath(configDir, key))
	if err != nil {
		return nil
	}
	var f failureRecord
	if json.Unmarshal(b, &f) != nil || f.At.IsZero() || f.Message == "" {
		return nil
	}
	return &f
}
