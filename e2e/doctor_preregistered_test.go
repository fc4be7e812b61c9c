package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// doctorCheck is one check of `doctor --json`.
type doctorCheck struct {
	ID, Status, Detail, Fix string
}

// runDoctorJSON runs `meshai-mcp-server doctor --json args...` and returns its checks by id and all it printed.
func runDoctorJSON(t *testing.T, env []string, args ...string) (map[string]doctorCheck, string) {
	t.Helper()
	cmd := exec.Command(bridgeBin, append([]string{"doctor", "--json"}, args...)...)
	var stderr strings.Builder
	cmd.Env, cmd.Dir, cmd.Stderr = env, t.TempDir(), &stderr
	out, _ := cmd.Output()
	var rep struct{ Checks []doctorCheck }
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out, stderr.String())
	}
	checks := map[string]doctorCheck{}
	for _, c := range rep.Checks {
		checks[c.ID] = c
	}
	return checks, string(out) + stderr.String()
}

// Doctor with a Sigil-style client.json (client_secret_post, one exact loopback redirect URI) reports the
// configured client instead of dynamic registration and, after a login with the same flags, refreshes with
// client_secret_post; on a server publishing no metadata, with the endpoints set by hand.
func TestDoctorSigilClientJSON(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults []devserver.Fault
		manual bool
	}{
		{"metadata published", nil, false},
		{"endpoints set by hand", []devserver.Fault{devserver.FaultNoPRM, devserver.FaultNoASMetadata}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, redirect := sigilServer(t, c.faults...)
			flags := clientInfoFlag(t, `{"client_id":"sigil-bridge","client_secret":"${SIGIL_CLIENT_SECRET}","redirect_uris":["`+redirect+`"],`+
				`"token_endpoint_auth_method":"client_secret_post"}`)
			dir := t.TempDir()
			env := append(signInEnv(dir), "SIGIL_CLIENT_SECRET=sigil-s3cret-value")
			url := srv.URL + "/v1/mcp"
			if c.manual {
				flags = append(flags, "--authorization-url", srv.URL+"/oauth/authorize", "--token-url", srv.URL+"/oauth/token")
			}

			checks, out := runDoctorJSON(t, env, append(append([]string{"--register-probe"}, flags...), url)...)
			if got := checks["oauth.client-id"]; got.Status != "ok" || !strings.Contains(got.Detail,
				"pre-registered client_id sigil-bridge (--static-oauth-client-info), token_endpoint_auth_method client_secret_post with a client secret (not shown), redirect URI "+redirect) {
				t.Errorf("client registration: %+v", got)
			}
			if got := checks["oauth.register"]; got.Status != "skip" || !strings.Contains(got.Detail, "a pre-registered client is configured") {
				t.Errorf("registration probe: %+v", got)
			}
			if got := checks["oauth.as"]; c.manual && (got.Status != "ok" || !strings.Contains(got.Detail, "set by hand")) {
				t.Errorf("authorization server metadata: %+v", got)
			}
			if got := checks["oauth.token"]; got.Status != "ok" {
				t.Errorf("token endpoint probe: %+v", got)
			}

			if out := runBridgeCommand(t, env, append(append([]string{"login", "--browser-command", fetchBin}, flags...), url)...); !strings.Contains(out, "Signed in to") {
				t.Fatalf("login: %s", out)
			}
			expireStoredTokens(t, dir)
			checks, out2 := runDoctorJSON(t, env, append(append([]string{"--refresh"}, flags...), url)...)
			if got := checks["creds.refresh"]; got.Status != "ok" || !strings.Contains(got.Detail, "as client_id sigil-bridge (client_secret_post)") {
				t.Errorf("refresh: %+v", got)
			}
			if got := checks["session.initialize"]; got.Status != "ok" {
				t.Errorf("round trip after the refresh: %+v", got)
			}
			if got := srv.TokenCounts(); got.ByGrant["refresh_token"] != 1 {
				t.Errorf("token counts %+v: want 1 refresh", got)
			}
			if strings.Contains(out+out2, "sigil-s3cret-value") {
				t.Error("the client secret appears in doctor's output")
			}
		})
	}
}
