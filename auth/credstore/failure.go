package credstore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Failure is a sign-in that failed, as recorded for the other bridges on this machine: <configDir>/locks/<key>.failed
// holds it, key being the server's ServerKey.
type Failure struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"` // that sign-in's error
}

func failurePath(configDir, resource string) string {
	return filepath.Join(configDir, "locks", ServerKey(resource)+".failed")
}

// RecordFailure records, under the sign-in lock (LockSignIn), that the sign-in to the server resource failed with err.
func RecordFailure(configDir, resource string, err error) {
	if configDir == "" {
		return
	}
	b, _ := json.Marshal(Failure{At: time.Now(), Message: err.Error()})
	_ = writeFileAtomic(failurePath(configDir, resource), b)
}

// ClearFailure forgets a recorded failure after a sign-in to the server resource succeeded.
func ClearFailure(configDir, resource string) {
	if configDir != "" {
		_ = os.Remove(failurePath(configDir, resource))
	}
}

// ReadFailure returns the last recorded failure of the sign-in to the server resource, or nil.
func ReadFailure(configDir, resource string) *Failure {
	if configDir == "" {
		return nil
	}
	b, err := os.ReadFile(failurePath(configDir, resource))
	if err != nil {
		return nil
	}
	var f Failure
	if json.Unmarshal(b, &f) != nil || f.At.IsZero() || f.Message == "" {
		return nil
	}
	return &f
}
