package devserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

// acceptBatches lets /v1/mcp take a JSON-RPC batch, which protocol revision 2025-03-26 allows and mcp-go's
// transport refuses: each element is served on its own, in order, and the answers come back as one JSON array
// (202 when the batch held no requests).
func acceptBatches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		var batch []json.RawMessage
		if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '[' || json.Unmarshal(t, &batch) != nil || len(batch) == 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
			return
		}
		var answers []json.RawMessage
		status := http.StatusAccepted
		for _, msg := range batch {
			sub := r.Clone(r.Context())
			sub.Body, sub.ContentLength = io.NopCloser(bytes.NewReader(msg)), int64(len(msg))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, sub)
			if rec.Code >= 400 {
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			answers = append(answers, messagesIn(rec)...)
			if rec.Code == http.StatusOK {
				status = http.StatusOK
			}
		}
		if len(answers) == 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answers)
	})
}

// messagesIn returns the JSON-RPC messages of a recorded answer, JSON or SSE.
func messagesIn(rec *httptest.ResponseRecorder) []json.RawMessage {
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
			return []json.RawMessage{b}
		}
		return nil
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.TrimSpace(data) != "" {
			out = append(out, json.RawMessage(strings.TrimSpace(data)))
		}
	}
	return out
}
