// Package bench measures the bridge: cold start, added latency per relayed call, throughput, progress relay
// delay and memory. The Go benchmarks (go test -bench . ./bench/) and the driver bench/cmd/benchrun, run by
// scripts/bench, share the helpers here. Nothing in this package asserts a timing.
package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// APIKey is the key the bench server accepts besides its OAuth tokens.
const APIKey = "bench-key-5d1e0c7a9b"

// Server is the reference server on loopback, with a clock on its progress notifications: the moment each one
// is written to the response, keyed by progress token and step.
type Server struct {
	URL string // the MCP endpoint, …/v1/mcp
	// Base is the server's base URL (scheme://host:port).
	Base string

	hs  *http.Server
	srv *devserver.Server
	ln  net.Listener

	mu    sync.Mutex
	emits map[string]time.Time // "token/step" -> when the server wrote the notification
	conns connCounter
}

// StartServer runs the reference server with OAuth (approving at once) and the API key, mesh_execute stepping
// every step.
func StartServer(step time.Duration) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, emits: map[string]time.Time{}}
	s.Base = "http://" + ln.Addr().String()
	s.URL = s.Base + "/v1/mcp"
	s.srv = devserver.New(devserver.Config{APIKey: APIKey, Step: step, OAuth: true, AutoApprove: true})
	inner := s.srv.Handler()
	s.hs = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case emitsPath:
				s.serveEmits(w, r)
				return
			case connsPath:
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(s.conns.read(r.URL.Query().Get("reset") != ""))
				return
			}
			inner.ServeHTTP(&clockWriter{ResponseWriter: w, s: s}, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         func(c net.Conn, st http.ConnState) { s.conns.state(c, st) },
	}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.hs.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Emitted returns when the server wrote progress notification step of token, if it did.
func (s *Server) Emitted(token string, step int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.emits[token+"/"+strconv.Itoa(step)]
	return t, ok
}

// emitsPath serves the emit times of one progress token, for a measuring process other than the server's.
const emitsPath = "/bench/emits"

// serveEmits answers {"step": unix nanoseconds, …} for ?token=.
func (s *Server) serveEmits(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("token") + "/"
	out := map[string]int64{}
	s.mu.Lock()
	for k, t := range s.emits {
		if step, ok := strings.CutPrefix(k, prefix); ok {
			out[step] = t.UnixNano()
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// Clock tells when the server wrote a progress notification.
type Clock interface {
	// Emitted returns when the server wrote notification step of token, if it did.
	Emitted(token string, step int) (time.Time, bool)
}

// RemoteClock is the Clock of a bench server in another process (benchrun -serve), read over HTTP. The
// processes share the system's wall clock.
type RemoteClock struct {
	Base  string // the server's base URL
	token string
	steps map[string]int64
}

// Emitted implements Clock, fetching the token's emit times once.
func (c *RemoteClock) Emitted(token string, step int) (time.Time, bool) {
	if token != c.token {
		c.token, c.steps = token, nil
		resp, err := http.Get(c.Base + emitsPath + "?token=" + url.QueryEscape(token))
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&c.steps)
			resp.Body.Close()
		}
	}
	ns, ok := c.steps[strconv.Itoa(step)]
	return time.Unix(0, ns), ok
}

var progressMethod = []byte(`"notifications/progress"`)

// note records the progress notifications in one write to a response.
func (s *Server) note(p []byte, at time.Time) {
	if !bytes.Contains(p, progressMethod) {
		return
	}
	for _, ev := range bytes.Split(p, []byte("\n\n")) {
		if !bytes.Contains(ev, progressMethod) {
			continue
		}
		tok, step, ok := ProgressKey(ev)
		if ok {
			s.mu.Lock()
			s.emits[tok+"/"+strconv.Itoa(step)] = at
			s.mu.Unlock()
		}
	}
}

// ProgressKey reads the progress token (a string) and step of a progress notification without decoding it.
func ProgressKey(b []byte) (token string, step int, ok bool) {
	tok := fieldAfter(b, []byte(`"progressToken":"`), '"')
	num := fieldAfter(b, []byte(`"progress":`), ',', '}')
	if tok == nil || num == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(num)))
	if err != nil {
		return "", 0, false
	}
	return string(tok), n, true
}

func fieldAfter(b, key []byte, ends ...byte) []byte {
	i := bytes.Index(b, key)
	if i < 0 {
		return nil
	}
	rest := b[i+len(key):]
	j := bytes.IndexAny(rest, string(ends))
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// clockWriter notes when progress notifications are written. It flushes and unwraps like the writer it wraps.
type clockWriter struct {
	http.ResponseWriter
	s *Server
}

func (w *clockWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.s.note(p, time.Now())
	return n, err
}

func (w *clockWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *clockWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
