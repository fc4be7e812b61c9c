// Command driver is the client-under-test of the MCP conformance suite (scripts/conformance): it plays the
// desktop MCP client that starts meshai-mcp-server over stdio and talks to it, while the bridge signs in to
// the suite's test server and relays the calls over HTTP.
//
// The suite runs it as `driver <scenario URL>` with MCP_CONFORMANCE_SCENARIO (and, for some scenarios,
// MCP_CONFORMANCE_CONTEXT, JSON) in its environment. It starts the bridge from MESHAI_CONFORMANCE_BRIDGE with a
// fresh config dir and a file token store, opening the sign-in URL with MESHAI_CONFORMANCE_FETCH (a "browser"
// that follows redirects onto the bridge's loopback callback). Then it sends initialize,
// notifications/initialized, tools/list and tools/call, and exits 0 when every answer is a result.
//
// MESHAI_CONFORMANCE_DEADLINE (a Go duration, default 25s) bounds the whole run. MESHAI_CONFORMANCE_CLIENT_METADATA_URL
// (default https://conformance-test.local/client-metadata.json, the URL auth/basic-cimd expects; empty: none) is
// passed as --client-metadata-url.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

const protocolVersion = "2025-11-25"

type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "driver: "+format+"\n", args...)
}

func main() {
	os.Exit(run())
}

func run() int {
	if len(os.Args) < 2 {
		logf("usage: driver URL")
		return 2
	}
	url := os.Args[len(os.Args)-1]
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	bridge, fetch := os.Getenv("MESHAI_CONFORMANCE_BRIDGE"), os.Getenv("MESHAI_CONFORMANCE_FETCH")
	if bridge == "" || fetch == "" {
		logf("MESHAI_CONFORMANCE_BRIDGE and MESHAI_CONFORMANCE_FETCH must name the bridge and fetchurl binaries")
		return 2
	}
	deadline := 25 * time.Second
	if s := os.Getenv("MESHAI_CONFORMANCE_DEADLINE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			logf("MESHAI_CONFORMANCE_DEADLINE: %v", err)
			return 2
		}
		deadline = d
	}
	var ctx struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if s := os.Getenv("MCP_CONFORMANCE_CONTEXT"); s != "" {
		if err := json.Unmarshal([]byte(s), &ctx); err != nil {
			logf("MCP_CONFORMANCE_CONTEXT: %v", err)
			return 2
		}
	}

	configDir, err := os.MkdirTemp("", "meshai-conformance-config-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer os.RemoveAll(configDir)

	// The client ID metadata document URL the suite expects (auth/basic-cimd); the bridge uses it only where the
	// authorization server advertises client_id_metadata_document_supported, and never for a pre-registered client.
	cimd := "https://conformance-test.local/client-metadata.json"
	if v, ok := os.LookupEnv("MESHAI_CONFORMANCE_CLIENT_METADATA_URL"); ok {
		cimd = v
	}
	args := []string{"--debug", "--browser-command", fetch, "--auth-timeout", "20s"}
	if cimd != "" {
		args = append(args, "--client-metadata-url", cimd)
	}
	if ctx.ClientID != "" {
		args = append(args, "--client-id", ctx.ClientID)
		if ctx.ClientSecret != "" {
			args = append(args, "--client-secret", ctx.ClientSecret)
		}
	}
	args = append(args, url)
	cmd := exec.Command(bridge, args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MESHAI_API_KEY=") && !strings.HasPrefix(kv, "MESHAI_CONFIG_DIR=") &&
			!strings.HasPrefix(kv, "MESHAI_TOKEN_STORE=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "MESHAI_CONFIG_DIR="+configDir, "MESHAI_TOKEN_STORE=file")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logf("%v", err)
		return 1
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf("%v", err)
		return 1
	}
	logf("scenario %q: starting %s %s", scenario, bridge, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		logf("starting the bridge: %v", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Everything the bridge writes on stdout, one JSON-RPC message a line.
	msgs := make(chan message, 16)
	go func() {
		defer close(msgs)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
		for sc.Scan() {
			var m message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				logf("bridge stdout is not JSON-RPC: %q", sc.Text())
				continue
			}
			msgs <- m
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	timeout := time.After(deadline)
	send := func(m map[string]any) error {
		m["jsonrpc"] = "2.0"
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		logf("-> %s", b)
		_, err = stdin.Write(append(b, '\n'))
		return err
	}
	nextID := 0
	// call sends a request and waits for its answer, answering the bridge's own requests on the way.
	call := func(method string, params any) (json.RawMessage, error) {
		nextID++
		id := nextID
		if err := send(map[string]any{"id": id, "method": method, "params": params}); err != nil {
			return nil, fmt.Errorf("%s: writing to the bridge: %w", method, err)
		}
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return nil, fmt.Errorf("%s: the bridge closed its stdout before answering", method)
				}
				if m.Method != "" {
					if len(m.ID) > 0 { // a request from the server: answer it so that nothing waits on us
						logf("<- request %s (answered with an empty result)", m.Method)
						_ = send(map[string]any{"id": m.ID, "result": map[string]any{}})
					} else {
						logf("<- notification %s", m.Method)
					}
					continue
				}
				if string(m.ID) != fmt.Sprint(id) {
					logf("<- answer to an unknown id %s", m.ID)
					continue
				}
				if len(m.Error) > 0 {
					logf("<- %s error %s", method, m.Error)
					return nil, fmt.Errorf("%s: error %s", method, m.Error)
				}
				logf("<- %s result %s", method, truncate(m.Result, 400))
				return m.Result, nil
			case <-timeout:
				return nil, fmt.Errorf("%s: no answer within %s", method, deadline)
			}
		}
	}

	err = func() error {
		if _, err := call("initialize", map[string]any{
			"protocolVersion": protocolVersion,
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]any{"name": "meshai-conformance-driver", "version": "1.0.0"},
		}); err != nil {
			return err
		}
		if err := send(map[string]any{"method": "notifications/initialized"}); err != nil {
			return err
		}
		if _, err := call("tools/list", map[string]any{}); err != nil {
			return err
		}
		switch scenario {
		case "initialize":
			return nil
		case "tools_call":
			_, err := call("tools/call", map[string]any{"name": "add_numbers", "arguments": map[string]any{"a": 1, "b": 2}})
			return err
		default:
			_, err := call("tools/call", map[string]any{"name": "test-tool", "arguments": map[string]any{}})
			return err
		}
	}()
	rc := 0
	if err != nil {
		logf("FAILED: %v", err)
		rc = 1
	} else {
		logf("all answers are results")
	}

	// Closing stdin tells the bridge to exit; give it a moment, then kill it.
	_ = stdin.Close()
	select {
	case werr := <-exited:
		var ee *exec.ExitError
		if werr != nil && !errors.As(werr, &ee) {
			logf("bridge: %v", werr)
		} else if werr != nil {
			logf("bridge exited: %v", werr)
		}
	case <-time.After(3 * time.Second):
		logf("the bridge did not exit 3s after stdin closed: killing it")
		_ = cmd.Process.Kill()
		<-exited
	}
	return rc
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
