// Package credstore keeps what the bridge remembers between runs: the sign-in of each server (its client
// registration, token endpoint and tokens) in the OS keychain or in 0600 files, the cross-process lock that
// serializes sign-ins and refreshes, and the record of a sign-in that just failed. It owns the layout of what it
// keeps: callers read and save typed values (SignInRecord, Tokens, Registration) for a server, and no name of
// the layout leaves the package.
package credstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Store keeps secrets by name. Names are short ASCII: segments of letters, digits, '-' and '_' joined by '/'
// ("<key>/tokens", "<key>/client"); this package's functions choose them.
type Store interface {
	Get(ctx context.Context, name string) ([]byte, error) // ErrNotFound when absent
	Set(ctx context.Context, name string, value []byte) error
	Delete(ctx context.Context, name string) error // absent is not an error
	Kind() string                                  // KindKeychain or KindFile
}

// ErrNotFound means the store holds nothing under that name.
var ErrNotFound = errors.New("not found in the token store")

// Token store kinds, as given to --token-store or MESHAI_TOKEN_STORE.
const (
	KindAuto     = "auto"
	KindKeychain = "keychain"
	KindFile     = "file"
)

// maxNameLen bounds a name; keychains and file systems both take it comfortably.
const maxNameLen = 128

// storeKey names one server (resource), issuer and client: the first 16 hex digits of a SHA-256 over the three.
// It is stable across runs and platforms, and it reveals none of its inputs.
func storeKey(resource, issuer, clientID string) string {
	sum := sha256.Sum256([]byte("meshai-mcp-server/v1\x00" + resource + "\x00" + issuer + "\x00" + clientID))
	return hex.EncodeToString(sum[:8])
}

// ServerKey names one server (resource) alone, stable across runs and revealing nothing of it: the sign-in's
// record and lock are kept under it, and the sign-in derives its loopback ports from it.
func ServerKey(resource string) string { return storeKey(resource, "", "") }

// checkName refuses a name the backends could not keep safely: it must be segments of [A-Za-z0-9_-] joined by '/'.
func checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("token store: name %q must be 1 to %d characters", name, maxNameLen)
	}
	for _, seg := range strings.Split(name, "/") {
		if !isNameSegment(seg) {
			return fmt.Errorf("token store: name %q must be segments of letters, digits, '-' and '_' joined by '/'", name)
		}
	}
	return nil
}

func isNameSegment(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}
