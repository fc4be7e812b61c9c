package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A person may take minutes to answer an elicitation: the bridge adds no timeout of its own. mcp-go's own client
// would give up after 30 s, so this drives the bridge raw and answers after 35 s.
//
// The 35 s are the point, not a stand-in for a condition: no fake clock reaches into the bridge and server
// processes, and a busy machine only makes the wait longer, which the test allows.
func TestSlowElicitationAnswerIsRelayed(t *testing.T) {
	if testing.Short() {
		t.Skip("long: run without -short")
	}
	t.Parallel()
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, strings.Replace(initLine, `"capabilities":{}`, `"capabilities":{"elicitation":{}}`, 1))
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"approve_workflow","arguments":{"workflow":"wf-0042"}}}`)
	var ask map[string]any
	for ask == nil {
		if m := rb.next(t); m["method"] == "elicitation/create" {
			ask = m
		}
	}
	time.Sleep(35 * time.Second)
	idJSON, _ := json.Marshal(ask["id"])
	rb.send(t, `{"jsonrpc":"2.0","id":`+string(idJSON)+`,"result":{"action":"accept","content":{"approve":true,"note":"after lunch"}}}`)
	m := rb.until(t, float64(2))
	res, _ := m["result"].(map[string]any)
	if res == nil || res["isError"] == true || !strings.Contains(asText(res), "after lunch") {
		t.Fatalf("the late answer did not reach the server: %v", m)
	}
}

func asText(res map[string]any) string {
	var sb strings.Builder
	content, _ := res["content"].([]any)
	for _, c := range content {
		if c, ok := c.(map[string]any); ok {
			s, _ := c["text"].(string)
			sb.WriteString(s)
		}
	}
	return sb.String()
}

func TestSIGTERMEndsTheSessionAndExits(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	rb := startRaw(t, bridgeEnv(t), srv.URL+"/v1/mcp")
	rb.send(t, initLine)
	rb.until(t, float64(1))
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	// A long call is running when the signal comes: the bridge answers it and stops anyway.
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"mesh_execute","arguments":{"task":"long","steps":1000},"_meta":{"progressToken":1}}}`)
	for rb.next(t)["method"] != "notifications/progress" {
	}
	if got := srv.Stats().Sessions; got != 1 {
		t.Fatalf("want one open session before the signal, got %d", got)
	}
	if err := rb.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rb.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the bridge did not exit after SIGTERM")
	}
	// Polled until it holds; only a session never deleted (or a call never stopped) reaches the deadline.
	deadline := time.Now().Add(hangGuard)
	for srv.Stats().Sessions != 0 || srv.Stats().Cancelled != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGTERM the session should be deleted and the call stopped: %+v", srv.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// README's first command: the demo runs the bridge against the reference server and shows the exchange.
func TestDemo(t *testing.T) {
	// The shipped binary holds no demo (it would cost every start the reference server's init) and says where it is.
	out, err := exec.Command(bridgeBin, "demo").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cmd/meshai-demo") {
		t.Errorf("meshai-mcp-server demo should fail and point to cmd/meshai-demo: %v\n%s", err, out)
	}

	out, err = exec.Command(demoBin).CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"the bridge signs in (PKCE S256)", "/oauth/authorize?", "← meshai 0.1.0-dev", "← 7 tools", "mesh_execute", "progress 1/4", "progress 4/4", "← result:", "completed in 4 steps"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo transcript lacks %q:\n%s", want, out)
		}
	}
}
