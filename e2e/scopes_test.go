package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// login, serve and doctor ask a server for the same scopes, by one rule: the challenge's scope, else MeshAI's
// documented mcp:read mcp:execute on MeshAI's own host, else scopes_supported; --scope replaces the choice, and a
// 403 insufficient_scope still adds what it asks for.
func TestScopesLoginServeDoctorAgree(t *testing.T) {
	listed := []string{"openid", "profile", "email", "mcp:read", "mcp:execute", "mcp:manage"}
	tests := []struct {
		name   string
		cfg    devserver.Config
		meshai bool     // the server answers as https://auth.meshai.dev
		args   []string // flags given to all three
		want   string
		stepUp string // with a call that needs mcp:manage: what the step-up asks for
	}{
		{"the challenge names scopes", devserver.Config{}, false, nil, "mcp:read mcp:execute", ""},
		{"no challenge scope: scopes_supported, as the spec has it", devserver.Config{ScopesSupported: listed, NoChallengeScope: true}, false, nil,
			strings.Join(listed, " "), ""},
		{"MeshAI's own endpoint: its documented scopes", devserver.Config{ScopesSupported: listed, NoChallengeScope: true}, true, nil,
			"mcp:read mcp:execute", "mcp:read mcp:execute mcp:manage"},
		{"--scope replaces the choice; the step-up still adds", devserver.Config{ScopesSupported: listed, NoChallengeScope: true}, false,
			[]string{"--scope", "mcp:read"}, "mcp:read", "mcp:read mcp:execute mcp:manage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			tt.cfg.OAuth, tt.cfg.AutoApprove, tt.cfg.Step = true, true, 5*time.Millisecond
			var (
				extraEnv []string
				setAddr  = func(string) {}
				url      = ""
			)
			if tt.meshai {
				var tlsCfg *tls.Config
				tlsCfg, extraEnv, setAddr = meshAIStandIn(t)
				tt.cfg.TLS, tt.cfg.PublicURL = tlsCfg, "https://"+meshAIHost
				url = "https://" + meshAIHost + "/v1/mcp"
			}
			srv, err := devserver.Listen("127.0.0.1:0", tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			setAddr(srv.Addr)
			t.Cleanup(func() { srv.Close() })
			if url == "" {
				url = srv.URL + "/v1/mcp"
			}
			envIn := func(dir string) []string { return append(signInEnv(dir), extraEnv...) }

			// doctor: what it says a sign-in asks for.
			cmd := exec.Command(bridgeBin, append(append([]string{"doctor", "--json"}, tt.args...), url)...)
			cmd.Env = envIn(t.TempDir())
			out, _ := cmd.Output()
			var rep struct {
				Checks []struct{ ID, Status, Detail string }
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("doctor --json: %v\n%s", err, out)
			}
			doctorSays := ""
			for _, c := range rep.Checks {
				if c.ID == "oauth.scopes" {
					doctorSays = c.Detail
				}
			}
			if !strings.HasPrefix(doctorSays, tt.want+" (from ") {
				t.Errorf("doctor: %q, want %q first\n%s", doctorSays, tt.want, out)
			}

			// login: what it asked the authorization server for.
			args := append(append([]string{"login", "--browser-command", fetchBin}, tt.args...), url)
			if out := runBridgeCommand(t, envIn(t.TempDir()), args...); !strings.Contains(out, "Signed in to") {
				t.Fatalf("login: %s", out)
			}
			if got := srv.AskedScopes(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("login asked for %q, want %q", got, tt.want)
			}

			// serve: the first request's 401 starts the sign-in.
			c, stderr := mcpClient(t, envIn(t.TempDir()), append(append([]string{"--browser-command", fetchBin, "--sign-in-wait", hangGuard.String()}, tt.args...), url),
				client.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
			initialize(t, ctx, c, mcp.LATEST_LEGACY_PROTOCOL_VERSION)
			if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
				t.Fatalf("tools/list: %v\n%s", err, stderr)
			}
			if got := srv.AskedScopes(); len(got) != 2 || got[1] != tt.want {
				t.Fatalf("serve asked for %q, want %q after login's", got, tt.want)
			}
			if tt.stepUp == "" {
				return
			}
			r, err := callTool(ctx, c, "submit_workflow", map[string]any{"workflow_type": "parallel", "payload": map[string]any{"goal": "x"}}, nil)
			if err != nil || r.IsError {
				t.Fatalf("submit_workflow after the step-up: %v %+v\n%s", err, r, stderr)
			}
			if got := srv.AskedScopes(); len(got) != 3 || got[2] != tt.stepUp {
				t.Fatalf("the step-up asked for %q, want %q", got, tt.stepUp)
			}
		})
	}
}
