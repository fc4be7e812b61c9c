package netutil

import (
	"net/url"
	"testing"
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
