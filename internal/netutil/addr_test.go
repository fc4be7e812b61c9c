package netutil

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAddrClass(t *testing.T) {
	for _, c := range []struct {
		addr string
		want string // a word the class must hold; "" = public
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"10.0.0.1", "RFC 1918"},
		{"172.16.0.1", "RFC 1918"},
		{"172.31.255.255", "RFC 1918"},
		{"192.168.1.1", "RFC 1918"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"169.254.169.254", "link-local"}, // cloud metadata
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "unique local"},
		{"fd12:3456::1", "unique local"},
		{"::ffff:127.0.0.1", "loopback"},     // IPv4-mapped
		{"::ffff:10.1.2.3", "RFC 1918"},      // IPv4-mapped
		{"::127.0.0.1", "loopback"},          // IPv4-compatible
		{"64:ff9b::7f00:1", "loopback"},      // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", "link-local"}, // NAT64 of 169.254.169.254
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"192.0.2.7", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""}, // just outside 172.16/12
		{"100.128.0.1", ""},
		{"2606:4700::1111", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"::ffff:8.8.8.8", ""},
	} {
		got := AddrClass(netip.MustParseAddr(c.addr))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("AddrClass(%s) = %q, want one with %q", c.addr, got, c.want)
		}
	}
	if AddrClass(netip.Addr{}) == "" {
		t.Error("the zero Addr counts as public")
	}
}

func TestHostClass(t *testing.T) {
	for host, local := range map[string]bool{
		"localhost":             true,
		"LOCALHOST.":            true,
		"api.localhost":         true,
		"127.0.0.1":             true,
		"::1":                   true,
		"::ffff:127.0.0.1":      true,
		"10.0.0.5":              true,
		"2130706433":            true, // 127.0.0.1 as one number
		"127.1":                 true,
		"0x7f.0.0.1":            true,
		"017700000001":          true,
		"mcp.example.com":       false,
		"localhost.evil.com":    false,
		"8.8.8.8":               false,
		"h1.example":            false,
		"xn--bcher-kva.example": false,
	} {
		if got := HostClass(host) != ""; got != local {
			t.Errorf("HostClass(%q) = %q: local %v, want %v", host, HostClass(host), got, local)
		}
	}
}
