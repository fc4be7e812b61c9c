package devserver

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Running is a listening server.
type Running struct {
	URL  string // base URL, e.g. http://127.0.0.1:41234, no trailing slash
	Addr string // host:port actually listened on

	srv     *Server
	hs      *http.Server
	served  chan struct{}
	once    sync.Once
	closeEr error
}

// Listen starts serving on addr (e.g. "127.0.0.1:0") and returns once it accepts connections.
func Listen(addr string, cfg Config) (*Running, error) {
	if err := checkClients(cfg.Clients); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devserver: listen on %s: %w", addr, err)
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s := New(cfg)
	s.baseURL = cmp.Or(strings.TrimSuffix(cfg.PublicURL, "/"), scheme+"://"+ln.Addr().String())
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	r := &Running{
		URL:    scheme + "://" + ln.Addr().String(),
		Addr:   ln.Addr().String(),
		srv:    s,
		hs:     hs,
		served: make(chan struct{}),
	}
	go func() {
		defer close(r.served)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("devserver: serve", "addr", r.Addr, "err", err)
		}
	}()
	s.log.Info("meshai dev server listening", "url", r.URL, "auth", cfg.APIKey != "", "oauth", cfg.OAuth)
	return r, nil
}

// Close stops the server at once: the listener and every open connection, SSE streams included, are closed
// and running tool calls are cancelled. It is safe to call more than once.
func (r *Running) Close() error {
	r.once.Do(func() {
		err := r.hs.Close()
		<-r.served
		r.srv.shutdown()
		if err != nil {
			r.closeEr = fmt.Errorf("devserver: close %s: %w", r.Addr, err)
		}
	})
	return r.closeEr
}

// Stats is what a running server has seen, for tests and diagnostics.
type Stats struct {
	Started   int64 // mesh_execute calls started
	Completed int64 // mesh_execute calls that ran every step
	Cancelled int64 // mesh_execute calls stopped before the end
	Sessions  int64 // sessions open now

	// OAuth (Config.OAuth) counters.
	Refreshes      int64 // refresh_token grant requests at /oauth/token by authenticated clients, successful or not
	Authorizations int64 // authorization requests at /oauth/authorize (login form posts not counted)
	RefreshReuses  int64 // already-used refresh tokens presented, each of which revoked its grant
	Registrations  int64 // clients registered at /oauth/register
}

// Stats reports the server's counters.
func (r *Running) Stats() Stats {
	st := &r.srv.stats
	out := Stats{Started: st.started.Load(), Completed: st.completed.Load(), Cancelled: st.cancelled.Load(),
		Sessions: r.srv.sessions.Load()}
	if o := r.srv.oauth; o != nil {
		out.Refreshes, out.Authorizations, out.RefreshReuses, out.Registrations =
			o.stats.refreshes.Load(), o.stats.authorizations.Load(), o.stats.reuses.Load(), o.stats.registrations.Load()
	}
	return out
}
