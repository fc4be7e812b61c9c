package remote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

// Challenge returns the WWW-Authenticate of a 401 to a credential-less initialize, and nothing for other answers.
func TestChallenge(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header []string
		want   []string
	}{
		{"401 with a challenge", http.StatusUnauthorized, []string{`Bearer scope="a b"`, `Basic realm="x"`}, []string{`Bearer scope="a b"`, `Basic realm="x"`}},
		{"401 without one", http.StatusUnauthorized, nil, nil},
		{"an open server", http.StatusOK, []string{`Bearer scope="a"`}, nil},
		{"403", http.StatusForbidden, []string{`Bearer error="insufficient_scope"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "" || r.Method != http.MethodPost {
					t.Errorf("%s with Authorization %q", r.Method, r.Header.Get("Authorization"))
				}
				for _, h := range tt.header {
					w.Header().Add("WWW-Authenticate", h)
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL + "/mcp")
			got := Challenge(context.Background(), Options{URL: u, HTTPClient: srv.Client()})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
