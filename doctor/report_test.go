package doctor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func sampleReport() Report {
	r := &runner{opts: Options{Getenv: func(string) string { return "" }}}
	r.rep.URL = "https://mcp.example.com/mcp?token=secret"
	r.add(Result{ID: "config.url", Status: OK, Title: "MCP server URL", Detail: "fine"})
	r.add(Result{ID: "net.tls", Status: Fail, Title: "TLS", Detail: "expired", Fix: "renew it"})
	r.add(Result{ID: "oauth.iss", Status: Warn, Title: "Issuer", Detail: "no iss", Fix: "return iss"})
	r.add(Result{ID: "oauth.register", Status: Skip, Title: "Probe", Detail: "not run", Fix: "never shown"})
	r.rep.OK = r.rep.Summary.Fail == 0
	return r.rep
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{
		"meshai-mcp-server doctor: https://mcp.example.com/mcp?…\n",
		"\nConfiguration\n  ✓ MCP server URL: fine\n",
		"\nReachability\n  ✗ TLS: expired\n      fix: renew it\n",
		"\nOAuth discovery\n  ! Issuer: no iss\n      fix: return iss\n",
		"\nClient registration\n  - Probe: not run\n",
		"1 failed: 1 ok, 1 warnings, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "never shown") || strings.Contains(out, "secret") {
		t.Errorf("text report shows a skip's fix or the query:\n%s", out)
	}
}

func TestWriteJSON(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		URL     string           `json:"url"`
		OK      bool             `json:"ok"`
		Checks  []map[string]any `json:"checks"`
		Summary map[string]int   `json:"summary"`
	}
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OK || doc.URL != "https://mcp.example.com/mcp?…" || doc.Summary["fail"] != 1 || doc.Summary["skip"] != 1 {
		t.Errorf("report header = %+v", doc)
	}
	c := doc.Checks[1]
	for k, v := range map[string]any{"id": "net.tls", "status": "fail", "title": "TLS", "detail": "expired", "fix": "renew it", "duration_ms": 0.0} {
		if c[k] != v {
			t.Errorf("check field %s = %v, want %v", k, c[k], v)
		}
	}
	var empty strings.Builder
	_ = Report{}.WriteJSON(&empty)
	if !strings.Contains(empty.String(), `"checks": []`) {
		t.Errorf("an empty report has no checks array: %s", empty.String())
	}
}

func TestAllPassedVerdict(t *testing.T) {
	r := &runner{opts: Options{Getenv: func(string) string { return "" }}}
	r.add(Result{ID: "config.url", Status: OK, Title: "URL"})
	var b strings.Builder
	_ = r.rep.WriteText(&b)
	if !strings.Contains(b.String(), "all checks passed: 1 ok") {
		t.Error(b.String())
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Run(ctx, Options{URL: "https://mcp.example.com/mcp", Getenv: testEnv(t)})
	want(t, rep, "doctor.cancelled", Fail, "did not run", "run doctor again")
	if !strings.Contains(dump(rep), "\nOther\n  ✗ Interrupted") {
		t.Error(dump(rep))
	}
}
