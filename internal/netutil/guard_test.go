package netutil

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// countingListener accepts connections on 127.0.0.1 and counts them.
func countingListener(t *testing.T) (port string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

func TestGuard(t *testing.T) {
	port, accepted := countingListener(t)
	for _, c := range []struct {
		name    string
		addr    string // dialed
		mark    bool
		target  string // the mark's target; "" = addr
		server  string
		refused bool
	}{
		{name: "no mark: dials as a plain dialer", addr: "127.0.0.1:" + port},
		{name: "named loopback literal", addr: "127.0.0.1:" + port, mark: true, server: "mcp.example.com", refused: true},
		{name: "named name resolving to loopback", addr: "localhost:" + port, mark: true, server: "mcp.example.com", refused: true},
		{name: "named in an IPv4-mapped form", addr: "[::ffff:127.0.0.1]:" + port, mark: true, server: "mcp.example.com", refused: true},
		{name: "the MCP server's own host is the user's", addr: "localhost:" + port, mark: true, server: "localhost"},
		{name: "a dial to another address is to a proxy", addr: "127.0.0.1:" + port, mark: true, target: "as.example.com:443", server: "mcp.example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &Guard{}
			ctx := context.Background()
			if c.mark {
				target := c.target
				if target == "" {
					target = c.addr
				}
				ctx = ServerNamed(ctx, target, c.server)
			}
			before := accepted.Load()
			conn, err := g.DialContext(ctx, "tcp", c.addr)
			if conn != nil {
				conn.Close()
			}
			var re *RefusedAddressError
			switch {
			case c.refused && !errors.As(err, &re):
				t.Fatalf("dial %s: %v, want a *RefusedAddressError", c.addr, err)
			case c.refused:
				if !strings.Contains(re.Error(), "loopback") || re.Host == "" {
					t.Errorf("error %q does not say what was refused", re)
				}
				if conn2, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil { // a connection of our own flushes the accept loop
					conn2.Close()
				}
				waitAccepted(t, accepted, before+1)
				if got := accepted.Load(); got != before+1 {
					t.Errorf("the listener accepted %d connections of the refused dial", got-before-1)
				}
			case err != nil:
				t.Fatalf("dial %s: %v", c.addr, err)
			default: // the dial's connection is counted here, not late in the next case's count
				waitAccepted(t, accepted, before+1)
			}
		})
	}
}

// waitAccepted waits until the listener has counted n connections (ours, dialed last, is among them).
func waitAccepted(t *testing.T, accepted *atomic.Int64, n int64) {
	t.Helper()
	for accepted.Load() < n {
		select {
		case <-t.Context().Done():
			t.Fatal("the listener never accepted our own connection")
		default:
			_, _ = net.LookupHost("localhost") // a yield that does some work
		}
	}
}

// A server only ever reached at non-public addresses (an intranet name) may name non-public hosts; once it was
// reached at a public address it may not, whatever its name resolves to later.
func TestGuardIntranetServer(t *testing.T) {
	port, _ := countingListener(t)
	g := &Guard{}
	named := ServerNamed(context.Background(), "localhost:"+port, "intranet.example")
	if _, err := g.DialContext(named, "tcp", "localhost:"+port); err == nil {
		t.Fatal("a named loopback host was dialed before the server was seen")
	}
	g.observe("intranet.example", &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 443})
	c, err := g.DialContext(named, "tcp", "localhost:"+port)
	if err != nil {
		t.Fatalf("a server seen only on the intranet: %v", err)
	}
	c.Close()
	g.observe("intranet.example", &net.TCPAddr{IP: net.ParseIP("203.0.114.9"), Port: 443})
	if _, err := g.DialContext(named, "tcp", "localhost:"+port); err == nil {
		t.Fatal("a server seen once at a public address may still name loopback hosts")
	}
}
