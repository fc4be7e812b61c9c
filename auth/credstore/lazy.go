package credstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// OpenLazy is Open without the cost at start-up: the store is chosen on its first use. In auto mode a
// first read that the keychain answers (found or not found) settles on the keychain with no write probe, which
// keeps a bridge's start with tokens present to the reads it needs; anything else goes through Open's probe
// and fallback. warn receives Open's warning, if any.
func OpenLazy(kind, configDir string, timeout time.Duration, warn func(string)) Store {
	return &lazyStore{kind: kind, dir: configDir, timeout: timeout, warn: warn}
}

type lazyStore struct {
	kind    string
	dir     string
	timeout time.Duration
	warn    func(string)

	mu  sync.Mutex
	s   Store
	err error
}

// get returns the store, opening it with Open unless read (when non-nil) settled on the keychain, which
// settled reports: read's own result is then the answer.
func (l *lazyStore) get(ctx context.Context, read func(Store) error) (s Store, settled bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s != nil || l.err != nil {
		return l.s, false, l.err
	}
	if read != nil && (l.kind == "" || strings.EqualFold(strings.TrimSpace(l.kind), KindAuto)) && keychainReachable() == nil {
		k := newKeychainStore(l.timeout)
		if err := read(k); err == nil || errors.Is(err, ErrNotFound) {
			l.s = k
			return k, true, nil
		}
	}
	s, warning, err := Open(ctx, l.kind, l.dir, l.timeout)
	if warning != "" && l.warn != nil {
		l.warn(warning)
	}
	if ctx.Err() == nil { // a cancelled open is tried again next time
		l.s, l.err = s, err
	}
	return s, false, err
}

// Get implements Store.
func (l *lazyStore) Get(ctx context.Context, name string) ([]byte, error) {
	var got []byte
	var gerr error
	s, settled, err := l.get(ctx, func(k Store) error {
		got, gerr = k.Get(ctx, name)
		return gerr
	})
	switch {
	case err != nil:
		return nil, err
	case settled:
		return got, gerr
	}
	return s.Get(ctx, name)
}

// Set implements Store.
func (l *lazyStore) Set(ctx context.Context, name string, value []byte) error {
	s, _, err := l.get(ctx, nil)
	if err != nil {
		return err
	}
	return s.Set(ctx, name, value)
}

// Delete implements Store.
func (l *lazyStore) Delete(ctx context.Context, name string) error {
	s, _, err := l.get(ctx, nil)
	if err != nil {
		return err
	}
	return s.Delete(ctx, name)
}

// Kind implements Store.
func (l *lazyStore) Kind() string {
	s, _, err := l.get(context.Background(), nil)
	if err != nil || s == nil {
		return KindAuto
	}
	return s.Kind()
}
