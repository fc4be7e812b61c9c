package credstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeKeyring is an in-memory keyring that enforces the per-item limit, can hang, and counts calls.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string
	block chan struct{} // when non-nil, every call waits on it
	calls int
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{items: map[string]string{}} }

func (f *fakeKeyring) wait() {
	f.mu.Lock()
	f.calls++
	b := f.block
	f.mu.Unlock()
	if b != nil {
		<-b
	}
}

func (f *fakeKeyring) Set(service, user, password string) error {
	f.wait()
	if len(password) > keychainItemMax {
		return keyring.ErrSetDataTooBig
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"|"+user] = password
	return nil
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"|"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"|"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"|"+user)
	return nil
}

func (f *fakeKeyring) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		out = append(out, strings.TrimPrefix(k, KeychainService+"|"))
	}
	return out
}

func TestKeychainChunks(t *testing.T) {
	ctx := context.Background()
	fk := newFakeKeyring()
	k := &keychainStore{kr: fk, service: KeychainService, timeout: time.Second}
	// items is how many keychain items a value of n bytes should take: one inline, or a head and its chunks.
	for _, tc := range []struct{ size, items int }{
		{10, 1},
		{1497, 1},
		{1498, 2},
		{6000, 5},
		{keychainValueMax, 1 + (keychainValueMax*4/3+keychainItemMax)/keychainItemMax},
		{3000, 3},
		{100, 1},
		{3000, 3},
		{2999, 3},
	} {
		v := []byte(strings.Repeat("v", tc.size))
		if err := k.Set(ctx, "key/tokens", v); err != nil {
			t.Fatalf("Set %d: %v", tc.size, err)
		}
		if got := fk.names(); len(got) != tc.items {
			t.Errorf("after Set of %d bytes the keychain holds %d items, want %d: %v", tc.size, len(got), tc.items, got)
		}
		for _, n := range fk.names() {
			if s, _ := fk.Get(KeychainService, n); len(s) > keychainItemMax {
				t.Errorf("item %s holds %d bytes", n, len(s))
			}
		}
		got, err := k.Get(ctx, "key/tokens")
		if err != nil || string(got) != string(v) {
			t.Fatalf("Get after Set of %d bytes: %d bytes, %v", tc.size, len(got), err)
		}
	}
	if err := k.Set(ctx, "key/tokens", make([]byte, keychainValueMax+1)); err == nil {
		t.Error("Set of more than keychainValueMax bytes succeeded")
	}
	if err := k.Delete(ctx, "key/tokens"); err != nil || len(fk.names()) != 0 {
		t.Fatalf("Delete: %v, left %v", err, fk.names())
	}
}

func TestKeychainDamagedValues(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		items map[string]string
		want  string
	}{
		{"missing chunk", map[string]string{"k": "m1c:a:2:0000000000000000", "k#a1": "eHg="}, "incomplete or damaged"},
		{"wrong sum", map[string]string{"k": "m1c:a:1:0000000000000000", "k#a1": "eHg="}, "incomplete or damaged"},
		{"bad base64", map[string]string{"k": "m1:***"}, "damaged"},
		{"unknown format", map[string]string{"k": "plain text"}, "format this version does not know"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fk := newFakeKeyring()
			for n, v := range tc.items {
				fk.items[KeychainService+"|"+n] = v
			}
			k := &keychainStore{kr: fk, service: KeychainService, timeout: time.Second}
			if _, err := k.Get(ctx, "k"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Get = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// A keychain that never answers is given up on after the timeout, or sooner when the context ends: on the fake
// clock, exactly then.
func TestKeychainTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(*keychainStore, context.Context) error
	}{
		{"get", func(k *keychainStore, ctx context.Context) error { _, err := k.Get(ctx, "k/tokens"); return err }},
		{"set", func(k *keychainStore, ctx context.Context) error { return k.Set(ctx, "k/tokens", []byte("v")) }},
		{"delete", func(k *keychainStore, ctx context.Context) error { return k.Delete(ctx, "k/tokens") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fk := newFakeKeyring()
				fk.block = make(chan struct{})
				defer close(fk.block) // lets the abandoned calls end before the bubble does
				k := &keychainStore{kr: fk, service: KeychainService, timeout: 100 * time.Millisecond}
				start := time.Now()
				err := tc.op(k, context.Background())
				if took := time.Since(start); took != 100*time.Millisecond {
					t.Errorf("gave up after %s; want the 100ms timeout", took)
				}
				var ke *KeychainError
				if !errors.Is(err, errKeychainTimeout) || !strings.Contains(err.Error(), "did not answer within 100ms") ||
					!errors.As(err, &ke) || ke.Timeout != 100*time.Millisecond {
					t.Fatalf("err = %v, want a *KeychainError timing out after 100ms", err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				start = time.Now()
				if err := tc.op(k, ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("with a cancelled context: %v, want context.Canceled", err)
				}
				if took := time.Since(start); took != 20*time.Millisecond {
					t.Errorf("gave up %s after the call began; want when the context ended, at 20ms", took)
				}
			})
		})
	}
}

func TestOpenStoreKinds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, warn, err := Open(ctx, " File ", dir, 0)
	if err != nil || warn != "" || s.Kind() != KindFile {
		t.Fatalf("Open(file) = %v, %q, %v", s, warn, err)
	}
	if _, _, err := Open(ctx, "vault", dir, 0); !errors.Is(err, ErrUnknownKind) || !strings.Contains(err.Error(), `unknown token store "vault"`) {
		t.Fatalf("Open(vault) = %v, want ErrUnknownKind naming the kind", err)
	}
	if _, _, err := Open(ctx, "file", "", 0); err == nil {
		t.Fatal("Open(file) with no directory succeeded")
	}
}

