package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// testKey is the API key the reference server expects in these tests.
const testKey = "e2e-test-key-7f3a91"

// hangGuard bounds a wait that only a hang would exhaust: a test's context, a wait for a message, a poll. It never
// decides a pass on a fast machine and a fail on a busy one (issue 12); the bridge's own timers that a test waits
// on (--sign-in-wait, --auth-timeout) are set to it too when the test means them to wait for the sign-in.
const hangGuard = 3 * time.Minute

// startServer runs the reference server on loopback for the test.
func startServer(t *testing.T, addr string) *devserver.Running {
	t.Helper()
	srv, err := devserver.Listen(addr, devserver.Config{APIKey: testKey, Step: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("reference server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bridgeEnv is the environment for a bridge process: the test key and a private config dir.
func bridgeEnv(t *testing.T, extra ...string) []string {
	return append(append(os.Environ(), "MESHAI_API_KEY="+testKey, "MESHAI_CONFIG_DIR="+t.TempDir()), extra...)
}

// mcpClient launches the bridge with args and returns mcp-go's stdio client on it, started but not initialized.
func mcpClient(t *testing.T, env []string, args []string, opts ...client.ClientOption) (*client.Client, *syncBuffer) {
	t.Helper()
	stderr := &syncBuffer{}
	tr := transport.NewStdioWithOptions(bridgeBin, env, args, transport.WithCommandStderrWriter(stderr))
	c := client.NewClient(tr, opts...)
	// Start wires the notification and server-request handlers; the transport alone would drop them.
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		assertNoSecrets(t, env, stderr.String())
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", stderr.String())
		}
	})
	return c, stderr
}

// initialize runs the handshake of the given protocol revision ("" lets mcp-go choose).
func initialize(t *testing.T, ctx context.Context, c *client.Client, version string) *mcp.InitializeResult {
	t.Helper()
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "1"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return res
}

func callTool(ctx context.Context, c *client.Client, name string, args map[string]any, progressToken any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if progressToken != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: progressToken}
	}
	return c.CallTool(ctx, req)
}

func text(r *mcp.CallToolResult) string {
	var sb strings.Builder
	for _, c := range r.Content {
		if t, ok := c.(mcp.TextContent); ok {
			sb.WriteString(t.Text)
		}
	}
	return sb.String()
}

// rawBridge is the bridge driven byte by byte, for what mcp-go's client would never send.
type rawBridge struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *syncBuffer
}

func startRaw(t *testing.T, env []string, args ...string) *rawBridge {
	t.Helper()
	return startRawIn(t, "", env, args...)
}

// startRawIn is startRaw with the bridge's working directory set to dir ("" for the test's).
func startRawIn(t *testing.T, dir string, env []string, args ...string) *rawBridge {
	t.Helper()
	cmd := exec.Command(bridgeBin, args...)
	cmd.Env, cmd.Dir = env, dir
	return startRawCmd(t, cmd)
}

// startRawCmd starts cmd (the bridge, or a launcher that becomes it) as a rawBridge.
func startRawCmd(t *testing.T, cmd *exec.Cmd) *rawBridge {
	t.Helper()
	env := cmd.Env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rb := &rawBridge{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), stderr: &syncBuffer{}}
	cmd.Stderr = rb.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(rb.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			rb.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		assertNoSecrets(t, env, rb.stderr.String())
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", rb.stderr.String())
		}
	})
	return rb
}

func (rb *rawBridge) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(rb.stdin, line+"\n"); err != nil {
		t.Fatalf("write stdin: %v", err)
	}
}

// next returns the next stdout line as JSON, failing on anything that is not JSON: stdout carries JSON-RPC only.
func (rb *rawBridge) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case line, ok := <-rb.lines:
		if !ok {
			t.Fatal("stdout closed")
		}
		var m map[string]any
		if strings.HasPrefix(line, "[") { // a batch answer
			var batch []any
			if err := json.Unmarshal([]byte(line), &batch); err == nil {
				return map[string]any{"batch": batch}
			}
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout carried something other than a JSON-RPC message: %q", line)
		}
		return m
	case <-time.After(hangGuard):
		t.Fatalf("no message on stdout within %s", hangGuard)
	}
	return nil
}

// until reads messages until one has the given id, returning it.
func (rb *rawBridge) until(t *testing.T, id any) map[string]any {
	t.Helper()
	for {
		m := rb.next(t)
		if m["id"] == id {
			return m
		}
	}
}

// waitConnectionsClosed waits until no TCP connection to addr (an IPv4 host:port) is open on this machine's side
// any more, ESTABLISHED or CLOSE_WAIT: after the server at addr closed, that is when its clients have seen it. It
// reads /proc/net/tcp; elsewhere the test is skipped, and fails under CI.
func waitConnectionsClosed(t *testing.T, addr string) {
	t.Helper()
	want, err := procNetTCPAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			msg := "needs /proc/net/tcp to see the bridge's connections close: " + err.Error()
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		open := 0
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st ...; st 01 is ESTABLISHED, 08 CLOSE_WAIT.
			if f := strings.Fields(line); len(f) > 3 && f[2] == want && (f[3] == "01" || f[3] == "08") {
				open++
			}
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to %s still open %s after it closed", open, addr, hangGuard)
		}
	}
}

// procNetTCPAddr writes an IPv4 host:port as /proc/net/tcp does: the address as a little-endian hex word, the port
// in hex.
func procNetTCPAddr(addr string) (string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return "", fmt.Errorf("%q is not an IPv4 host:port: %v", addr, err)
	}
	ip := ap.Addr().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port()), nil
}

// initLine is a 2025-11-25 initialize request for raw tests.
const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// assertNoSecrets fails the test when the bridge's stderr or its log file holds a secret the run used: the API
// key from env, or any token or client secret in the file store of its config directory. Every e2e test that
// starts a bridge runs it at cleanup.
func assertNoSecrets(t *testing.T, env []string, stderr string) {
	t.Helper()
	var secrets []string
	dir := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "MESHAI_API_KEY="); ok && v != "" {
			secrets = append(secrets, v)
		}
		if v, ok := strings.CutPrefix(kv, "MESHAI_CONFIG_DIR="); ok {
			dir = v
		}
	}
	logFile := ""
	if dir != "" {
		secrets = append(secrets, storedSecrets(t, dir)...)
		b, _ := os.ReadFile(filepath.Join(dir, "meshai-mcp-server.log"))
		logFile = string(b)
	}
	for _, sec := range secrets {
		if len(sec) < 8 {
			continue
		}
		if strings.Contains(stderr, sec) || strings.Contains(logFile, sec) {
			t.Errorf("a secret (%d chars) appears in the bridge's stderr or log file", len(sec))
		}
	}
}
