package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The 2025-03-26 default endpoints count as OAuth as long as /authorize exists, whatever it answers to a bare
// GET; a network failure is no verdict.
func TestDefaultAuthorizeAbsent(t *testing.T) {
	for _, c := range []struct {
		status int
		absent bool
	}{
		{http.StatusNotFound, true},
		{http.StatusBadRequest, false},
		{http.StatusFound, false},
		{http.StatusMethodNotAllowed, false},
		{http.StatusInternalServerError, false},
		{http.StatusUnauthorized, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.status == http.StatusFound {
				http.Redirect(w, r, "/missing-login-page", http.StatusFound) // not followed: a redirect is an answer
				return
			}
			w.WriteHeader(c.status)
		}))
		absent, err := defaultAuthorizeAbsent(context.Background(), srv.Client(), srv.URL+"/authorize")
		srv.Close()
		if err != nil || absent != c.absent {
			t.Errorf("%d: absent %v, %v; want %v", c.status, absent, err, c.absent)
		}
	}
	if _, err := defaultAuthorizeAbsent(context.Background(), nil, "http://127.0.0.1:9/authorize"); err == nil {
		t.Error("a refused connection must be an error, not a verdict")
	}
}
