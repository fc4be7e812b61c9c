package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tokenServer records the last form and auth header, and answers with status and body.
func tokenServer(t *testing.T, status int, body string, ct string) (*httptest.Server, *url.Values, *string) {
	t.Helper()
	var form url.Values
	var authz string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form, authz = r.PostForm, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &form, &authz
}

func TestTokenClientAuthMethods(t *testing.T) {
	ok := `{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-2","expires_in":3600,"scope":"mcp:read"}`
	tests := []struct {
		method     string
		wantID     bool // client_id in the form
		wantSecret bool // client_secret in the form
		wantBasic  bool
	}{
		{AuthNone, true, false, false},
		{AuthPost, true, true, false},
		{AuthBasic, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			srv, form, authz := tokenServer(t, 200, ok, "application/json")
			c := &TokenClient{TokenURL: srv.URL, ClientID: "cid:1", ClientSecret: "s&cret", AuthMethod: tt.method, Resource: "https://mcp.example.com/mcp"}
			tok, err := c.Exchange(context.Background(), "code-1", "verifier-1", "http://127.0.0.1:5000/callback")
			if err != nil {
				t.Fatal(err)
			}
			f := *form
			if f.Get("grant_type") != "authorization_code" || f.Get("code_verifier") != "verifier-1" || f.Get("resource") != "https://mcp.example.com/mcp" || f.Get("redirect_uri") == "" {
				t.Errorf("form %v", f)
			}
			if (f.Get("client_id") != "") != tt.wantID || (f.Get("client_secret") != "") != tt.wantSecret || strings.HasPrefix(*authz, "Basic ") != tt.wantBasic {
				t.Errorf("client auth: form %v, Authorization %q", f, *authz)
			}
			if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-2" || tok.Extra("scope") != "mcp:read" || time.Until(tok.Expiry) < 59*time.Minute {
				t.Errorf("token %+v", tok)
			}
		})
	}
}

func TestRefreshSendsResourceAndKeepsOldRefreshToken(t *testing.T) {
	srv, form, _ := tokenServer(t, 200, `{"access_token":"at-2","token_type":"bearer","expires_in":60}`, "application/json")
	c := &TokenClient{TokenURL: srv.URL, ClientID: "c", Resource: "https://mcp.example.com/mcp"}
	tok, err := c.Refresh(context.Background(), "rt-old")
	if err != nil {
		t.Fatal(err)
	}
	if f := *form; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-old" || f.Get("resource") != "https://mcp.example.com/mcp" {
		t.Errorf("form %v", f)
	}
	if tok.RefreshToken != "rt-old" {
		t.Errorf("a refresh without a new refresh token keeps the old one, got %q", tok.RefreshToken)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		ct      string
		grant   bool
		client  bool
		wantMsg string
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"refresh token reused"}`, "application/json", true, false, "refresh token reused"},
		{"invalid_client", 401, `{"error":"invalid_client"}`, "application/json", false, true, "invalid_client"},
		{"unavailable", 503, `{"error":"temporarily_unavailable"}`, "application/json", false, false, "temporarily_unavailable"},
		{"html", 403, `<!doctype html><title>Just a moment</title>`, "text/html", false, false, "HTML page"},
		{"not json", 200, `hello`, "text/plain", false, false, "other than JSON"},
		{"no token", 200, `{}`, "application/json", false, false, "without an access token"},
		{"mac token", 200, `{"access_token":"x","token_type":"mac"}`, "application/json", false, false, "only Bearer"},
		{"error in 200", 200, `{"error":"invalid_grant"}`, "application/json", true, false, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, _ := tokenServer(t, tt.status, tt.body, tt.ct)
			c := &TokenClient{TokenURL: srv.URL, ClientID: "c"}
			_, err := c.Refresh(context.Background(), "rt-secret-value")
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) || IsInvalidGrant(err) != tt.grant || IsInvalidClient(err) != tt.client {
				t.Fatalf("err = %v (grant %v client %v)", err, IsInvalidGrant(err), IsInvalidClient(err))
			}
			if strings.Contains(err.Error(), "rt-secret-value") {
				t.Error("the refresh token leaked into the error")
			}
		})
	}
}
