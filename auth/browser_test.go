package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The refusal comes before anything is printed, opened or run.
func TestOpenBrowserRefusesDollarBeforeOpening(t *testing.T) {
	opened := false
	old := openWithSystem
	openWithSystem = func(string) error { opened = true; return nil }
	defer func() { openWithSystem = old }()
	t.Setenv("BROWSER", "")
	var stderr strings.Builder
	_, err := OpenBrowser("http://127.0.0.1:8080/oauth/authorize$(touch$IFS./pwned)?client_id=a", "", &stderr)
	if err == nil || !strings.Contains(err.Error(), `"$"`) || opened || stderr.Len() != 0 {
		t.Fatalf("err %v, opened %v, stderr %q", err, opened, stderr.String())
	}
}

func TestOpenBrowserCommandGetsOnlyTheURL(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := filepath.Join(dir, "open.sh")
	// Written beside, then renamed: the file appears only once complete.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+out+".tmp && mv "+out+".tmp "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	const u = "https://auth.example.com/authorize?state=a%20b&x=(id);ls*"
	if _, err := OpenBrowser(u, script+" --new-window", &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), u) {
		t.Errorf("the URL must be printed to stderr: %q", stderr.String())
	}
	// OpenBrowser starts the command without waiting for it: poll for its output, with a deadline that only
	// guards against a command that never runs.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := os.ReadFile(out)
		if err == nil {
			if got := string(b); got != "--new-window\n"+u+"\n" {
				t.Fatalf("the command got %q", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser command never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenBrowserRefusesBeforeOpening(t *testing.T) {
	opened := false
	old := openWithSystem
	openWithSystem = func(string) error { opened = true; return nil }
	defer func() { openWithSystem = old }()
	var stderr strings.Builder
	if _, err := OpenBrowser("file:///etc/passwd", "", &stderr); err == nil || opened || stderr.Len() != 0 {
		t.Fatalf("err %v, opened %v, stderr %q", err, opened, stderr.String())
	}
	t.Setenv("BROWSER", "")
	if _, err := OpenBrowser("https://auth.example.com/authorize", "", &stderr); err != nil || !opened {
		t.Fatalf("a valid URL goes to the system opener: %v %v", err, opened)
	}
}

func TestNoBrowserOnlyPrints(t *testing.T) {
	opened := false
	old := openWithSystem
	openWithSystem = func(string) error { opened = true; return nil }
	defer func() { openWithSystem = old }()
	var stderr strings.Builder
	if _, err := OpenBrowser("https://auth.example.com/authorize?x=1", NoBrowser, &stderr); err != nil || opened {
		t.Fatalf("err %v, opened %v", err, opened)
	}
	if !strings.Contains(stderr.String(), "https://auth.example.com/authorize?x=1") {
		t.Errorf("the URL must still be printed: %q", stderr.String())
	}
}
