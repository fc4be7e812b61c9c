package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// Doctor and the bridge agree: doctor fails a check before a login exactly when that login then fails, and each
// of doctor's fixes is one a user can follow there (no `login` where login cannot work).
func TestDoctorAgreesWithLogin(t *testing.T) {
	const secret = "neotoma-s3cret-VALUE"
	for _, c := range []struct {
		name      string
		faults    []devserver.Fault
		apiKey    string // the server's
		client    string // the client.json's secret; "" for none
		failing   string // the check doctor fails, with fixSays in its fix; "" when login works
		others    string // another check that may fail with it
		fixSays   string
		loginSays string
	}{
		{"login page on 401", []devserver.Fault{devserver.FaultHTML401}, "", "", "", "", "", "Signed in to"},
		{"pre-registered client", []devserver.Fault{devserver.FaultNoRegistration}, "", secret, "", "", "", "Signed in to"},
		{"wrong client secret", []devserver.Fault{devserver.FaultNoRegistration}, "", "WRONG-secret-xyz", "oauth.token", "", "correct the client_secret", "invalid_client"},
		{"API key only", []devserver.Fault{devserver.FaultAPIKeyOnly}, "the-key", "", "creds.stored", "oauth.prm", "set MESHAI_API_KEY", "offers no OAuth sign-in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			redirect := "http://127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t)) + "/callback"
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, APIKey: c.apiKey, Step: 5 * time.Millisecond, Faults: c.faults,
				Clients: []devserver.Client{{ID: "neotoma", Secret: secret, AuthMethod: "client_secret_basic", RedirectURIs: []string{redirect}}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			var flags []string
			if c.client != "" {
				flags = clientInfoFlag(t, `{"client_id":"neotoma","client_secret":"`+c.client+`","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["`+redirect+`"]}`)
			}
			env := signInEnv(t.TempDir())
			url := srv.URL + "/v1/mcp"

			checks, out := runDoctorJSON(t, env, append(flags, url)...)
			for id, ch := range checks {
				if ch.Status == "fail" && id != c.failing && id != c.others {
					t.Errorf("doctor fails %s: %s (fix %s)", id, ch.Detail, ch.Fix)
				}
				if c.failing != "" && strings.Contains(ch.Fix, "login") {
					t.Errorf("doctor's %s advises a login that fails: %s", id, ch.Fix)
				}
			}
			if got := checks[c.failing]; c.failing != "" && (got.Status != "fail" || !strings.Contains(got.Fix, c.fixSays)) {
				t.Errorf("%s = %+v, want a failure whose fix says %q\n%s", c.failing, got, c.fixSays, out)
			}

			login := runBridgeCommand(t, env, append(append([]string{"login", "--browser-command", fetchBin}, flags...), url)...)
			if !strings.Contains(login, c.loginSays) {
				t.Errorf("login said %q, want %q", login, c.loginSays)
			}
			if c.failing != "" {
				return
			}
			checks, out = runDoctorJSON(t, env, append(flags, url)...)
			if got := checks["session.tools"]; got.Status != "ok" {
				t.Errorf("after the login, doctor's session: %+v\n%s", got, out)
			}
			if strings.Contains(out, secret) {
				t.Error("the client secret appears in doctor's output")
			}
		})
	}
}
