package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Short-lived access tokens, as the reference server issues them with AccessTokenTTL.
var shortTTLs = []time.Duration{10 * time.Second, 3 * time.Second}

// A token fresh from a sign-in is used, not refreshed at once (a token living under 60 s once was, 18 ms after the
// sign-in); the idle bridge refreshes it on its own once a third of its lifetime is left, and no sooner. The server
// tells an early refresh by its own clock, so a slow machine cannot make this pass or fail.
func TestShortTokenIsUsedAfterSignIn(t *testing.T) {
	for _, ttl := range shortTTLs {
		t.Run(ttl.String(), func(t *testing.T) {
			t.Parallel()
			srv := startOAuthServer(t, ttl)
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			c, stderr := useBridge(t, ctx, srv, dir)
			if got := storedLifetime(t, dir); got != int64(ttl/time.Second) {
				t.Errorf("the stored tokens keep a lifetime of %d s, want %d s", got, int64(ttl/time.Second))
			}
			waitFor(t, ctx, "the bridge's background refresh", func() bool { return srv.TokenCounts().ByGrant["refresh_token"] >= 1 })
			if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
				t.Fatalf("call after the refresh: %v %+v", err, r)
			}
			if n := srv.TokenCounts(); n.EarlyRefreshes != 0 || n.Authorizations != 1 {
				t.Fatalf("%d refreshes before a third of the lifetime was left, %d authorizations; want 0 and 1\n%s",
					n.EarlyRefreshes, n.Authorizations, stderr.String())
			}
			if strings.Contains(stderr.String(), "background refresh failed") {
				t.Errorf("a refresh failed:\n%s", stderr.String())
			}
		})
	}
}

// Twenty bridges started together after a short-lived token expired: a new process reads the token's lifetime
// from the store, so none refreshes a token another has just fetched (they once made 21 refreshes, one each), and
// nobody signs in again.
func TestTwentyBridgesAfterAShortTokenExpired(t *testing.T) {
	for _, ttl := range shortTTLs {
		t.Run(ttl.String(), func(t *testing.T) {
			if testing.Short() && ttl > 5*time.Second { // waits out the token's lifetime: near 20 s in all
				t.Skip("long: run without -short")
			}
			t.Parallel()
			srv := startOAuthServer(t, ttl)
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			login := exec.CommandContext(ctx, bridgeBin, "login", "--browser-command", fetchBin, srv.URL+"/v1/mcp")
			login.Env = signInEnv(dir)
			if out, err := login.CombinedOutput(); err != nil {
				t.Fatalf("login: %v\n%s", err, out)
			}
			waitFor(t, ctx, "the sign-in's token to expire at the server", func() bool { return srv.LiveAccessTokens() == 0 })
			before := srv.TokenCounts()
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() { useBridge(t, ctx, srv, dir) })
			}
			wg.Wait()
			after, st := srv.TokenCounts(), srv.Stats()
			refreshes := after.ByGrant["refresh_token"] - before.ByGrant["refresh_token"]
			t.Logf("%d refresh requests from 20 bridges", refreshes)
			if refreshes < 1 || after.EarlyRefreshes != 0 || st.RefreshReuses != 0 {
				t.Errorf("%d refreshes, %d of them of a token not two thirds through its life, %d reused refresh tokens; "+
					"want at least 1 (the token had expired), 0 and 0", refreshes, after.EarlyRefreshes, st.RefreshReuses)
			}
			if after.Authorizations != 1 || after.ByGrant["authorization_code"] != 1 {
				t.Errorf("%d authorization requests, %d codes redeemed; want the login's 1 and 1",
					after.Authorizations, after.ByGrant["authorization_code"])
			}
		})
	}
}

// waitFor polls cond until it holds, failing when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// storedLifetime returns the lifetime (expires_in) kept with the tokens in the file store of dir.
func storedLifetime(t *testing.T, dir string) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.tokens.json"))
	if len(files) != 1 {
		t.Fatalf("want one tokens file, got %v", files)
	}
	var tok struct {
		ExpiresIn int64 `json:"expires_in"`
	}
	b, err := os.ReadFile(files[0])
	if err != nil || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("read %s: %v", files[0], err)
	}
	return tok.ExpiresIn
}
