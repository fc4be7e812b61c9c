// Package devserver is a MeshAI-compatible reference MCP server built on mcp-go.
//
// It serves the Streamable HTTP transport on /v1/mcp (stateful sessions,
// resumable SSE streams, standalone GET stream) and the legacy HTTP+SSE
// transport on /v1/sse and /v1/message, both backed by one MCPServer with the
// MeshAI tools, resources and prompts. The stdio bridge is tested and demoed
// against it.
//
// A tools/call on /v1/mcp is not cancelled when its connection drops: the
// client has ResumeGrace to resume the stream with Last-Event-ID, after which
// the call is cancelled. notifications/cancelled, the end of the session and
// Running.Close cancel it at once.
package devserver

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ResumeGrace is how long a tools/call on /v1/mcp keeps running after its connection drops without a resume.
const ResumeGrace = 2 * time.Second

// defaultStep is the pause between mesh_execute steps when Config.Step is 0.
const defaultStep = 200 * time.Millisecond

// Server identity and the protocol versions it serves.
const (
	serverName    = "meshai"
	serverVersion = "0.1.0-dev"
)

// sessionVersions are the session-based protocol revisions; the legacy SSE transport serves only these, while
// /v1/mcp also serves the stateless 2026-07-28 core.
var sessionVersions = []string{
	mcp.ProtocolVersion20251125,
	mcp.ProtocolVersion20250618,
	mcp.ProtocolVersion20250326,
	mcp.ProtocolVersion20241105,
}

// Errors that cancel tool calls, visible through context.Cause.
var (
	errServerClosed = errors.New("meshai server closed")
	errSessionEnded = errors.New("mcp session ended")
	errAbandoned    = errors.New("connection dropped and the stream was not resumed")
	errCallDone     = errors.New("request finished")
)

// Config configures a reference server.
type Config struct {
	APIKey string        // non-empty: every MCP request needs "Authorization: Bearer <APIKey>"
	Step   time.Duration // pause between mesh_execute progress steps; 0 means 200ms
	Logger *slog.Logger  // nil: discard

	// OAuth serves an OAuth 2.1 authorization server (see oauth.go) and accepts its access tokens on the MCP
	// endpoints; an APIKey, if set, still works too and carries every scope.
	OAuth          bool
	AutoApprove    bool              // OAuth: /oauth/authorize approves at once as "demo", without the login page
	AccessTokenTTL time.Duration     // OAuth: access token lifetime; 0 means 60m
	Users          map[string]string // OAuth: username -> password for the login page; nil means {"demo": "demo"}
	DeviceInterval time.Duration     // OAuth: the device grant's polling interval (whole seconds, at least 1); 0 means 5s
	OriginResource bool              // OAuth: the protected resource is the server's origin, not its MCP endpoint (RFC 9728 allows either)
	// ScopesSupported, when set, is the protected resource metadata's scopes_supported, and the authorization
	// server grants these too: e.g. OpenID's and mcp:manage beside MeshAI's, as some deployments list them.
	ScopesSupported  []string
	NoChallengeScope bool // OAuth: the 401 challenge names no scope, so clients fall back to scopes_supported
	// Clients are clients registered by the operator beforehand (as Sigil's or Neotoma's guides have one register):
	// their own client_id, secret, token endpoint auth method and redirect URIs, which must match exactly.
	Clients []Client
	// TLS, when set, makes Listen serve https with it. PublicURL, when set, is the base URL clients reach the server
	// at (through a proxy, under another name): the OAuth issuer and every URL the metadata names start with it.
	TLS       *tls.Config
	PublicURL string

	// Faults breaks the server on purpose, one way per entry (see faults.go), so clients and doctor can be
	// tested against each failure. It is the initial set; SetFaults replaces it while the server runs.
	Faults []Fault
	// RetryAfter is the Retry-After of the rate-limit faults' 429 answers, rounded up to whole seconds; 0 means 1s.
	RetryAfter time.Duration
}

