package doctor

import (
	"bufio"
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

	"github.com/meshailabs-org/meshai-mcp-server/internal/webpage"
)

// offeredVersion is the protocol revision doctor's initialize asks for; servers answer with the one they speak.
const offeredVersion = "2025-11-25"

// maxBody bounds what doctor reads of an answer.
const maxBody = 4 << 20

// rpcMessage is a JSON-RPC response, as far as doctor reads it.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// exchange is one HTTP request and what came back.
type exchange struct {
	status int
	header http.Header
	body   []byte      // the start of the body
	msg    *rpcMessage // the JSON-RPC response with the request's id, if one came
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

// rpc sends one JSON-RPC message (a request when id > 0) to u and reads the answer.
func (r *runner) rpc(ctx context.Context, u *url.URL, bearer, session, version, method string, params any, id int) (*exchange, error) {
	m := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		m["params"] = params
	}
	if id > 0 {
		m["id"] = id
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	return r.do(req, id)
}

// get sends a GET asking for an event stream, as a legacy SSE client does; it reads only the headers.
func (r *runner) get(ctx context.Context, u *url.URL) (*exchange, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ex := &exchange{status: resp.StatusCode, header: resp.Header, took: time.Since(start)}
	if ex.mediaType() != "text/event-stream" {
		ex.body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	}
	return ex, nil
}

// do sends req and reads the answer, finding the JSON-RPC response with id in JSON or in an event stream.
func (r *runner) do(req *http.Request, id int) (*exchange, error) {
	start := time.Now()
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ex := &exchange{status: resp.StatusCode, header: resp.Header}
	if ex.mediaType() == "text/event-stream" {
		ex.msg = readSSE(io.LimitReader(resp.Body, maxBody), id)
	} else {
		ex.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if ex.mediaType() == "application/json" && id > 0 {
			var m rpcMessage
			if json.Unmarshal(ex.body, &m) == nil && idIs(m.ID, id) {
				ex.msg = &m
			}
		}
	}
	ex.took = time.Since(start)
	return ex, nil
}

// readSSE returns the first event whose data is the JSON-RPC response with id.
func readSSE(body io.Reader, id int) *rpcMessage {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxBody)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			var m rpcMessage
			if data.Len() > 0 && json.Unmarshal([]byte(data.String()), &m) == nil && idIs(m.ID, id) {
				return &m
			}
			data.Reset()
			continue
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(v, " "))
		}
	}
	var m rpcMessage
	if data.Len() > 0 && json.Unmarshal([]byte(data.String()), &m) == nil && idIs(m.ID, id) {
		return &m
	}
	return nil
}

// idIs reports whether a JSON-RPC id is the number id.
func idIs(raw json.RawMessage, id int) bool {
	return strings.TrimSpace(string(raw)) == fmt.Sprint(id)
}

// endSession deletes a session the server opened for doctor.
func (r *runner) endSession(ctx context.Context, u *url.URL, bearer, session string) {
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
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
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
