package credstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// KeychainService is the service name under which the OS keychain keeps the bridge's items.
const KeychainService = "meshai-mcp-server"

// DefaultKeychainTimeout bounds every OS keychain call: a locked Secret Service can wait forever for an unlock prompt.
const DefaultKeychainTimeout = 3 * time.Second

// keyringAPI is the part of go-keyring the keychain store uses; tests swap it to simulate a keychain that hangs.
type keyringAPI interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// osKeyring calls the real OS keychain through go-keyring.
type osKeyring struct{}

func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// keychainStore keeps secrets in the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service).
// Values larger than one item may hold are split into chunks (see keychain_chunks.go).
type keychainStore struct {
	kr      keyringAPI
	service string
	timeout time.Duration
}

func newKeychainStore(timeout time.Duration) *keychainStore {
	if timeout <= 0 {
		timeout = DefaultKeychainTimeout
	}
	return &keychainStore{kr: osKeyring{}, service: KeychainService, timeout: timeout}
}

// Kind reports KindKeychain.
func (k *keychainStore) Kind() string { return KindKeychain }

// errKeychainTimeout marks a keychain call that did not return in time.
var errKeychainTimeout = errors.New("keychain timeout")

// KeychainError: the OS keychain could not be used. Either it did not answer within Timeout (it may be locked, or
// waiting for an unlock prompt nobody can see), or it answered the probe that Open makes with Err.
type KeychainError struct {
	Timeout time.Duration // non-zero: the call was given up on after this long
	Err     error         // what the keychain answered, when it did
}

func (e *KeychainError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("the OS keychain did not answer within %s (it may be locked, or waiting for an unlock prompt nobody can see)", e.Timeout)
	}
	return fmt.Sprintf("the OS keychain is not usable (%s)", textutil.OneLine(e.Err.Error()))
}

func (e *KeychainError) Unwrap() error { return e.Err }

// Is reports a timeout as errKeychainTimeout.
func (e *KeychainError) Is(target error) bool { return target == errKeychainTimeout && e.Timeout > 0 }

type keyringResult struct {
	value string
	err   error
}

// call runs one keyring operation in a goroutine and waits at most k.timeout (or until ctx ends). A call that
// hangs is abandoned: its goroutine finishes, or not, on its own.
func (k *keychainStore) call(ctx context.Context, op func() (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	done := make(chan keyringResult, 1)
	go func() {
		v, err := op()
		done <- keyringResult{v, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if errors.Is(r.err, keyring.ErrNotFound) {
			return "", ErrNotFound
		}
		return r.value, r.err
	case <-timer.C:
		return "", &KeychainError{Timeout: k.timeout}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (k *keychainStore) getItem(ctx context.Context, user string) (string, error) {
	v, err := k.call(ctx, func() (string, error) { return k.kr.Get(k.service, user) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("OS keychain: read %s: %w", user, err)
	}
	return v, err
}

func (k *keychainStore) setItem(ctx context.Context, user, value string) error {
	_, err := k.call(ctx, func() (string, error) { return "", k.kr.Set(k.service, user, value) })
	if err != nil {
		return fmt.Errorf("OS keychain: write %s: %w", user, err)
	}
	return nil
}

// deleteItem deletes one item; it returns ErrNotFound (unwrapped) when there was none.
func (k *keychainStore) deleteItem(ctx context.Context, user string) error {
	_, err := k.call(ctx, func() (string, error) { return "", k.kr.Delete(k.service, user) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("OS keychain: delete %s: %w", user, err)
	}
	return err
}