func TestOpenStoreRealKeychain(t *testing.T) {
	needRealKeychain(t)
	ctx := context.Background()
	for _, kind := range []string{"", KindAuto, KindKeychain} {
		start := time.Now()
		s, warn, err := Open(ctx, kind, t.TempDir(), 0)
		if err != nil || warn != "" || s.Kind() != KindKeychain {
			t.Fatalf("Open(%q) = %v, %q, %v", kind, s, warn, err)
		}
		t.Logf("Open(%q) probe took %s", kind, time.Since(start))
	}
}

// TestKeychainLatency measures the real keychain, for the record (go test -v -run Latency).
func TestKeychainLatency(t *testing.T) {
	needRealKeychain(t)
	ctx := context.Background()
	k := newKeychainStore(DefaultKeychainTimeout)
	name := testName(t) + "/tokens"
	defer k.Delete(ctx, name)
	for _, size := range []int{500, 5000} {
		v := []byte(strings.Repeat("t", size))
		const rounds = 10
		var set, get time.Duration
		for range rounds {
			start := time.Now()
			if err := k.Set(ctx, name, v); err != nil {
				t.Fatal(err)
			}
			set += time.Since(start)
			start = time.Now()
			if _, err := k.Get(ctx, name); err != nil {
				t.Fatal(err)
			}
			get += time.Since(start)
		}
		t.Logf("real keychain, %d-byte value: Set %s, Get %s (mean of %d)", size, set/rounds, get/rounds, rounds)
	}
}

// TestKeychainChunksOnSecretService checks against the real keychain that a large value is kept as chunks no
// bigger than an item may be, and that shrinking it removes the chunks.
func TestKeychainChunksOnSecretService(t *testing.T) {
	needRealKeychain(t)
	ctx := context.Background()
	k := newKeychainStore(DefaultKeychainTimeout)
	name := testName(t) + "/tokens"
	defer k.Delete(ctx, name)
	big := []byte(strings.Repeat("0123456789", 800)) // 8000 bytes: a head and 6 chunks
	if err := k.Set(ctx, name, big); err != nil {
		t.Fatal(err)
	}
	head, err := keyring.Get(KeychainService, name)
	h, ok := parseHead(head)
	if err != nil || !ok || h.n != 6 {
		t.Fatalf("head item = %q, %v; want a head naming 6 chunks", head, err)
	}
	for i := 1; i <= h.n; i++ {
		part, err := keyring.Get(KeychainService, chunkName(name, h.slot, i))
		if err != nil || len(part) > keychainItemMax {
			t.Fatalf("chunk %d: %d bytes, %v", i, len(part), err)
		}
	}
	if got, err := k.Get(ctx, name); err != nil || string(got) != string(big) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if err := k.Set(ctx, name, []byte("small")); err != nil {
		t.Fatal(err)
	}
	for _, slot := range []string{"a", "b"} {
		if _, err := keyring.Get(KeychainService, chunkName(name, slot, 1)); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("chunk %s1 after shrinking: %v, want it gone", slot, err)
		}
	}
	if got, err := k.Get(ctx, name); err != nil || string(got) != "small" {
		t.Fatalf("Get after shrinking = %q, %v", got, err)
	}
}
