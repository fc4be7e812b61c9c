package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestCommandOAuth checks --oauth, --auto-approve and --access-token-ttl reach the server.
func TestCommandOAuth(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--listen", "127.0.0.1:0", "--oauth", "--auto-approve", "--access-token-ttl", "5m")
	cmd.Env = append(os.Environ(), "MESHAI_DEV_SERVER_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("first stdout line: %v", err)
	}
	url = strings.TrimSpace(url)

	resp, err := http.Get(url + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Issuer string `json:"issuer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || md.Issuer != url {
		t.Fatalf("metadata: %d %+v %v", resp.StatusCode, md, err)
	}
	resp, err = http.Post(url+"/v1/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer resource_metadata="` + url + `/.well-known/oauth-protected-resource/v1/mcp", scope="mcp:read mcp:execute"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("MCP without token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// --auto-approve redirects at once; --access-token-ttl sets expires_in.
	resp, err = http.Post(url+"/oauth/register", "application/json", strings.NewReader(
		`{"redirect_uris":["http://127.0.0.1:1/cb"],"token_endpoint_auth_method":"none","application_type":"native"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	cfg := &oauth2.Config{ClientID: reg.ClientID, RedirectURL: "http://127.0.0.1:2/cb",
		Endpoint: oauth2.Endpoint{AuthURL: url + "/oauth/authorize", TokenURL: url + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams}}
	verifier, resource := oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("resource", url+"/v1/mcp")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), resource))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := neturl.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, loc)
	}
	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil || tok.ExpiresIn != 300 {
		t.Fatalf("exchange: %v %+v", err, tok)
	}
}
