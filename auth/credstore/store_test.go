package credstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// EnvTestSecretService, set to 1, says a real, unlocked Secret Service (or OS keychain) is there for the tests.
const envTestSecretService = "MESHAI_TEST_SECRET_SERVICE"

// needRealKeychain skips a test that needs the OS keychain when there is none, but fails it in CI.
func needRealKeychain(t *testing.T) {
	t.Helper()
	if os.Getenv(envTestSecretService) == "1" {
		return
	}
	msg := "no OS keychain for tests: " + envTestSecretService + "=1 is not set (scripts/test starts an unlocked gnome-keyring and sets it)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must run the tests through scripts/test")
	}
	t.Skip(msg)
}

// testName returns a fresh name prefix, so tests against a real keychain never touch anyone's items.
func testName(t *testing.T) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "test-" + hex.EncodeToString(b[:])
}

// testStores returns the backends to run a test against: always a file store, and the real keychain when there is one.
func testStores(t *testing.T) map[string]Store {
	t.Helper()
	f, err := newFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Store{KindFile: f, "fake-keychain": &keychainStore{kr: newFakeKeyring(), service: KeychainService, timeout: time.Second}}
	if os.Getenv(envTestSecretService) == "1" {
		m[KindKeychain] = newKeychainStore(DefaultKeychainTimeout)
	}
	return m
}

func TestStoreKey(t *testing.T) {
	base := storeKey("https://mcp.example.com/mcp", "https://as.example.com", "client-1")
	if len(base) != 16 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("storeKey = %q, want 16 lowercase hex digits", base)
	}
	if again := storeKey("https://mcp.example.com/mcp", "https://as.example.com", "client-1"); again != base {
		t.Fatalf("storeKey is not stable: %q then %q", base, again)
	}
	for _, tc := range []struct{ name, resource, issuer, client string }{
		{"other resource", "https://mcp.example.com/other", "https://as.example.com", "client-1"},
		{"other issuer", "https://mcp.example.com/mcp", "https://as2.example.com", "client-1"},
		{"other client", "https://mcp.example.com/mcp", "https://as.example.com", "client-2"},
		{"no client", "https://mcp.example.com/mcp", "https://as.example.com", ""},
		{"separator moved", "https://mcp.example.com/mcphttps://as.example.com", "", "client-1"},
	} {
		if got := storeKey(tc.resource, tc.issuer, tc.client); got == base || checkName(got) != nil {
			t.Errorf("%s: storeKey = %q (base %q)", tc.name, got, base)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"0123456789abcdef/tokens", true},
		{"a", true},
		{"A-b_c/d", true},
		{"", false},
		{"/tokens", false},
		{"key/", false},
		{"a//b", false},
		{"a/../b", false},
		{"a.b", false},
		{"a#1", false},
		{"a b", false},
		{`a\b`, false},
		{"ключ", false},
		{strings.Repeat("a", maxNameLen+1), false},
	} {
		if err := checkName(tc.name); (err == nil) != tc.ok {
			t.Errorf("checkName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	for kind, s := range testStores(t) {
		t.Run(kind, func(t *testing.T) {
			name := testName(t) + "/tokens"
			t.Cleanup(func() { _ = s.Delete(ctx, name) })
			if _, err := s.Get(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get before Set: %v, want ErrNotFound", err)
			}
			for _, n := range []int{0, 1, 100, 1400, 1500, 2500, 6000, 20000, 1000, 10} {
				v := []byte(strings.Repeat("x", n) + fmt.Sprint(n))
				if err := s.Set(ctx, name, v); err != nil {
					t.Fatalf("Set %d bytes: %v", len(v), err)
				}
				got, err := s.Get(ctx, name)
				if err != nil || string(got) != string(v) {
					t.Fatalf("Get after Set of %d bytes: %d bytes, %v", len(v), len(got), err)
				}
			}
			if err := s.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, name); err != nil {
				t.Fatalf("second Delete: %v, want nil", err)
			}
			if _, err := s.Get(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
			}
			if err := s.Set(ctx, "bad name", []byte("x")); err == nil {
				t.Fatal("Set accepted a bad name")
			}
		})
	}
}

func TestTypedValues(t *testing.T) {
	ctx := context.Background()
	exp := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	for kind, s := range testStores(t) {
		t.Run(kind, func(t *testing.T) {
			key := testName(t)
			t.Cleanup(func() { _ = forgetKey(ctx, s, key) })
			if _, err := loadTokens(ctx, s, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadTokens of nothing: %v", err)
			}
			if _, err := loadRegistration(ctx, s, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadRegistration of nothing: %v", err)
			}
			tok := &Tokens{AccessToken: "at-" + strings.Repeat("a", 1800), RefreshToken: "rt-secret", TokenType: "Bearer", Expiry: exp, Scope: "mcp"}
			reg := &Registration{Issuer: "https://as.example.com", ClientID: "cid", ClientSecret: "cs-secret",
				TokenEndpointAuthMethod: "client_secret_post", RedirectURI: "http://127.0.0.1:33418/callback", CallbackPort: 33418, RegisteredAt: exp}
			if err := saveTokens(ctx, s, key, tok); err != nil {
				t.Fatal(err)
			}
			if err := saveRegistration(ctx, s, key, reg); err != nil {
				t.Fatal(err)
			}
			gotT, err := loadTokens(ctx, s, key)
			if err != nil || *gotT != *tok {
				t.Fatalf("LoadTokens = %v, %v", gotT, err)
			}
			gotR, err := loadRegistration(ctx, s, key)
			if err != nil || *gotR != *reg {
				t.Fatalf("LoadRegistration = %v, %v", gotR, err)
			}
			if err := forgetKey(ctx, s, key); err != nil {
				t.Fatal(err)
			}
			if _, err := loadTokens(ctx, s, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadTokens after Forget: %v", err)
			}
			if _, err := loadRegistration(ctx, s, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadRegistration after Forget: %v", err)
			}
		})
	}
}

func TestUnreadableValueSaysWhatToDoWithoutQuotingIt(t *testing.T) {
	ctx := context.Background()
	s := testStores(t)[KindFile]
	if err := s.Set(ctx, "k/tokens", []byte(`{"access_token": "at-secret-value", oops}`)); err != nil {
		t.Fatal(err)
	}
	_, err := loadTokens(ctx, s, "k")
	if !errors.Is(err, ErrUnreadable) || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "a new sign-in replaces it") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("LoadTokens of a damaged value: %v", err)
	}
}

func TestSecretsStayOutOfFormatting(t *testing.T) {
	tok := Tokens{AccessToken: "at-secret", RefreshToken: "rt-secret", TokenType: "Bearer"}
	reg := Registration{ClientID: "cid", ClientSecret: "cs-secret"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tok, &tok, reg, &reg} {
			if out := fmt.Sprintf(f, v); strings.Contains(out, "-secret") {
				t.Errorf("Sprintf(%q) shows a secret: %s", f, out)
			}
		}
	}
}
