package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// A second browser sign-in right after one is refused, not opened: no tab storm.
func TestLoginCooldown(t *testing.T) {
	dir := t.TempDir()
	store, _, err := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://127.0.0.1:9/v1/mcp") // nothing listens: any network attempt would fail differently
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store}
	s.lastFlow = time.Now()
	err = s.signIn(context.Background(), nil, nil, false)
	if !errors.Is(err, ErrRefusedFreshToken) {
		t.Fatalf("err = %v", err)
	}
}

// A stored registration is reused while its redirect URI fits; when the loopback had to take another port, the
// bridge registers again (many servers match redirect URIs exactly), and keeps the new one per issuer.
func TestRegistrationFollowsThePort(t *testing.T) {
	registrations := 0
	dcr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		registrations++
		var md oauth.ClientMetadata
		json.NewDecoder(r.Body).Decode(&md)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"client_id": fmt.Sprintf("c%d", registrations), "redirect_uris": md.RedirectURIs, "token_endpoint_auth_method": "none"})
	}))
	defer dcr.Close()
	dir := t.TempDir()
	store, _, _ := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	u, _ := url.Parse("https://mcp.example.com/mcp")
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store, HTTP: dcr.Client()}
	meta := &oauth.ServerMetadata{Issuer: "https://as.example.com", RegistrationEndpoint: dcr.URL}
	ctx := context.Background()
	first, err := s.registration(ctx, meta, s.resource(), nil, 20001, nil)
	if err != nil || first.ClientID != "c1" || first.RedirectURI != "http://127.0.0.1:20001/callback" {
		t.Fatalf("first registration: %+v %v", first, err)
	}
	stored, _ := credstore.LoadRegistration(ctx, store, credstore.ClientKey{Resource: s.resource(), Issuer: meta.Issuer})
	same, _ := s.registration(ctx, meta, s.resource(), stored, 20001, nil)
	moved, _ := s.registration(ctx, meta, s.resource(), stored, 20002, nil)
	if same.ClientID != "c1" || moved.ClientID != "c2" || registrations != 2 {
		t.Fatalf("same port: %s, other port: %s, %d registrations; want c1, c2, 2", same.ClientID, moved.ClientID, registrations)
	}
	other := &oauth.ServerMetadata{Issuer: "https://other-as.example.com", RegistrationEndpoint: dcr.URL}
	if r, _ := s.registration(ctx, other, s.resource(), stored, 20001, nil); r.ClientID == "c1" {
		t.Fatal("a registration must not be reused at another authorization server")
	}
}

// --static-oauth-client-metadata is laid over the registration request; the redirect URI stays the loopback's.
func TestClientMetadataOverlay(t *testing.T) {
	var got map[string]any
	dcr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"client_id": "c", "token_endpoint_auth_method": "none"})
	}))
	defer dcr.Close()
	dir := t.TempDir()
	store, _, _ := credstore.Open(context.Background(), credstore.KindFile, dir, 0)
	u, _ := url.Parse("https://mcp.example.com/mcp")
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store, HTTP: dcr.Client(), CallbackHost: "localhost", CallbackPath: "/oauth/callback",
		ClientMetadata: json.RawMessage(`{"client_name":"Acme bridge","scope":"read write"}`)}
	meta := &oauth.ServerMetadata{Issuer: "https://as.example.com", RegistrationEndpoint: dcr.URL}
	if _, err := s.registration(context.Background(), meta, s.resource(), nil, 20001, []string{"mcp"}); err != nil {
		t.Fatal(err)
	}
	uris, _ := got["redirect_uris"].([]any)
	if got["client_name"] != "Acme bridge" || got["scope"] != "read write" || len(uris) != 1 || uris[0] != "http://localhost:20001/oauth/callback" {
		t.Errorf("registration request %v", got)
	}
}

// --resource replaces the URL's canonical form, and keeps that sign-in apart from the URL's own.
func TestResourceOverride(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/mcp")
	plain := &SignIn{ServerURL: u}
	tenant := &SignIn{ServerURL: u, Resource: "https://tenant-a.example.com/"}
	if plain.resource() != "https://mcp.example.com/mcp" || tenant.resource() != "https://tenant-a.example.com/" {
		t.Errorf("resources %s, %s", plain.resource(), tenant.resource())
	}
	if credstore.ServerKey(plain.resource()) == credstore.ServerKey(tenant.resource()) {
		t.Error("a --resource sign-in must be kept apart from the URL's own")
	}
}

// After invalid_client: a dynamic registration is deleted so the sign-in registers anew; a client the user
// configured is a *ClientRefusedError; another client's registration is left alone.
func TestForgottenClient(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _, err := credstore.Open(ctx, credstore.KindFile, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://mcp.example.com/v1/mcp")
	reg := &credstore.Registration{Issuer: "https://as.example.com", ClientID: "dyn-1", RedirectURI: "http://127.0.0.1:1/callback"}
	key := credstore.ClientKey{Resource: "https://mcp.example.com/v1/mcp", Issuer: reg.Issuer}
	if err := credstore.SaveRegistration(ctx, store, key, reg); err != nil {
		t.Fatal(err)
	}
	s := &SignIn{ServerURL: u, ConfigDir: dir, Store: store, goneClient: "other"}
	if got, err := s.dropForgottenClient(ctx, reg, key); err != nil || got != reg {
		t.Fatalf("another client's registration: %v %v", got, err)
	}
	s.goneClient = "dyn-1"
	if got, err := s.dropForgottenClient(ctx, reg, key); err != nil || got != nil {
		t.Fatalf("the forgotten registration must be dropped: %v %v", got, err)
	}
	if stored, _ := credstore.LoadRegistration(ctx, store, key); stored != nil || s.goneClient != "" {
		t.Fatalf("still stored: %v (goneClient %q)", stored, s.goneClient)
	}
	mine := &SignIn{ServerURL: u, ConfigDir: dir, Store: store, ClientID: "mine", goneClient: "mine"}
	_, err = mine.dropForgottenClient(ctx, nil, key)
	if ce := (*ClientRefusedError)(nil); !errors.As(err, &ce) || *ce != (ClientRefusedError{ClientID: "mine", Configured: true}) {
		t.Fatalf("a configured client the server refuses: %v, want a *ClientRefusedError for client mine", err)
	}
}
