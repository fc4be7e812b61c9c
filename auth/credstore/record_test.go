package credstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// A sign-in is read back as saved, record and tokens; what is missing or damaged is told apart; Forget takes the
// server's sign-in, tokens and registration, and nothing of another server's.
func TestSignInRecord(t *testing.T) {
	ctx := context.Background()
	exp := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	for kind, s := range testStores(t) {
		t.Run(kind, func(t *testing.T) {
			resource, other := "https://mcp.example.com/"+testName(t), "https://mcp.example.com/"+testName(t)
			t.Cleanup(func() { _ = Forget(ctx, s, resource); _ = Forget(ctx, s, other) })
			rec := &SignInRecord{Registration: Registration{Issuer: "https://as.example.com", ClientID: "cid", ClientSecret: "cs"},
				TokenEndpoint: "https://as.example.com/token", RevocationEndpoint: "https://as.example.com/revoke"}
			tok := &Tokens{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: exp, ExpiresIn: 3600, Scope: "mcp"}
			if _, _, err := ReadSignIn(ctx, s, resource); !errors.Is(err, ErrNotFound) {
				t.Fatalf("ReadSignIn of nothing: %v", err)
			}
			if err := SaveSignIn(ctx, s, resource, rec); err != nil {
				t.Fatal(err)
			}
			if got, gotT, err := ReadSignIn(ctx, s, resource); err != nil || *got != *rec || gotT != nil {
				t.Fatalf("ReadSignIn without tokens = %v, %v, %v; want the record, no tokens, no error", got, gotT, err)
			}
			reg := &Registration{Issuer: rec.Issuer, ClientID: "cid", RedirectURI: "http://127.0.0.1:1/callback"}
			for _, r := range []string{resource, other} {
				if err := SaveTokens(ctx, s, r, &rec.Registration, tok); err != nil {
					t.Fatal(err)
				}
				if err := SaveRegistration(ctx, s, ClientKey{Resource: r, Issuer: rec.Issuer}, reg); err != nil {
					t.Fatal(err)
				}
			}
			if err := SaveSignIn(ctx, s, other, rec); err != nil {
				t.Fatal(err)
			}
			if got, gotT, err := ReadSignIn(ctx, s, resource); err != nil || *got != *rec || gotT == nil || *gotT != *tok {
				t.Fatalf("ReadSignIn = %v, %v, %v", got, gotT, err)
			}
			if err := Forget(ctx, s, resource); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ReadSignIn(ctx, s, resource); !errors.Is(err, ErrNotFound) {
				t.Fatalf("ReadSignIn after Forget: %v", err)
			}
			if _, err := loadTokens(ctx, s, tokensKey(resource, &rec.Registration)); !errors.Is(err, ErrNotFound) {
				t.Errorf("tokens after Forget: %v", err)
			}
			if _, err := LoadRegistration(ctx, s, ClientKey{Resource: resource, Issuer: rec.Issuer}); !errors.Is(err, ErrNotFound) {
				t.Errorf("registration after Forget: %v", err)
			}
			if _, gotT, err := ReadSignIn(ctx, s, other); err != nil || gotT == nil {
				t.Errorf("another server's sign-in after Forget: %v, %v", gotT, err)
			}
			if got, err := LoadRegistration(ctx, s, ClientKey{Resource: other, Issuer: rec.Issuer}); err != nil || *got != *reg {
				t.Errorf("another server's registration after Forget: %v, %v", got, err)
			}
		})
	}
}

func TestSignInDamage(t *testing.T) {
	ctx := context.Background()
	rec := &SignInRecord{Registration: Registration{Issuer: "https://as.example.com", ClientID: "cid"}, TokenEndpoint: "https://as.example.com/token"}
	tests := []struct {
		name      string
		record    string // raw record; "" saves rec
		tokens    string // raw tokens; "" saves none
		wantRec   bool
		wantError error
	}{
		{"damaged record", `{"client_id":`, "", false, ErrUnreadable},
		{"record without a client", `{"issuer":"https://as.example.com","token_endpoint":"https://as.example.com/token"}`, "", false, ErrUnreadable},
		{"record without a token endpoint", `{"issuer":"https://as.example.com","client_id":"cid"}`, "", false, ErrUnreadable},
		{"damaged tokens", "", `{"access_token": "at-secret`, true, ErrUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStores(t)[KindFile]
			const resource = "https://mcp.example.com/mcp"
			if err := SaveSignIn(ctx, s, resource, rec); err != nil {
				t.Fatal(err)
			}
			if tt.record != "" {
				_ = s.Set(ctx, recordName(resource), []byte(tt.record))
			}
			if tt.tokens != "" {
				_ = s.Set(ctx, tokensName(tokensKey(resource, &rec.Registration)), []byte(tt.tokens))
			}
			got, tok, err := ReadSignIn(ctx, s, resource)
			if (got != nil) != tt.wantRec || tok != nil || !errors.Is(err, tt.wantError) || strings.Contains(err.Error(), "secret") {
				t.Fatalf("ReadSignIn = %v, %v, %v; want record %v and %v", got, tok, err, tt.wantRec, tt.wantError)
			}
			if err := Forget(ctx, s, resource); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, recordName(resource)); !errors.Is(err, ErrNotFound) {
				t.Errorf("the damaged sign-in survived Forget: %v", err)
			}
		})
	}
}

