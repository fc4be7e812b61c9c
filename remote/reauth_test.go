package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// switchingSource hands out a wrong key until asked to reauthorize, then (if fix) the right one.
type switchingSource struct {
	mu   sync.Mutex
	key  string
	fix  bool
	err  error
	seen []challenge
}

func (s *switchingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &oauth2.Token{AccessToken: s.key, TokenType: "Bearer"}, nil
}

// challenge is what one Reauthorize call got.
type challenge struct {
	Status          int
	WWWAuthenticate []string
	RejectedToken   string
}

func (s *switchingSource) Reauthorize(_ context.Context, status int, www []string, rejected string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, challenge{status, www, rejected})
	if s.fix {
		s.key = "k"
	}
	return s.err
}

func TestReauthorizeOn401(t *testing.T) {
	srv := startDev(t)
	const init = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name      string
		src       *switchingSource
		want      string
		wantTries int
	}{
		{"refreshed", &switchingSource{key: "expired", fix: true}, `"result"`, 1},
		{"sign-in needed", &switchingSource{key: "expired", err: errors.New("sign-in required: open the link")}, "sign-in required: open the link", 1},
		{"never fixed", &switchingSource{key: "expired"}, "(401)", maxReauth},
		{"refresh rate limited", &switchingSource{key: "expired", err: fmt.Errorf("refresh the access token: %w", &ratelimit.Error{
			Endpoint: "https://as.example/token", Status: 429, Wait: time.Minute, Until: time.Now().Add(time.Minute)})},
			"https://as.example/token is rate limiting (429): it asks to wait 1m0s", 1},
		{"sign-in's code exchange rate limited", &switchingSource{key: "expired", err: &SignInFailure{fmt.Errorf("redeem the sign-in code: %w", &ratelimit.Error{
			Endpoint: "https://as.example/token", Status: 429, Wait: time.Minute, Until: time.Now().Add(time.Minute)})}},
			"redeem the sign-in code: https://as.example/token is rate limiting (429): it asks to wait 1m0s", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &inbox{}
			u, _ := url.Parse(srv.URL + "/v1/mcp")
			c := New(Options{URL: u, Token: tt.src, Deliver: b.deliver})
			defer c.Close(context.Background())
			c.Send(mustParse(t, init))
			signIn := errors.As(tt.src.err, new(*SignInFailure)) // a sign-in's code is spent: never "nothing is lost"
			if m := b.wait(t, `"id":1`); !strings.Contains(m, tt.want) || tt.src.err != nil && errors.As(tt.src.err, new(*ratelimit.Error)) &&
				(strings.Contains(m, "nothing is lost") == signIn || !strings.Contains(m, `"retryAt"`)) {
				t.Fatalf("got %s, want %q (sign-in failure: %v)", m, tt.want, signIn)
			}
			if len(tt.src.seen) != tt.wantTries {
				t.Fatalf("reauthorized %d times, want %d", len(tt.src.seen), tt.wantTries)
			}
			ch := tt.src.seen[0]
			if ch.Status != 401 || ch.RejectedToken != "expired" || len(ch.WWWAuthenticate) == 0 || !strings.HasPrefix(ch.WWWAuthenticate[0], "Bearer") {
				t.Errorf("challenge %+v", ch)
			}
		})
	}
}

// The GET stream is background work: a 401 there never starts a sign-in.
func TestNoReauthorizeInTheBackground(t *testing.T) {
	src := &switchingSource{key: "expired", fix: true}
	srv := startDev(t)
	u, _ := url.Parse(srv.URL + "/v1/mcp")
	c := New(Options{URL: u, Token: src})
	defer c.Close(context.Background())
	req, _ := c.newRequest(background(context.Background()), "GET", u, nil, "", "")
	resp, err := c.do(background(context.Background()), 0, func() (*http.Request, error) { return req, nil })
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(src.seen) != 0 {
		t.Fatalf("status %d, reauthorized %d times; want 401 and none", resp.StatusCode, len(src.seen))
	}
}
