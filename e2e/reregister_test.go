package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The authorization server forgets the bridge's dynamic client (expired unused clients, a reset database): the
// refresh gets invalid_client. The bridge must not loop on the dead client or its refresh token: it registers
// again, signs in once, and the call that met the 401 is answered.
func TestForgottenClientRegistersAgain(t *testing.T) {
	srv := startOAuthServer(t, time.Hour)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := useBridge(t, ctx, srv, dir)
	defer c.Close()
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("call after sign-in: %v %+v", err, r)
	}
	before := srv.Stats()
	if before.Registrations != 1 || before.Authorizations != 1 {
		t.Fatalf("first sign-in: %+v", before)
	}
	if srv.ForgetClients() != 1 || srv.RevokeAccessTokens() == 0 {
		t.Fatal("the server had no client or token to forget")
	}
	r, err := callTool(ctx, c, "list_agents", nil, nil)
	if err != nil || r.IsError {
		t.Fatalf("the call after the server forgot the client: %v %+v\n%s", err, r, stderr.String())
	}
	after := srv.Stats()
	if got := after.Registrations - before.Registrations; got != 1 {
		t.Errorf("%d new registrations, want 1", got)
	}
	if got := after.Authorizations - before.Authorizations; got != 1 {
		t.Errorf("%d new authorizations, want 1", got)
	}
	if !strings.Contains(stderr.String(), "no longer knows this app's registration") {
		t.Errorf("stderr should say why the bridge registers again:\n%s", stderr.String())
	}
	// A second bridge on the machine uses the new registration and tokens: no browser.
	c2, _ := useBridge(t, ctx, srv, dir)
	c2.Close()
	if n := srv.Stats().Authorizations; n != after.Authorizations {
		t.Errorf("a second bridge signed in again (%d authorizations)", n)
	}
}
