package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/meshailabs-org/meshai-mcp-server/internal/webpage"
)

// The probes here are single unauthenticated HTTP requests whose raw answer (status, headers, the start of the
// body) the checks read. The authenticated session goes through remote's client, as the bridge's does
// (roundtrip.go).

// offeredVersion is the protocol revision doctor's initialize asks for; servers answer with the one they speak.
const offeredVersion = "2025-11-25"

// maxBody bounds what doctor reads of an answer.
const maxBody = 4 << 20

// probeID is the JSON-RPC id of the probes' initialize.
const probeID = 1

// rpcMessage is a JSON-RPC response, as far as doctor reads it.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// exchange is one HTTP request and what came back.
type exchange struct {
	status int
	header http.Header
	body   []byte      // the start of the body
	msg    *rpcMessage // the JSON-RPC response to the probe's initialize, if one came
	took   time.Duration
}

// html reports whether the answer is a web page.
func (e *exchange) html() bool { return webpage.IsHTML(e.header.Get("Content-Type"), e.body) }

// page describes the answer as a web page: HTML or not, and whose challenge it is, if any.
func (e *exchange) page() webpage.Page { return webpage.Describe(e.header, e.body) }

// mediaType is the answer's media type, lowercased, without parameters.
func (e *exchange) mediaType() string {
	mt, _, _ := mime.ParseMediaType(e.header.Get("Content-Type"))
	return mt
}

// postInitialize posts an initialize without a token to u and reads the answer.
func (r *runner) postInitialize(ctx context.Context, u *url.URL) (*exchange, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": probeID, "method": "initialize", "params": r.initializeParams()})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	return r.send(req)
}

// send sends req with doctor's HTTP client and reads the answer: a JSON body (up to maxBody) or the event stream
// answering a POST, where it finds the probe's answer if there is one. A GET's event stream is the legacy
// endpoint's: it never ends, and its headers say what doctor needs.
func (r *runner) send(req *http.Request) (*exchange, error) {
	start := time.Now()
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ex := &exchange{status: resp.StatusCode, header: resp.Header}
	switch {
	case ex.mediaType() != "text/event-stream":
		ex.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		var m rpcMessage
		if ex.mediaType() == "application/json" && json.Unmarshal(ex.body, &m) == nil && isProbeID(m.ID) {
			ex.msg = &m
		}
	case req.Method == http.MethodPost:
		ex.msg = answerInStream(io.LimitReader(resp.Body, maxBody))
	}
	ex.took = time.Since(start)
	return ex, nil
}

// answerInStream returns the first message event of an event stream that is the answer to the probe.
func answerInStream(body io.Reader) *rpcMessage {
	for ev, err := range sse.Read(body, &sse.ReadConfig{MaxEventSize: maxBody}) {
		if err != nil {
			return nil
		}
		var m rpcMessage
		if (ev.Type == "" || ev.Type == "message") && json.Unmarshal([]byte(ev.Data), &m) == nil && isProbeID(m.ID) {
			return &m
		}
	}
	return nil
}

// isProbeID reports whether a JSON-RPC id is the probes'.
func isProbeID(raw json.RawMessage) bool {
	return strings.TrimSpace(string(raw)) == fmt.Sprint(probeID)
}

// get sends a GET asking for an event stream, as a legacy SSE client does; it reads only the headers.
func (r *runner) get(ctx context.Context, u *url.URL) (*exchange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	return r.send(req)
}

// endProbeSession deletes the session a probe's initialize opened at u, if it opened one.
func (r *runner) endProbeSession(ctx context.Context, u *url.URL, ex *exchange) {
	session := ex.header.Get("Mcp-Session-Id")
	if session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Mcp-Session-Id", session)
	if resp, err := r.client().Do(req); err == nil {
		_ = resp.Body.Close()
	}
}

// initializeParams are doctor's initialize parameters.
func (r *runner) initializeParams() map[string]any {
	return map[string]any{
		"protocolVersion": offeredVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "meshai-mcp-server-doctor", "version": r.version()},
	}
}

// version is the version doctor reports.
func (r *runner) version() string {
	if r.opts.Version != "" {
		return r.opts.Version
	}
	return "dev"
}