// The device grant's registration is kept apart from the browser flow's, and forgetting one leaves the other.
func TestRegistrationsByFlow(t *testing.T) {
	ctx := context.Background()
	s := testStores(t)[KindFile]
	browser := ClientKey{Resource: "https://mcp.example.com/mcp", Issuer: "https://as.example.com"}
	device := browser
	device.Device = true
	if err := SaveRegistration(ctx, s, browser, &Registration{Issuer: browser.Issuer, ClientID: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := SaveRegistration(ctx, s, device, &Registration{Issuer: browser.Issuer, ClientID: "d"}); err != nil {
		t.Fatal(err)
	}
	if b, err := LoadRegistration(ctx, s, browser); err != nil || b.ClientID != "b" {
		t.Fatalf("browser registration = %v, %v", b, err)
	}
	if err := ForgetRegistration(ctx, s, device); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRegistration(ctx, s, device); !errors.Is(err, ErrNotFound) {
		t.Errorf("device registration after ForgetRegistration: %v", err)
	}
	if b, err := LoadRegistration(ctx, s, browser); err != nil || b.ClientID != "b" {
		t.Errorf("browser registration after forgetting the device one = %v, %v", b, err)
	}
}

// A Grant keeps the scope when a refresh names none, and with KeepRecord saves a lost sign-in again.
func TestGrant(t *testing.T) {
	ctx := context.Background()
	s := testStores(t)[KindFile]
	rec := SignInRecord{Registration: Registration{Issuer: "https://as.example.com", ClientID: "cid"}, TokenEndpoint: "https://as.example.com/token"}
	g := &Grant{Store: s, Resource: "https://mcp.example.com/mcp", Record: rec, KeepRecord: true}
	if tok, err := g.LoadToken(ctx); tok != nil || err != nil {
		t.Fatalf("LoadToken of nothing = %v, %v", tok, err)
	}
	first := (&oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1"}).WithExtra(map[string]any{"scope": "mcp:read"})
	if err := g.SaveToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := g.SaveToken(ctx, &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2", ExpiresIn: 60, Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, tok, err := ReadSignIn(ctx, s, g.Resource)
	if err != nil || *got != rec || tok.AccessToken != "at-2" || tok.Scope != "mcp:read" || tok.ExpiresIn != 60 {
		t.Fatalf("after two saves: %v, %v, %v; want the record saved again, at-2 with the first scope and its lifetime", got, tok, err)
	}
	lt, err := g.LoadToken(ctx)
	if err != nil || lt.AccessToken != "at-2" || lt.RefreshToken != "rt-2" || lt.ExpiresIn != 60 {
		t.Fatalf("LoadToken = %+v, %v", lt, err)
	}
	_ = s.Set(ctx, tokensName(g.key()), []byte("{"))
	if tok, err := g.LoadToken(ctx); tok != nil || err != nil {
		t.Errorf("damaged tokens = %v, %v; want none, no error", tok, err)
	}
}

// A failure is read back while recorded, for the same server only, and is gone once cleared.
func TestFailureRecord(t *testing.T) {
	dir := t.TempDir()
	const resource = "https://mcp.example.com/mcp"
	if f := ReadFailure(dir, resource); f != nil {
		t.Fatalf("ReadFailure of nothing = %v", f)
	}
	if _, err := LockSignIn(context.Background(), dir, resource, nil); err != nil { // the locks dir, as under the sign-in lock
		t.Fatal(err)
	}
	RecordFailure(dir, resource, errors.New("access_denied"))
	f := ReadFailure(dir, resource)
	if f == nil || f.Message != "access_denied" || f.At.IsZero() {
		t.Fatalf("ReadFailure = %+v", f)
	}
	if f := ReadFailure(dir, "https://other.example.com/mcp"); f != nil {
		t.Errorf("another server's failure = %+v", f)
	}
	ClearFailure(dir, resource)
	if f := ReadFailure(dir, resource); f != nil {
		t.Errorf("after ClearFailure: %+v", f)
	}
	if f := ReadFailure("", resource); f != nil {
		t.Errorf("no config dir: %+v", f)
	}
}
