package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// freeLoopbackPort returns a port nothing listens on now (port 8080 of the guides may be taken on a CI machine).
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sigilServer is a reference server (OAuth, approving at once) with faults, at which Sigil's client is registered
// beforehand: client_id sigil-bridge, client_secret_post, one exact redirect URI on a free loopback port, returned.
func sigilServer(t *testing.T, faults ...devserver.Fault) (*devserver.Running, string) {
	t.Helper()
	redirect := "http://localhost:" + strconv.Itoa(freeLoopbackPort(t)) + "/oauth/callback"
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Step: 5 * time.Millisecond, Faults: faults,
		Clients: []devserver.Client{{ID: "sigil-bridge", Secret: "sigil-s3cret-value", AuthMethod: "client_secret_post", RedirectURIs: []string{redirect}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, redirect
}

// clientInfoFlag writes info to a client.json and returns the flag that gives the bridge (or doctor) that file.
func clientInfoFlag(t *testing.T, info string) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "client.json")
	if err := os.WriteFile(file, []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--static-oauth-client-info", "@" + file}
}

// A Sigil-style confidential client, registered at the server for client_secret_post with one exact redirect URI
// (the guide's http://localhost:8080/oauth/callback, on a free port here), signs in from its client.json alone:
// the file's redirect URI sets the callback's host, port and path, its method authenticates the exchange, the
// refresh and the revocation.
func TestSigilClientJSON(t *testing.T) {
	srv, redirect := sigilServer(t)
	flag := clientInfoFlag(t, `{"client_id":"sigil-bridge","client_secret":"${SIGIL_CLIENT_SECRET}","redirect_uris":["`+redirect+`"],`+
		`"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code","refresh_token"],"client_name":"Sigil"}`)
	dir := t.TempDir()
	env := append(signInEnv(dir), "SIGIL_CLIENT_SECRET=sigil-s3cret-value")
	url := srv.URL + "/v1/mcp"

	out := runBridgeCommand(t, env, append(append([]string{"login", "--browser-command", fetchBin}, flag...), url)...)
	if !strings.Contains(out, "Signed in to") || !strings.Contains(out, "signing in as client_id sigil-bridge with the redirect URI "+redirect) {
		t.Fatalf("login: %s", out)
	}
	if strings.Contains(out, "sigil-s3cret-value") {
		t.Error("the client secret appears in the output")
	}

	// A bridge an hour later: the expired token is refreshed with client_secret_post, no new sign-in.
	expireStoredTokens(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := mcpClient(t, env, append(append([]string{"--browser-command", fetchBin}, flag...), url), client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("list_agents: %v %+v\n%s", err, r, stderr)
	}
	c.Close()
	if got := srv.TokenCounts(); got.ByGrant["refresh_token"] != 1 || got.Authorizations != 1 {
		t.Fatalf("token counts %+v: want 1 refresh and 1 authorization", got)
	}
	if out := runBridgeCommand(t, env, append(append([]string{"logout"}, flag...), url)...); !strings.Contains(out, "Signed out") {
		t.Fatalf("logout: %s", out)
	}
	if n := srv.LiveAccessTokens(); n != 0 {
		t.Errorf("%d access tokens live after logout: the revocation was not authenticated as registered", n)
	}
}

// A client given by --client-id whose registration lacks the bridge's redirect URI: the server shows its own error
// page and the browser never comes back. The sign-in line, the sign-in tool and the timeout name the redirect URI
// and how to change it.
func TestClientIDRedirectRefused(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true,
		Clients: []devserver.Client{{ID: "neotoma", RedirectURIs: []string{"http://localhost:8080/oauth/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	url := srv.URL + "/v1/mcp"
	env := signInEnv(t.TempDir())

	// The browser gets the server's error page at once; --auth-timeout 1 only ends the wait sooner.
	out := runBridgeCommand(t, env, "login", "--client-id", "neotoma", "--auth-timeout", "1", "--browser-command", fetchBin, url)
	for _, want := range []string{"signing in as client_id neotoma with the redirect URI http://127.0.0.1:",
		"the likely cause is that client_id neotoma does not have this redirect URI registered",
		"--callback-port, --host and --callback-path"} {
		if !strings.Contains(out, want) {
			t.Errorf("login output lacks %q:\n%s", want, out)
		}
	}

	// A bridge with a config dir of its own, so that login's failure does not stand in for its sign-in.
	s := newRecSession(t, signInEnv(t.TempDir()), "--client-id", "neotoma", "--browser-command", fetchBin, "--sign-in-wait", "1", url)
	s.initialize()
	text, _ := s.tool("meshai_sign_in")
	if !strings.Contains(text, "/oauth/authorize?") || !strings.Contains(text, "its registration must list the redirect URI http://127.0.0.1:") {
		t.Errorf("the sign-in tool says %q", text)
	}
}

// A server that publishes no OAuth metadata at all: --authorization-url and --token-url (and --registration-url)
// set the endpoints by hand; login and serving use them.
func TestManualEndpoints(t *testing.T) {
	srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Step: 5 * time.Millisecond,
		Faults: []devserver.Fault{devserver.FaultNoPRM, devserver.FaultNoASMetadata}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	url := srv.URL + "/v1/mcp"
	dir := t.TempDir()
	env := signInEnv(dir)
	if out := runBridgeCommand(t, env, "login", "--browser-command", fetchBin, url); strings.Contains(out, "Signed in to") {
		t.Fatalf("without metadata or endpoints, login signed in: %s", out)
	}
	manual := []string{"--authorization-url", srv.URL + "/oauth/authorize", "--token-url", srv.URL + "/oauth/token", "--registration-url", srv.URL + "/oauth/register"}
	if out := runBridgeCommand(t, env, append(append([]string{"login", "--browser-command", fetchBin}, manual...), url)...); !strings.Contains(out, "Signed in to") {
		t.Fatalf("login with the endpoints set by hand: %s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, stderr := mcpClient(t, env, append(append([]string{"--browser-command", fetchBin}, manual...), url), client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	if r, err := callTool(ctx, c, "list_agents", nil, nil); err != nil || r.IsError {
		t.Fatalf("list_agents: %v %+v\n%s", err, r, stderr)
	}
	if n := srv.Stats().Authorizations; n != 1 {
		t.Errorf("%d authorizations, want 1 (login's; serving uses its tokens)", n)
	}
}
