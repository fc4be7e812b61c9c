package credstore

import (
	"context"
	"errors"
	"os"
	"testing"
)

// The lazy store opens nothing until used, then behaves as the store Open would have chosen.
func TestOpenStoreLazy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var warned []string
	s := OpenLazy(KindFile, dir, 0, func(w string) { warned = append(warned, w) })
	if _, err := os.Stat(dir + "/tokens"); !os.IsNotExist(err) {
		t.Fatalf("the file store was created before any use: %v", err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of nothing: %v", err)
	}
	if err := s.Set(ctx, "a", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "a"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if s.Kind() != KindFile || len(warned) != 0 {
		t.Errorf("kind %s, warnings %v", s.Kind(), warned)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	bad := OpenLazy("floppy", dir, 0, nil)
	if _, err := bad.Get(ctx, "a"); err == nil {
		t.Error("an unknown store kind must fail on use")
	}
}

// In auto mode with a working Secret Service, a first read settles on the keychain without a write probe.
func TestOpenStoreLazyKeychain(t *testing.T) {
	needRealKeychain(t)
	ctx := context.Background()
	s := OpenLazy(KindAuto, t.TempDir(), 0, func(w string) { t.Errorf("unexpected warning %q", w) })
	if _, err := s.Get(ctx, testName(t)+"/absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	if s.Kind() != KindKeychain {
		t.Errorf("kind %s, want keychain", s.Kind())
	}
}
