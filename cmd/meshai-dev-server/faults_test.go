package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCommandFaults checks that --fault takes the new fault names and --retry-after reaches the 429 answers.
func TestCommandFaults(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--listen", "127.0.0.1:0", "--oauth", "--fault", "rate-limit-token",
		"--fault", "api-key-only", "--retry-after", "3s")
	cmd.Env = append(os.Environ(), "MESHAI_DEV_SERVER_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("first stdout line: %v", err)
	}
	url = strings.TrimSpace(url)

	resp, err := http.Post(url+"/oauth/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("token: %d Retry-After %q, want 429 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, err = http.Get(url + "/.well-known/oauth-protected-resource/v1/mcp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("PRM under api-key-only: %d, want 404", resp.StatusCode)
	}
}

// An unknown --fault is refused with the list of names.
func TestCommandUnknownFault(t *testing.T) {
	err := run([]string{"--fault", "nope"})
	if err == nil || !strings.Contains(err.Error(), "exchange-invalid-grant") {
		t.Errorf("run --fault nope: %v", err)
	}
}
