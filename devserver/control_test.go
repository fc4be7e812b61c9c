package devserver

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestTrackExecutionsCountsRunsByTask(t *testing.T) {
	r := start(t, time.Millisecond)
	e := r.TrackExecutions()
	c := connect(t, r)
	callTool(t, c, "mesh_execute", map[string]any{"task": "a", "steps": 1})
	callTool(t, c, "mesh_execute", map[string]any{"task": "a", "steps": 1})
	callTool(t, c, "mesh_execute", map[string]any{"task": "b", "steps": 1})
	if got := e.Of("a"); got != (Execution{Started: 2, Completed: 2, Repeated: 1}) {
		t.Errorf("task a: %+v, want 2 started, 2 completed, 1 repeated", got)
	}
	if got := e.Of("b"); got != (Execution{Started: 1, Completed: 1}) {
		t.Errorf("task b: %+v, want 1 started, 1 completed", got)
	}
	if n := len(e.All()); n != 2 {
		t.Errorf("%d tasks counted, want 2", n)
	}
}

func TestDropSessionsAnswers404ThenAcceptsNewSessions(t *testing.T) {
	r := start(t, time.Millisecond)
	s := rawSession(t, r)
	r.DropSessions()
	resp := s.post(testCtx(t), map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("request on a dropped session: %d, want 404", resp.StatusCode)
	}
	rawSession(t, r) // a new session works
}

func TestRevokeAccessTokensKeepsRefreshTokensAndRevokeGrantsDoesNot(t *testing.T) {
	r := startOAuth(t, Config{AutoApprove: true})
	c, tok := tokens(t, r, "mcp:read mcp:execute")
	mcpStatus(t, r, str(tok["access_token"]), http.StatusOK)
	if n := r.RevokeAccessTokens(); n != 1 {
		t.Fatalf("RevokeAccessTokens revoked %d, want 1", n)
	}
	mcpStatus(t, r, str(tok["access_token"]), http.StatusUnauthorized)
	status, fresh := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}})
	if status != http.StatusOK {
		t.Fatalf("refresh after RevokeAccessTokens: %d %v", status, fresh)
	}
	mcpStatus(t, r, str(fresh["access_token"]), http.StatusOK)
	if n := r.RevokeGrants(); n != 1 {
		t.Fatalf("RevokeGrants revoked %d, want 1", n)
	}
	mcpStatus(t, r, str(fresh["access_token"]), http.StatusUnauthorized)
	status, out := tokenRequest(t, r, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(fresh["refresh_token"])}})
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh of a revoked grant: %d %v, want 400 invalid_grant", status, out)
	}
	if r.RevokeGrants() != 0 || start(t, time.Millisecond).RevokeAccessTokens() != 0 {
		t.Error("nothing left to revoke, and nothing to revoke without OAuth")
	}
}
