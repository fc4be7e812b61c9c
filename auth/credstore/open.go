package credstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// Open opens the token store of the given kind (auto, keychain or file; empty means auto) under configDir.
// auto uses the OS keychain when a probe answers within timeout (0: DefaultKeychainTimeout), and otherwise a file,
// returning a one-line warning for the caller to print. keychain fails with a *KeychainError when the probe does
// not pass; a kind that is none of these is ErrUnknownKind.
func Open(ctx context.Context, kind, configDir string, timeout time.Duration) (s Store, warning string, err error) {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case KindFile:
		s, err := newFileStore(configDir)
		return s, "", err
	case KindKeychain:
		k := newKeychainStore(timeout)
		if err := probeKeychain(ctx, k); err != nil {
			if ke := (*KeychainError)(nil); errors.As(err, &ke) || ctx.Err() != nil {
				return nil, "", err
			}
			return nil, "", &KeychainError{Err: err}
		}
		return k, "", nil
	case KindAuto, "":
		k := newKeychainStore(timeout)
		perr := probeKeychain(ctx, k)
		if perr == nil {
			return k, "", nil
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		f, err := newFileStore(configDir)
		if err != nil {
			return nil, "", err
		}
		warning = fmt.Sprintf("meshai-mcp-server: the OS keychain is not usable (%s); tokens are kept in 0600 files in %s",
			reason(perr, k.timeout), f.dir)
		return f, warning, nil
	default:
		return nil, "", fmt.Errorf("%w %q: the kinds are auto, keychain and file", ErrUnknownKind, kind)
	}
}

// ErrUnknownKind: the token store asked for is none of auto, keychain and file.
var ErrUnknownKind = errors.New("unknown token store")

// probeKeychain writes, reads back and deletes a throwaway item; its name is random, so bridges starting side by side
// do not trip over each other's probes.
func probeKeychain(ctx context.Context, k *keychainStore) error {
	if err := keychainReachable(); err != nil {
		return err
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := "probe/" + hex.EncodeToString(r[:])
	want := []byte("meshai-mcp-server keychain probe")
	if err := k.Set(ctx, name, want); err != nil {
		return err
	}
	got, err := k.Get(ctx, name)
	if derr := k.Delete(ctx, name); err == nil {
		err = derr
	}
	if err == nil && !bytes.Equal(got, want) {
		err = errors.New("OS keychain: the probe item read back different")
	}
	return err
}

// reason says in a few words why the keychain was not used.
func reason(err error, timeout time.Duration) string {
	if errors.Is(err, errKeychainTimeout) {
		return fmt.Sprintf("it did not answer within %s; it may be locked", timeout)
	}
	return textutil.OneLine(err.Error())
}
