package auth

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A second browser sign-in right after one is refused, not opened: no tab storm.
func TestLoginCooldown(t *testing.T) {
	dir := t.TempDir()
	store, _, err := OpenStore(context.Background(), KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://127.0.0.1:9/v1/mcp") // nothing listens: any network attempt would fail differently
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store}
	s.lastFlow = time.Now()
	err = s.Login(context.Background(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not opening another sign-in window") {
		t.Fatalf("err = %v", err)
	}
}
