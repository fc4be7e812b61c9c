package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// A server that takes only an API key: its 401 names no metadata and every OAuth URL answers 404. The sign-in
// stops at discovery with a *NoOAuthError naming the URLs tried, registers nothing and opens no browser, with a
// pre-registered client too.
func TestSignInFindsNoOAuth(t *testing.T) {
	for _, c := range []struct {
		name     string
		clientID string
	}{
		{"dynamic registration", ""},
		{"pre-registered client", "my-client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.Method+" "+r.URL.Path)
				mu.Unlock()
				if r.URL.Path == "/v1/mcp" {
					w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
					http.Error(w, "missing API key", http.StatusUnauthorized)
					return
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			dir := t.TempDir()
			store, _, err := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(srv.URL + "/v1/mcp")
			s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store, HTTP: srv.Client(), ClientID: c.clientID,
				BrowserCommand: "false"}
			err = s.Login(context.Background(), oauth.FindBearer(oauth.ParseWWWAuthenticate([]string{`Bearer realm="api"`})), nil)
			var no *oauth.NoOAuthError
			if !errors.As(err, &no) || !errors.Is(err, oauth.ErrNoOAuth) {
				t.Fatalf("err = %v, want a *NoOAuthError", err)
			}
			wantTried := []string{srv.URL + "/.well-known/oauth-authorization-server", srv.URL + "/authorize"}
			if no.Server != srv.URL || strings.Join(no.Tried, " ") != strings.Join(wantTried, " ") {
				t.Errorf("got %+v, want server %s and tried %q", no, srv.URL, wantTried)
			}
			if strings.Contains(err.Error(), "registration") || strings.Contains(err.Error(), "--client-id") {
				t.Errorf("err = %q: it is about discovery, not registration", err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{"GET /.well-known/oauth-protected-resource/v1/mcp", "GET /.well-known/oauth-protected-resource",
				"GET /.well-known/oauth-authorization-server", "GET /authorize"}
			if strings.Join(paths, ", ") != strings.Join(want, ", ") {
				t.Errorf("requests %q, want %q: nothing registered, no browser", paths, want)
			}
		})
	}
}
