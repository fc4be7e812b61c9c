package netutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestHostPort(t *testing.T) {
	for raw, want := range map[string]string{
		"https://h.example/mcp":      "h.example:443",
		"http://h.example/mcp":       "h.example:80",
		"https://h.example:8443/mcp": "h.example:8443",
		"https://[::1]/mcp":          "[::1]:443",
		"http://[2001:db8::1]/":      "[2001:db8::1]:80",
		"http://[::1]:9000/":         "[::1]:9000",
		"HTTPS://h.example/":         "h.example:443",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := HostPort(u); got != want {
			t.Errorf("HostPort(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":       true,
		"LocalHost":       true,
		"127.0.0.1":       true,
		"127.8.9.10":      true,
		"::1":             true,
		"[::1]":           false, // a Hostname has no brackets
		"0.0.0.0":         false,
		"10.0.0.1":        false,
		"localhost.evil":  false,
		"mcp.example.com": false,
		"":                false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestIsTimeout(t *testing.T) {
	deadline, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"context deadline", deadline.Err(), true},
		{"wrapped deadline", fmt.Errorf("step: %w", context.DeadlineExceeded), true},
		{"net timeout", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, true},
		{"cancelled", context.Canceled, false},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{"plain", errors.New("boom"), false},
	} {
		if got := IsTimeout(c.err); got != c.want {
			t.Errorf("%s: IsTimeout(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
