package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBrowserURL(t *testing.T) {
	ok := []string{
		"https://auth.meshai.dev/oauth/authorize?client_id=a&state=b&code_challenge=c",
		"http://127.0.0.1:8080/authorize?x=1",
		"http://localhost/authorize",
		"http://[::1]:9/authorize",
	}
	for _, raw := range ok {
		if _, err := BrowserURL(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	bad := []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"http://auth.example.com/authorize",
		`https://x.example/a"; rm -rf ~`,
		"https://x.example/a b",
		"https://x.example/a\n",
		"https://x.example/`id`",
		"https://user:pass@x.example/",
		"//x.example/relative",
		"mailto:a@b.c",
		"",
	}
	for _, raw := range bad {
		if _, err := BrowserURL(raw); err == nil {
			t.Errorf("%q must be refused", raw)
		}
	}
}

// "$" is a valid URI character (RFC 3986 sub-delims) but BrowserURL refuses it: the flow's own parameters are
// percent-encoded, so only shell text put in an endpoint carries one.
func TestBrowserURLRefusesDollar(t *testing.T) {
	for _, raw := range []string{
		"https://127.0.0.1:8443/oauth/authorize$(touch$IFS./pwned)",
		"http://127.0.0.1:8080/oauth/authorize$(id)?client_id=a",
		"https://auth.example.com/authorize?state=$HOME",
		"https://auth.example.com/authorize?x=1&y=$",
		"https://auth.example.com/$",
	} {
		if _, err := ValidateEndpointURL(raw); err != nil {
			t.Fatalf("%q: the case must get past ValidateEndpointURL to test BrowserURL's own rule: %v", raw, err)
		}
		_, err := BrowserURL(raw)
		if err == nil || !strings.Contains(err.Error(), `contains "$", which has meaning to a shell`) {
			t.Errorf("%q: %v", raw, err)
		}
	}
	// Percent-encoded, as the flow's own parameters are, it is just data.
	for _, raw := range []string{
		"https://auth.example.com/authorize?state=%24HOME",
		"https://auth.example.com/authorize?login_hint=a%24b&x=(1)",
	} {
		if _, err := BrowserURL(raw); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

// The refusal comes before anything is printed, opened or run.
func TestOpenBrowserRefusesDollarBeforeOpening(t *testing.T) {
	opened := false
	old := openWithSystem
	openWithSystem = func(string) error { opened = true; return nil }
	defer func() { openWithSystem = old }()
	t.Setenv("BROWSER", "")
	var stderr strings.Builder
	err := OpenBrowser("http://127.0.0.1:8080/oauth/authorize$(touch$IFS./pwned)?client_id=a", "", &stderr)
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
	if err := OpenBrowser(u, script+" --new-window", &stderr); err != nil {
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
	if err := OpenBrowser("file:///etc/passwd", "", &stderr); err == nil || opened || stderr.Len() != 0 {
		t.Fatalf("err %v, opened %v, stderr %q", err, opened, stderr.String())
	}
	t.Setenv("BROWSER", "")
	if err := OpenBrowser("https://auth.example.com/authorize", "", &stderr); err != nil || !opened {
		t.Fatalf("a valid URL goes to the system opener: %v %v", err, opened)
	}
}

func TestNoBrowserOnlyPrints(t *testing.T) {
	opened := false
	old := openWithSystem
	openWithSystem = func(string) error { opened = true; return nil }
	defer func() { openWithSystem = old }()
	var stderr strings.Builder
	if err := OpenBrowser("https://auth.example.com/authorize?x=1", NoBrowser, &stderr); err != nil || opened {
		t.Fatalf("err %v, opened %v", err, opened)
	}
	if !strings.Contains(stderr.String(), "https://auth.example.com/authorize?x=1") {
		t.Errorf("the URL must still be printed: %q", stderr.String())
	}
}
