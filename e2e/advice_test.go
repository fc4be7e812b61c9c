package e2e

// The advice the real bridge gives with a failed sign-in: added once wherever the failure is shown (tool results,
// notifications/message, stderr), no login command that would sign in elsewhere, and for a cause in the
// configuration one fix and a restart of the MCP client, not a retry through the sign-in tool.

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

func TestAdviceOnceAndOneThing(t *testing.T) {
	for _, c := range []struct {
		name    string
		faults  []devserver.Fault
		clients []devserver.Client
		file    string // a client.json, %d for the callback port
		want    string // the advice every showing of the failure holds
		config  bool   // a cause in the configuration: a restart, no retry
	}{
		{name: "denied in the browser", faults: []devserver.Fault{devserver.FaultDeny},
			want: "the sign-in was refused in the browser; call the meshai_sign_in tool to try again"},
		{name: "no registration, no client", faults: []devserver.Fault{devserver.FaultNoRegistration},
			want: "with --static-oauth-client-info", config: true},
		{name: "wrong client secret, no registration", faults: []devserver.Fault{devserver.FaultNoRegistration},
			clients: []devserver.Client{{ID: "neotoma", Secret: "right-s3cret", AuthMethod: "client_secret_basic"}},
			file:    `{"client_id":"neotoma","client_secret":"wr0ng-s3cret","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["http://127.0.0.1:%d/callback"]}`,
			want:    "give the client_secret and token_endpoint_auth_method that client_id neotoma is registered with in the --static-oauth-client-info file", config: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			if c.file != "" {
				port := freeLoopbackPort(t)
				c.clients[0].RedirectURIs = []string{"http://127.0.0.1:" + strconv.Itoa(port) + "/callback"}
				args = clientInfoFlag(t, strings.Replace(c.file, "%d", strconv.Itoa(port), 1))
			}
			srv := startRecServer(t, devserver.Config{Faults: c.faults, Clients: c.clients})
			b := newRecBrowser(t, browserAuto)
			url := srv.URL + "/v1/mcp"
			s := newRecSession(t, signInEnv(t.TempDir()), append(append(args, "--browser-command", b.command, "--sign-in-wait", "1m"), url)...)
			s.initialize()
			s.notify("notifications/initialized")
			s.await(0, "the failure's notification", func(m map[string]any) bool { return isLog(m, "error") })
			called, _ := s.tool("list_agents")
			if !strings.Contains(called, c.want) {
				t.Errorf("a tool call after the failure: %q, want the advice %q", called, c.want)
			}
			// Every failure the client was shown, and every line on stderr, says its advice once.
			var shown []string
			for _, m := range s.msgs {
				if isLog(m, "error") {
					shown = append(shown, logText(m))
				}
				if res, ok := m["result"].(map[string]any); ok && res["isError"] == true {
					shown = append(shown, asText(res))
				}
				if e, ok := m["error"].(map[string]any); ok {
					msg, _ := e["message"].(string)
					shown = append(shown, msg)
				}
			}
			shown = append(shown, strings.Split(s.rb.stderr.String(), "\n")...)
			for _, text := range shown {
				if n := strings.Count(text, c.want); n > 1 {
					t.Errorf("the advice appears %d times in %q", n, text)
				}
				if twice := repeatedClause(text); twice != "" {
					t.Errorf("%q is said twice in %q", twice, text)
				}
				if strings.Contains(text, "meshai-mcp-server login") {
					t.Errorf("a running bridge quotes the login command, which signs in elsewhere without the URL and flags: %q", text)
				}
				if c.config && strings.Contains(text, "to try again") {
					t.Errorf("a cause in the configuration is met with a retry: %q", text)
				}
			}
			if c.config && !strings.Contains(called, "then restart the MCP client") {
				t.Errorf("a cause in the configuration must be fixed there, then the client restarted: %q", called)
			}
			if b, _ := json.Marshal(shown); !strings.Contains(string(b), c.want) {
				t.Errorf("no failure shown holds %q", c.want)
			}
		})
	}
}

// repeatedClause returns a clause (a part between ": " or "; ") of 20 characters or more that text holds twice.
func repeatedClause(text string) string {
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(strings.NewReplacer(": ", "\x00", "; ", "\x00").Replace(text), func(r rune) bool { return r == 0 }) {
		part = strings.TrimRight(strings.TrimSpace(part), ".")
		if len(part) < 20 {
			continue
		}
		if seen[part] {
			return part
		}
		seen[part] = true
	}
	return ""
}
