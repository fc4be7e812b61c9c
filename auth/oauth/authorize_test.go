package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestNewAuthRequest(t *testing.T) {
	ar, err := NewAuthRequest("https://auth.example.com/oauth/authorize?tenant=a", "https://auth.example.com", "cid",
		"http://127.0.0.1:20001/callback", "https://mcp.example.com/v1/mcp", []string{"mcp:read", "mcp:execute"},
		url.Values{"audience": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ar.URL)
	q := u.Query()
	sum := sha256.Sum256([]byte(ar.Verifier))
	want := map[string]string{
		"response_type": "code", "client_id": "cid", "redirect_uri": "http://127.0.0.1:20001/callback",
		"state": ar.State, "scope": "mcp:read mcp:execute", "code_challenge_method": "S256",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "resource": "https://mcp.example.com/v1/mcp",
		"tenant": "a", "audience": "x",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(ar.State) < 40 || len(ar.Verifier) < 43 || ar.Issuer != "https://auth.example.com" {
		t.Errorf("weak state or verifier: %+v", ar)
	}
	if strings.Contains(ar.URL, ar.Verifier) {
		t.Error("the verifier must not be in the URL")
	}
	again, _ := NewAuthRequest("https://auth.example.com/oauth/authorize", "", "cid", "http://127.0.0.1:1/callback", "", nil, nil)
	if again.State == ar.State || again.Verifier == ar.Verifier {
		t.Error("state and verifier must be fresh each time")
	}
	if q2, _ := url.Parse(again.URL); q2.Query().Has("scope") || q2.Query().Has("resource") {
		t.Errorf("no scopes and no resource: the parameters are omitted, got %s", again.URL)
	}
}

func TestNewAuthRequestRefuses(t *testing.T) {
	if _, err := NewAuthRequest("javascript:alert(1)", "", "c", "http://127.0.0.1:1/callback", "", nil, nil); err == nil {
		t.Error("a javascript: endpoint must be refused")
	}
	for _, k := range []string{"State", "resource", "SCOPE", "code_challenge_method"} {
		_, err := NewAuthRequest("https://a.example/authorize", "", "c", "http://127.0.0.1:1/callback", "", nil, url.Values{k: {"x"}})
		if !errors.Is(err, ErrReservedParam) || !strings.Contains(err.Error(), "parameter "+k+":") || !ReservedParam(k) {
			t.Errorf("an extra %s = %v: it must not override the flow's own, and the error must name it", k, err)
		}
	}
	if ReservedParam("audience") {
		t.Error("audience is no parameter of the flow's own")
	}
}
