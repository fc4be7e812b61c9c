package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// pipeNet is an in-memory network: inside a synctest bubble real sockets would keep the fake clock from moving,
// pipes do not.
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeNet() *pipeNet { return &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})} }

func (n *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

func (n *pipeNet) Close() error   { n.once.Do(func() { close(n.done) }); return nil }
func (n *pipeNet) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

func (n *pipeNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, srv := net.Pipe()
	select {
	case n.conns <- srv:
		return client, nil
	case <-n.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// limitedMCP is an MCP server (mcp-go's Streamable HTTP) behind a gate that answers chosen requests with 429,
// recording on the server's own clock when each request came.
type limitedMCP struct {
	mcp   http.Handler
	start time.Time
	// limit decides, per request (method and JSON-RPC method, e.g. "POST initialize" or "GET"), whether to
	// answer 429 and with what Retry-After ("" for none).
	limit func(what string, n int) (bool, string)

	mu   sync.Mutex
	seen []string // "1s POST initialize 429"
}

func (s *limitedMCP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	what := r.Method
	if r.Method == http.MethodPost {
		var m struct {
			Method string `json:"method"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &m)
		what += " " + m.Method
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.mu.Lock()
	n := 0
	for _, x := range s.seen {
		if strings.Contains(x, " "+what+" ") {
			n++
		}
	}
	limited, ra := s.limit(what, n)
	status := 200
	if limited {
		status = 429
	}
	s.seen = append(s.seen, fmt.Sprintf("%v %s %d", time.Since(s.start), what, status))
	s.mu.Unlock()
	if limited {
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	s.mcp.ServeHTTP(w, r)
}

func (s *limitedMCP) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// serveLimited runs s on an in-memory network and returns a client of the bridge's kind (NewHTTPClient) that
// reaches it, and a stop function.
func serveLimited(s *limitedMCP) (*http.Client, func()) {
	pn := newPipeNet()
	hs := &http.Server{Handler: s}
	go hs.Serve(pn)
	hc := NewHTTPClient()
	hc.Transport.(*ratelimit.Transport).Base.(*http.Transport).DialContext = pn.dial
	return hc, func() { hs.Close(); pn.Close() }
}

func newMCPHandler() http.Handler {
	ms := server.NewMCPServer("limited", "1", server.WithToolCapabilities(true))
	return server.NewStreamableHTTPServer(ms)
}

const initMsg = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// delivered collects what the local client would get, one channel send per message.
func delivered() (chan string, func([]byte)) {
	ch := make(chan string, 64)
	return ch, func(m []byte) { ch <- string(m) }
}

// An initialize answered 429 with Retry-After: 1 is sent again one second later, on the server's own clock, and
// the client gets the server's answer, not an error.
func TestInitializeWaitsOutA429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &limitedMCP{mcp: newMCPHandler(), start: time.Now(), limit: func(what string, n int) (bool, string) {
			return what == "POST initialize" && n == 0, "1"
		}}
		hc, stop := serveLimited(s)
		defer stop()
		out, deliver := delivered()
		u, _ := url.Parse("http://mcp.test/mcp")
		c := New(Options{URL: u, Mode: HTTPOnly, HTTPClient: hc, Deliver: deliver})
		c.Send(mustParse(t, initMsg))
		if m := <-out; !strings.Contains(m, `"result"`) || !strings.Contains(m, `"limited"`) {
			t.Errorf("the client got %s; want the server's initialize result", m)
		}
		var inits []string
		for _, r := range s.requests() {
			if strings.Contains(r, "initialize") {
				inits = append(inits, r)
			}
		}
		if want := []string{"0s POST initialize 429", "1s POST initialize 200"}; fmt.Sprint(inits) != fmt.Sprint(want) {
			t.Errorf("the server saw %q; want %q", inits, want)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// A wait beyond the cap answers the request with an error that quotes the time, at once, and carries it in
// the error data.
func TestLongRateLimitIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &limitedMCP{mcp: newMCPHandler(), start: time.Now(), limit: func(what string, n int) (bool, string) {
			return what == "POST initialize", "45"
		}}
		hc, stop := serveLimited(s)
		defer stop()
		out, deliver := delivered()
		u, _ := url.Parse("http://mcp.test/mcp?key=secret")
		c := New(Options{URL: u, Mode: HTTPOnly, HTTPClient: hc, Deliver: deliver})
		start := time.Now()
		c.Send(mustParse(t, initMsg))
		m := <-out
		want := `http://mcp.test/mcp is rate limiting (429): it asks to wait 45s (until 00:00:45 UTC); the request was not sent again: try it after that`
		if !strings.Contains(m, want) || !strings.Contains(m, `"retryAt":"2000-01-01T00:00:45Z"`) || !strings.Contains(m, `"status":429`) ||
			strings.Contains(m, "secret") || time.Since(start) != 0 {
			t.Errorf("after %v the client got %s; want at once %q", time.Since(start), m, want)
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("the server saw %d requests; want 1", n)
		}
		_ = c.Close(context.Background())
	})
}

// The GET stream is background work: a refusal there holds nothing up and is no message for the client. A long
// Retry-After only delays reconnecting, and no GET reaches the server before it is over; a 429 that names no
// wait does not hold back notifications/initialized (which waits for the stream's first answer) while the
// bridge guesses at waits.
func TestListenBacksOffOn429(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		at         time.Duration // when to look
		want       []string      // GETs and initialized POSTs the server saw by then
	}{
		{"a long wait", "120", 119 * time.Second, []string{"0s GET 429"}},
		{"reconnected once it is over", "120", 121 * time.Second, []string{"0s GET 429", "2m0s GET 200"}},
		{"no wait named", "", 0, []string{"0s GET 429", "0s POST notifications/initialized 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &limitedMCP{mcp: newMCPHandler(), start: time.Now(), limit: func(what string, n int) (bool, string) {
					return what == "GET" && n == 0, tt.retryAfter
				}}
				hc, stop := serveLimited(s)
				defer stop()
				out, deliver := delivered()
				u, _ := url.Parse("http://mcp.test/mcp")
				c := New(Options{URL: u, Mode: HTTPOnly, HTTPClient: hc, Deliver: deliver})
				defer c.Close(context.Background())
				c.Send(mustParse(t, initMsg))
				<-out
				c.Send(mustParse(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
				time.Sleep(tt.at)
				synctest.Wait()
				var got []string
				for _, r := range s.requests() {
					if strings.Contains(r, " GET ") || strings.Contains(r, "initialized 200") {
						got = append(got, r)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("by %v the server saw %q; want %q", tt.at, got, tt.want)
				}
				select {
				case m := <-out:
					t.Errorf("the client got %s; a refused GET stream is no message for it", m)
				default:
				}
			})
		})
	}
}

// A token source whose token endpoint is rate limiting: the error says so and when, that nothing is lost,
// and never "no credentials".
func TestRateLimitedTokenSource(t *testing.T) {
	rl := &ratelimit.Error{Endpoint: "https://as.example/token", Status: 429, Wait: time.Minute,
		Until: time.Date(2026, 3, 4, 12, 4, 4, 0, time.UTC)}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"rate limited", fmt.Errorf("refresh the access token: the token endpoint %s %s: %w", rl.Endpoint, rl.Reason(), rl),
			"is rate limiting (429): it asks to wait 1m0s (until 12:04:04 UTC); nothing is lost: try again after that"},
		{"other failure", errors.New("read stored tokens: keychain locked"), "cannot get an access token for the server: read stored tokens: keychain locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse("http://mcp.test/mcp")
			c := New(Options{URL: u, Token: failingSource{tt.err}})
			_, err := c.newRequest(context.Background(), http.MethodPost, u, nil, "", "")
			var ue *UpstreamError
			if !errors.As(err, &ue) || !strings.Contains(ue.Message, tt.want) || strings.Contains(ue.Message, "no credentials") {
				t.Errorf("got %v; want %q", err, tt.want)
			}
		})
	}
}

type failingSource struct{ err error }

func (f failingSource) Token() (*oauth2.Token, error) { return nil, f.err }
