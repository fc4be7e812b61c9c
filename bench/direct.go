package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// Protocol is the protocol revision the bench clients speak.
const Protocol = "2025-11-25"

// InitLine is the initialize request the bench clients send, id 1.
const InitLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + Protocol +
	`","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`

// InitializedLine is notifications/initialized.
const InitializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

// CallLine is a tools/call of list_agents, the small call, with the given id.
func CallLine(id int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_agents","arguments":{}}}`, id)
}

// ProgressLine is a tools/call of mesh_execute with steps steps, reporting progress under token.
func ProgressLine(id int, token string, steps int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"mesh_execute",`+
		`"arguments":{"task":"bench","steps":%d},"_meta":{"progressToken":%q}}}`, id, steps, token)
}

// Direct is a plain HTTP client of the server, as a client without the bridge would make the same calls: raw
// POSTs on one session, keep-alive connections.
type Direct struct {
	URL     string
	Header  http.Header // sent on every request (Authorization)
	HTTP    *http.Client
	session string
}

// NewDirect returns a Direct client with the bench API key.
func NewDirect(url string) *Direct {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	return &Direct{URL: url, Header: http.Header{"Authorization": {"Bearer " + APIKey}}, HTTP: &http.Client{Transport: tr}}
}

// Initialize opens the session.
func (d *Direct) Initialize(ctx context.Context) error {
	resp, err := d.post(ctx, []byte(InitLine))
	if err != nil {
		return err
	}
	d.session = resp.Header.Get("Mcp-Session-Id")
	if _, err := readAnswer(resp, nil); err != nil {
		return err
	}
	resp, err = d.post(ctx, []byte(InitializedLine))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// Call POSTs one request and returns its answer; each message the server streams before it goes to each
// (which may be nil) with the time it was read.
func (d *Direct) Call(ctx context.Context, line []byte, each func([]byte, time.Time)) ([]byte, error) {
	resp, err := d.post(ctx, line)
	if err != nil {
		return nil, err
	}
	return readAnswer(resp, each)
}

func (d *Direct) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range d.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if d.session != "" {
		req.Header.Set("Mcp-Session-Id", d.session)
		req.Header.Set("MCP-Protocol-Version", Protocol)
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return resp, nil
}

// readAnswer reads a JSON body, or an SSE stream up to the message that answers, and closes resp. The SSE reading
// is the least a client can do (data lines joined, one copy), so that the bridge is measured against a fast
// client, not a slow one.
func readAnswer(resp *http.Response, each func([]byte, time.Time)) ([]byte, error) {
	defer resp.Body.Close()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/event-stream" {
		return io.ReadAll(resp.Body)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	var data []byte
	hasData := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // a long line: gather it
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			return nil, errors.New("stream ended without an answer")
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0 && hasData:
			if AnswerID(data) >= 0 {
				return data, nil
			}
			if each != nil {
				each(data, time.Now())
			}
			data, hasData = nil, false
		case bytes.HasPrefix(line, []byte("data:")):
			if hasData {
				data = append(data, '\n')
			}
			data, hasData = append(data, bytes.TrimPrefix(line[5:], []byte(" "))...), true
		}
	}
}