// Server is the reference MeshAI server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mcp      *server.MCPServer
	http     *server.StreamableHTTPServer
	sse      *server.SSEServer
	ids      *server.InsecureStatefulSessionIdManager
	calls    *calls
	tools    *toolCalls
	base     context.Context
	stop     context.CancelCauseFunc
	wfSeq    atomic.Int64
	wfs      sync.Map // workflow id -> workflow
	stats    execStats
	sessions atomic.Int64 // open sessions, both transports
	closer   sync.Once
	oauth    *oauthServer             // nil unless Config.OAuth
	baseURL  string                   // set by Listen: the OAuth issuer; otherwise derived from each request
	faults   atomic.Pointer[faultSet] // the faults in force (SetFaults)
}

// execStats counts mesh_execute activity; tests read it to see what a handler did.
type execStats struct {
	started, steps, cancelled, completed atomic.Int64
}

// New builds a reference server; serve it with Handler or use Listen.
func New(cfg Config) *Server {
	if cfg.Step <= 0 {
		cfg.Step = defaultStep
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	base, stop := context.WithCancelCause(context.Background())
	s := &Server{cfg: cfg, log: logger, base: base, stop: stop,
		ids: &server.InsecureStatefulSessionIdManager{}}
	s.SetFaults(cfg.Faults...)
	s.calls = newCalls(base, ResumeGrace, logger)
	s.tools = newToolCalls()
	if cfg.OAuth {
		s.oauth = newOAuthServer(s)
		s.oauth.preregister(cfg.Clients)
	}

	hooks := &server.Hooks{}
	hooks.AddOnRequestInitialization(rejectSessionless)
	hooks.AddOnRegisterSession(func(context.Context, server.ClientSession) { s.sessions.Add(1) })
	hooks.AddOnUnregisterSession(func(_ context.Context, sess server.ClientSession) {
		s.sessions.Add(-1)
		s.tools.cancelSession(sess.SessionID(), errSessionEnded)
	})
	s.mcp = server.NewMCPServer(serverName, serverVersion,
		server.WithToolCapabilities(true),
		server.WithResourceCapabilities(true, true),
		server.WithPromptCapabilities(true),
		server.WithLogging(),
		server.WithElicitation(),
		//lint:ignore SA1019 the reference server serves session-based clients too, which need server-initiated requests
		server.WithLegacyServerInitiatedRequests(),
		server.WithRecovery(),
		server.WithHooks(hooks),
		server.WithToolHandlerMiddleware(s.toolLifetime),
		server.WithLogger(logger),
		server.WithInstructions("MeshAI orchestrates AI agents from LangChain, CrewAI, AutoGen, LlamaIndex and "+
			"Semantic Kernel. Use list_agents to discover agents, mesh_execute to run a task across them, and "+
			"submit_workflow/approve_workflow for multi-stage work."),
	)
	s.addTools()
	s.addResources()
	s.addPrompts()

	s.http = server.NewStreamableHTTPServer(s.mcp,
		server.WithEndpointPath("/v1/mcp"),
		server.WithSessionIdManager(s.ids),
		server.WithEventStore(trackingStore{EventStore: server.NewInMemoryEventStore(), calls: s.calls}),
		server.WithHTTPContextFunc(s.calls.detach),
		server.WithStreamableHTTPLogger(logger),
		// Reached under its public name (PublicURL) through a proxy, the Host is not loopback by design.
		server.WithDisableLocalhostProtection(cfg.PublicURL != ""),
	)
	s.sse = server.NewSSEServer(s.mcp,
		server.WithStaticBasePath("/v1"),
		server.WithSSEEndpoint("/sse"),
		server.WithMessageEndpoint("/message"),
		server.WithSSEContextFunc(markLegacy),
		server.WithSSEDisableLocalhostProtection(cfg.PublicURL != ""),
	)
	return s
}

// Handler serves /v1/mcp (Streamable HTTP), /v1/sse + /v1/message (legacy HTTP+SSE) and /healthz, and with
// Config.OAuth the authorization server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/mcp", s.requireAPIKey(s.requireSession(acceptBatches(s.calls.track(s.http)))))
	mux.Handle("/v1/sse", s.requireAPIKey(s.sse))
	mux.Handle("/v1/message", s.requireAPIKey(s.sse))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	if s.oauth != nil {
		s.oauth.routes(mux)
	}
	return s.withFaults(mux)
}

// shutdown cancels every running tool call and ends every session; it is idempotent.
func (s *Server) shutdown() {
	s.closer.Do(func() {
		s.stop(errServerClosed)
		s.http.CloseSessions(context.Background())
		s.sse.CloseSessions()
	})
}
