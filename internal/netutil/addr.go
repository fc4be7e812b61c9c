package netutil

import (
	"net/netip"
	"strings"
)

// nonPublic lists the address ranges that are not on the public internet, each with the words an error uses for
// it. Order matters only for the words: the first match names the range.
var nonPublic = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address (this machine)"},
	{netip.MustParsePrefix("::/128"), "an unspecified address (this machine)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared address (carrier-grade NAT, RFC 6598)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are an IPv4 address.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// AddrClass says what kind of non-public address a is ("a loopback address", "a private address (RFC 1918)", …),
// or "" for an address on the public internet. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and
// NAT64 (64:ff9b::a.b.c.d) forms are judged by the IPv4 address they carry; a zone never makes one public.
func AddrClass(a netip.Addr) string {
	if !a.IsValid() {
		return "not an IP address"
	}
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is6() {
		b := a.As16()
		if nat64.Contains(a) || isCompat(b) {
			if c := AddrClass(netip.AddrFrom4([4]byte(b[12:]))); c != "" {
				return c + " in an IPv6 form"
			}
			if !nat64.Contains(a) {
				return "an IPv4-compatible address"
			}
		}
	}
	for _, n := range nonPublic {
		if n.prefix.Contains(a) {
			return n.class
		}
	}
	return ""
}

// isCompat reports the deprecated IPv4-compatible form ::a.b.c.d (not :: or ::1, which have classes of their own).
func isCompat(b [16]byte) bool {
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return b[12] != 0 || b[13] != 0
}

// HostClass says why a URL's host (its Hostname, without brackets) names this machine or its network by itself,
// before any lookup: a non-public IP literal (AddrClass), localhost or a name under .localhost (RFC 6761), or a
// number that is not a dotted-quad IP literal (127.1, 2130706433, 0x7f.0.0.1), which some resolvers take for
// one. It returns "" for any other name; what that name resolves to is the dialer's to check (Guard).
func HostClass(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return AddrClass(a)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return "a name for this machine (localhost)"
	}
	if last := h[strings.LastIndexByte(h, '.')+1:]; last != "" && strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return "a number in the place of a host name (an IP address in an unusual form)"
	}
	return ""
}
