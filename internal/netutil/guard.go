package netutil

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
)

// namedKey is the context key of a ServerNamed mark.
type namedKey struct{}

// named is a request for a URL a server named, on behalf of the MCP server at host server.
type named struct {
	target string // the request's host:port, lower case: a dial to another address is one to a proxy
	server string // the MCP server's host, lower case: the user named it, so it is never refused
}

// ServerNamed marks ctx, the context of one HTTP request to target (host:port), as fetching a URL that a server's
// document named for the MCP server at host server. A Guard then refuses to connect it to an address that is not
// public (AddrClass), unless the host is server itself, or server was only ever reached at non-public addresses
// (an intranet server whose authorization server is on the intranet too). A connection to a proxy is not checked:
// the proxy is the user's, and it is the proxy that resolves the name.
func ServerNamed(ctx context.Context, target, server string) context.Context {
	return context.WithValue(ctx, namedKey{}, &named{target: strings.ToLower(target), server: strings.ToLower(server)})
}

// Guard is a dialer for the bridge's HTTP transport that enforces ServerNamed marks at connect time, on the very
// address it connects to: a name that resolves to 127.0.0.1, or resolves to a public address once and to a
// loopback one the next time (DNS rebinding), is caught where a check of the URL cannot see it. Requests without
// a mark dial as Dialer does. The zero value is ready to use.
type Guard struct {
	Dialer net.Dialer

	mu   sync.Mutex
	seen map[string]seenAt // host → the kinds of address connections to it reached
}

// seenAt records whether connections to a host reached public addresses, non-public ones, or both.
type seenAt struct{ public, private bool }

// RefusedAddressError is a connection a Guard refused: a server named host, and it resolved to a non-public address.
type RefusedAddressError struct {
	Host  string // the host as named
	Addr  string // the address it resolved to
	Class string // what kind of address that is (AddrClass)
}

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s at %s, %s: a server named it, and a server that is not on this machine or its network may only name public hosts",
		e.Host, e.Addr, e.Class)
}

// DialContext connects to addr, refusing a non-public address when ctx carries a ServerNamed mark for addr.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.ToLower(host)
	m, _ := ctx.Value(namedKey{}).(*named)
	if m == nil || strings.ToLower(addr) != m.target || host == m.server || g.onlyPrivate(m.server) {
		c, err := g.Dialer.DialContext(ctx, network, addr)
		if err == nil {
			g.observe(host, c.RemoteAddr())
		}
		return c, err
	}
	d := g.Dialer
	d.Control = nil
	d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &RefusedAddressError{Host: host, Addr: address, Class: "not an IP address"}
		}
		if class := AddrClass(ap.Addr()); class != "" {
			return &RefusedAddressError{Host: host, Addr: ap.Addr().String(), Class: class}
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}

// observe records the kind of address a connection to host reached.
func (g *Guard) observe(host string, remote net.Addr) {
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]seenAt{}
	}
	s := g.seen[host]
	if AddrClass(ap.Addr()) == "" {
		s.public = true
	} else {
		s.private = true
	}
	g.seen[host] = s
}

// onlyPrivate reports whether connections to host were made and every one reached a non-public address: the
// server is on this machine or its network, whatever its name. One public connection is enough to say no, and
// any answer from a server came over a connection this Guard made (or through a proxy, which it never counts),
// so a server cannot make itself look local by rebinding its own name.
func (g *Guard) onlyPrivate(host string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.seen[host]
	return s.private && !s.public
}
