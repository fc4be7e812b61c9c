package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// requireSession answers GET and DELETE on /v1/mcp for a missing session with 400 and for an
// unknown or terminated one with 404, as the transport spec asks. mcp-go alone does not
// validate the session of a GET: it would open a stream for a session that no longer exists.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodDelete {
			id := r.Header.Get(server.HeaderKeySessionID)
			if id == "" {
				http.Error(w, "Bad Request: missing "+server.HeaderKeySessionID+" header", http.StatusBadRequest)
				return
			}
			if terminated, err := s.ids.Validate(id); err != nil || terminated {
				http.Error(w, "Session not found", http.StatusNotFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// legacyKey marks requests that came over the legacy HTTP+SSE transport.
type legacyKey struct{}

func markLegacy(ctx context.Context, _ *http.Request) context.Context {
	return context.WithValue(ctx, legacyKey{}, true)
}

// rejectSessionless refuses requests of the sessionless 2026-07-28 protocol on the legacy SSE transport, whose
// whole point is a session, so that clients fall back to initialize there. /v1/mcp serves both eras.
func rejectSessionless(ctx context.Context, _ any, message any) error {
	if legacy, _ := ctx.Value(legacyKey{}).(bool); !legacy {
		return nil
	}
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var m struct {
		Params struct {
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	if v := m.Params.Meta.ProtocolVersion(); mcp.IsModernProtocol(v) {
		return fmt.Errorf("protocol version %s is not served here: meshai speaks the session-based protocol %v", v, sessionVersions)
	}
	return nil
}
