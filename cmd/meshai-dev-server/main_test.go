package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the command when re-executed by TestCommand.
func TestMain(m *testing.M) {
	if os.Getenv("MESHAI_DEV_SERVER_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestCommand(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--listen", "127.0.0.1:0", "--api-key", "k", "--step", "10ms")
	cmd.Env = append(os.Environ(), "MESHAI_DEV_SERVER_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	out := bufio.NewReader(stdout)
	url, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("first stdout line: %v", err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, "/") {
		t.Fatalf("first line %q is not the base URL", url)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(2 * time.Minute): // only a hang guard: a server that ignored SIGTERM
		t.Fatal("still running 2 minutes after SIGTERM")
	}
	if len(rest) != 0 {
		t.Errorf("stdout has more than the URL: %q", rest)
	}
}
