package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// doc is one document a docServer serves; "{base}" in body is replaced with the server's own URL.
type doc struct {
	status      int
	body        string
	contentType string
}

// docServer serves docs by request URI and records every request URI in order.
type docServer struct {
	*httptest.Server
	mu        sync.Mutex
	requested []string
	headers   []http.Header
}

func newDocServer(t *testing.T, docs map[string]doc) *docServer {
	t.Helper()
	s := &docServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requested = append(s.requested, r.URL.RequestURI())
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		d, ok := docs[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := d.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		if d.status != 0 {
			w.WriteHeader(d.status)
		}
		w.Write([]byte(strings.ReplaceAll(d.body, "{base}", s.URL)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *docServer) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requested...)
}

const prmWK = "/.well-known/oauth-protected-resource"

func TestDiscoverResource(t *testing.T) {
	good := `{"resource":"{base}/mcp","authorization_servers":["{base}/as"],"scopes_supported":["mcp:basic"],"unknown":{"x":1}}`
	tests := []struct {
		name      string
		docs      map[string]doc
		path      string // MCP server path
		challenge string // resource_metadata, "{base}" replaced
		wantPaths []string
		wantMeta  string // MetadataURL path on success
		wantErr   string // substring; "" means success
		noPRM     bool   // the error wraps ErrNoResourceMetadata
	}{
		{name: "challenge URL first, root never requested (metadata-default)",
			docs: map[string]doc{prmWK + "/mcp": {body: good}, prmWK: {body: good}}, path: "/mcp", challenge: "{base}" + prmWK + "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantMeta: prmWK + "/mcp"},
		{name: "custom challenge location (metadata-var3)",
			docs: map[string]doc{"/custom/metadata/location.json": {body: good}}, path: "/mcp", challenge: "{base}/custom/metadata/location.json",
			wantPaths: []string{"/custom/metadata/location.json"}, wantMeta: "/custom/metadata/location.json"},
		{name: "path-aware well-known without a challenge (metadata-var1)",
			docs: map[string]doc{prmWK + "/mcp": {body: good}, prmWK: {body: good}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantMeta: prmWK + "/mcp"},
		{name: "root only after the path-aware one 404s; a root resource covers /mcp (metadata-var2)",
			docs: map[string]doc{prmWK: {body: `{"resource":"{base}","authorization_servers":["{base}/tenant1"]}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp", prmWK}, wantMeta: prmWK},
		{name: "challenge URL that 404s falls back to the well-known ones",
			docs: map[string]doc{prmWK + "/mcp": {body: good}}, path: "/mcp", challenge: "{base}/gone",
			wantPaths: []string{"/gone", prmWK + "/mcp"}, wantMeta: prmWK + "/mcp"},
		{name: "server at the root: only the root well-known",
			docs: map[string]doc{prmWK: {body: `{"resource":"{base}/","authorization_servers":["{base}"]}`}}, path: "/",
			wantPaths: []string{prmWK}, wantMeta: prmWK},
		{name: "query of the server URL is kept in the path-aware URL",
			docs: map[string]doc{prmWK + "/mcp?t=1": {body: `{"resource":"{base}/mcp?t=1","authorization_servers":["{base}"]}`}}, path: "/mcp?t=1",
			wantPaths: []string{prmWK + "/mcp?t=1"}, wantMeta: prmWK + "/mcp?t=1"},
		{name: "no PRM anywhere (2025-03-26 server)",
			docs: map[string]doc{}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp", prmWK}, wantErr: "no protected resource metadata", noPRM: true},
		{name: "resource mismatch is refused, naming both (auth/resource-mismatch)",
			docs: map[string]doc{prmWK + "/mcp": {body: `{"resource":"https://evil.example.com/mcp","authorization_servers":["{base}"]}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: `"https://evil.example.com/mcp", not for the MCP server "http://127.0.0.1:`},
		{name: "a sibling path is no prefix",
			docs: map[string]doc{prmWK + "/mcp": {body: `{"resource":"{base}/other","authorization_servers":["{base}"]}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "not for the MCP server"},
		{name: "a mismatch at the challenge URL does not fall back",
			docs: map[string]doc{"/prm": {body: `{"resource":"https://evil.example.com/mcp","authorization_servers":["{base}"]}`}, prmWK + "/mcp": {body: good}}, path: "/mcp", challenge: "{base}/prm",
			wantPaths: []string{"/prm"}, wantErr: "evil.example.com"},
		{name: "no resource",
			docs: map[string]doc{prmWK + "/mcp": {body: `{"authorization_servers":["{base}"]}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "has no resource"},
		{name: "no authorization servers",
			docs: map[string]doc{prmWK + "/mcp": {body: `{"resource":"{base}/mcp","authorization_servers":[]}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "lists no authorization_servers"},
		{name: "HTML instead of JSON",
			docs: map[string]doc{prmWK + "/mcp": {body: "<!doctype html><title>Sign in</title>", contentType: "text/html"}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "answered with an HTML page, not JSON"},
		{name: "HTML with a JSON content type",
			docs: map[string]doc{prmWK + "/mcp": {body: "\n <html></html>"}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "HTML page"},
		{name: "server error stops discovery",
			docs: map[string]doc{prmWK + "/mcp": {status: 502, body: "{}"}, prmWK: {body: good}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "answered HTTP 502"},
		{name: "not JSON",
			docs: map[string]doc{prmWK + "/mcp": {body: `["resource"]`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "not the expected JSON object"},
		{name: "oversized body",
			docs: map[string]doc{prmWK + "/mcp": {body: `{"resource":"` + strings.Repeat("a", maxMetadataBytes) + `"}`}}, path: "/mcp",
			wantPaths: []string{prmWK + "/mcp"}, wantErr: "larger than"},
		{name: "a javascript: resource_metadata is never fetched",
			docs: map[string]doc{}, path: "/mcp", challenge: "javascript:alert(1)",
			wantPaths: nil, wantErr: "resource_metadata"},
		{name: "a plain-http non-loopback resource_metadata is never fetched",
			docs: map[string]doc{}, path: "/mcp", challenge: "http://prm.example.com/x",
			wantPaths: nil, wantErr: "only https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDocServer(t, tt.docs)
			var ch *Challenge
			if tt.challenge != "" {
				ch = &Challenge{Scheme: "Bearer", Params: map[string]string{"resource_metadata": strings.ReplaceAll(tt.challenge, "{base}", s.URL)}}
			}
			prm, err := DiscoverResource(context.Background(), s.Client(), mustURL(t, s.URL+tt.path), ch)
			if got := s.paths(); !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("requested %q, want %q", got, tt.wantPaths)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrNoResourceMetadata) != tt.noPRM {
					t.Errorf("errors.Is(err, ErrNoResourceMetadata) = %v, want %v", !tt.noPRM, tt.noPRM)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if prm.MetadataURL != s.URL+tt.wantMeta || len(prm.AuthorizationServers) == 0 {
				t.Errorf("got %+v, want it from %s", prm, tt.wantMeta)
			}
		})
	}
}

func TestDiscoverResourceKeepsResourceVerbatim(t *testing.T) {
	s := newDocServer(t, map[string]doc{prmWK: {body: `{"resource":"{base}","authorization_servers":["{base}"],"scopes_supported":["a","b"],"resource_name":"MeshAI"}`}})
	prm, err := DiscoverResource(context.Background(), s.Client(), mustURL(t, s.URL+"/mcp"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if prm.Resource != s.URL || prm.ResourceName != "MeshAI" || !reflect.DeepEqual(prm.ScopesSupported, []string{"a", "b"}) {
		t.Errorf("got %+v", prm)
	}
}

func TestDiscoverResourceHonoursContext(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer s.Close()
	defer close(release)
	// The server answers only once released, after the call: a call that ignored its context would never return.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := DiscoverResource(ctx, s.Client(), mustURL(t, s.URL+"/mcp"), nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestDiscoveryRedirects(t *testing.T) {
	good := `{"resource":"{base}/mcp","authorization_servers":["{base}"]}`
	tests := []struct {
		name     string
		location string
		wantErr  string
	}{
		{"same loopback server", "/moved", ""},
		{"plain http to another host", "http://prm.example.com/moved", "refusing a redirect"},
		{"another scheme", "file:///etc/passwd", "refusing a redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDocServer(t, map[string]doc{"/moved": {body: good}})
			mux := http.NewServeMux()
			mux.HandleFunc(prmWK+"/mcp", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, tt.location, http.StatusFound) })
			mux.Handle("/", s.Config.Handler)
			s.Config.Handler = mux
			prm, err := DiscoverResource(context.Background(), s.Client(), mustURL(t, s.URL+"/mcp"), nil)
			if tt.wantErr == "" {
				if err != nil || prm.Resource != s.URL+"/mcp" {
					t.Fatalf("got %+v, %v", prm, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
