package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// upstreamError is the bridge's own error for a request, as remote sends it: CodeUpstream, with the status and
// retry time in its data.
func upstreamError(id json.RawMessage, msg string, status int, retryAt time.Time) []byte {
	data := map[string]any{"url": "http://mcp.test/mcp"}
	if status != 0 {
		data["status"] = status
	}
	if !retryAt.IsZero() {
		data["retryAt"] = retryAt.UTC().Format(time.RFC3339)
	}
	return jsonrpc.ErrorResponse(id, jsonrpc.CodeUpstream, msg, data)
}

func TestReadFailure(t *testing.T) {
	at := time.Date(2026, 3, 4, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		name string
		raw  []byte
		want failure
	}{
		{"rate limited", upstreamError([]byte(`1`), "http://mcp.test/mcp is rate limiting (429): it asks to wait 30s.", 429, at),
			failure{text: "http://mcp.test/mcp is rate limiting (429): it asks to wait 30s", status: 429, until: at}},
		{"no answer", upstreamError([]byte(`1`), "connection refused by mcp.test:80: nothing is listening there", 0, time.Time{}),
			failure{text: "connection refused by mcp.test:80: nothing is listening there"}},
		{"the server's own error data is not the bridge's", jsonrpc.ErrorResponse([]byte(`1`), -32600, "bad", map[string]any{"status": 429, "retryAt": "2026-03-04T12:00:30Z"}),
			failure{text: "bad"}},
		{"not an error", []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`), failure{text: "the server did not accept the connection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readFailure(tt.raw); got.text != tt.want.text || got.status != tt.want.status || !got.until.Equal(tt.want.until) {
				t.Errorf("readFailure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The relay's own initialize answer names the cause the server's tools are missing for; a sign-in is named only
// when it is the cause. (In a synctest bubble the clock stands still: "until" stays ahead of now.)
func TestStandInWords(t *testing.T) {
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // a synctest bubble's clock starts there
	later := start.Add(30 * time.Second)
	when := clock(later)
	r := &Relay{ServerName: "mcp.test"}
	{
		tests := []struct {
			name        string
			st          SignInState
			last        failure
			title, want string
		}{
			{"MCP endpoint rate limited", SignInState{}, failure{text: "rate limiting (429)", status: 429, until: later},
				"mcp.test (rate limited)", "mcp.test is rate limiting its MCP endpoint until " + when + ": the bridge connects by itself"},
			{"the initialize waits out the MCP endpoint's rate limit", SignInState{ServerWait: later}, failure{},
				"mcp.test (rate limited)", "rate limiting its MCP endpoint until " + when},
			{"nothing listening", SignInState{}, failure{text: "connection refused by mcp.test:80: nothing is listening there"},
				"mcp.test (not connected)", "Could not connect to mcp.test: connection refused by mcp.test:80: nothing is listening there. Call the meshai_sign_in tool to try again."},
			{"a plain web server", SignInState{}, failure{text: "http://mcp.test/mcp is not an MCP endpoint (it answered HTTP 501 to an MCP request): check the URL", status: 501},
				"mcp.test (not an MCP endpoint)", "check the URL. The URL is in your MCP client's configuration: correct it there, then restart the client."},
			{"no such path", SignInState{}, failure{text: "no MCP endpoint at http://mcp.test/x (404): check the path", status: 404},
				"mcp.test (not an MCP endpoint)", "check the path."},
			{"sign-in waits out a rate limit", SignInState{Phase: SigningIn, URL: "https://as.test/authorize", Wait: later}, failure{},
				"mcp.test (signing in)", "Waiting for mcp.test's rate limit until " + when + ": the sign-in goes on by itself"},
			{"sign-in under way", SignInState{Phase: SigningIn}, failure{},
				"mcp.test (signing in)", "Call the meshai_sign_in tool for the sign-in link"},
			{"sign-in failed", SignInState{Phase: SignInFailed, Problem: "access_denied"}, failure{text: "access_denied", status: 401},
				"mcp.test (sign-in failed)", "Signing in to mcp.test failed: access_denied. Call the meshai_sign_in tool to try again."},
			{"a rate limit that is over is an ordinary failure", SignInState{}, failure{text: "rate limited", status: 429, until: start},
				"mcp.test (not connected)", "Could not connect to mcp.test: rate limited."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					title, text := r.standInWords(tt.st, tt.last)
					if title != tt.title || !strings.Contains(text, tt.want) {
						t.Errorf("standInWords = %q, %q; want %q and a text with %q", title, text, tt.title, tt.want)
					}
					signInCause := tt.st.Phase == SigningIn || tt.st.Phase == SignInFailed
					if !signInCause && (strings.Contains(text, "sign-in link") || strings.Contains(title, "signing in")) {
						t.Errorf("a cause that is not the sign-in is told as one: %q, %q", title, text)
					}
					if strings.Count(text, "try again") > 1 || strings.Contains(text, "try it after that") {
						t.Errorf("more than one thing to do: %q", text)
					}
				})
			})
		}
	}
}

// scripted is a server whose answers to initialize the test scripts, one per initialize; it answers once the
// script has one, and counts the initializes it saw.
type scripted struct {
	relay   *Relay
	answers chan func(id json.RawMessage) []byte
	quit    chan struct{} // closed at the end of the test: an initialize still held gets no answer
	mu      sync.Mutex
	inits   int
}

func (s *scripted) Send(m jsonrpc.Message) {
	if m.Kind != jsonrpc.KindRequest {
		return
	}
	switch m.Method {
	case "initialize":
		s.mu.Lock()
		s.inits++
		s.mu.Unlock()
		select {
		case answer := <-s.answers:
			s.relay.Deliver(answer(m.ID))
		case <-s.quit:
		}
	case "tools/list":
		s.relay.Deliver([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"tools":[{"name":"list_agents"}]}}`))
	}
}

func (s *scripted) Close(context.Context) error { return nil }

func (s *scripted) initializes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inits
}

// newScripted is a scripted server for r, which the test's end releases.
func newScripted(t *testing.T, r *Relay) *scripted {
	s := &scripted{relay: r, answers: make(chan func(json.RawMessage) []byte, 2), quit: make(chan struct{})}
	r.Up = s
	return s
}

func welcome(id json.RawMessage) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"real"}}}`)
}

// An MCP endpoint that rate limits the handshake: the client's initialize is answered at once, saying so; a tool
// call and the sign-in tool say so too, without a sign-in link and without asking the server again (which would
// only prolong its limit); when the limit is over the relay connects by itself and the tools appear.
func TestRateLimitedEndpointConnectsByItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		si := &fakeSignIn{}
		r := &Relay{SignIn: si, SignInWait: time.Hour, ServerName: "mcp.test"}
		srv := newScripted(t, r)
		until := time.Now().Add(30 * time.Second)
		srv.answers <- func(id json.RawMessage) []byte {
			return upstreamError(id, "http://mcp.test/mcp is rate limiting (429): it asks to wait 30s; the request was not sent again: try it after that", 429, until)
		}
		s := startSession(t, r)
		t.Cleanup(func() { close(srv.quit) })
		s.send(initLine)
		res := s.until("initialize answer", hasID(1))["result"].(map[string]any)
		want := "mcp.test is rate limiting its MCP endpoint until " + clock(until)
		if title := res["serverInfo"].(map[string]any)["title"]; title != "mcp.test (rate limited)" || !strings.HasPrefix(res["instructions"].(string), want) {
			t.Fatalf("initialize answer: title %q, instructions %q; want the rate limit", title, res["instructions"])
		}
		s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		for i, name := range []string{"list_agents", SignInTool} {
			id := float64(2 + i)
			s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q}}`, 2+i, name))
			if text := resultText(s.until(name, hasID(id))); !strings.HasPrefix(text, want) || strings.Contains(text, "sign-in link") {
				t.Errorf("%s answers %q; want the rate limit", name, text)
			}
		}
		synctest.Wait()
		if n := srv.initializes(); n != 1 || si.retries != 0 {
			t.Fatalf("during the limit the server saw %d initializes and the sign-in %d retries; want 1 and 0", n, si.retries)
		}
		srv.answers <- welcome
		time.Sleep(time.Until(until))
		s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
		if n := srv.initializes(); n != 2 {
			t.Errorf("the server saw %d initializes, want 2 (the client's, and one when the limit ended)", n)
		}
		s.send(`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`)
		if names := toolNames(s.until("tools/list", hasID(9))); strings.Join(names, ",") != "list_agents" {
			t.Errorf("tools once connected: %v", names)
		}
	})
}

// An initialize that waits in the transport for a long rate limit of the MCP endpoint is answered at SignInWait,
// with that cause, not after the wait; a short one is waited out for the server's own answer.
func TestHandshakeDuringTheEndpointsRateLimit(t *testing.T) {
	tests := []struct {
		name     string
		limit    time.Duration // the server's Retry-After
		answerAt time.Duration
		title    string
	}{
		{"a long limit is told at SignInWait", 30 * time.Second, 5 * time.Second, "mcp.test (rate limited)"},
		{"a short limit keeps the server's handshake", rateLimitHold, rateLimitHold, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				until := start.Add(tt.limit)
				si := &fakeSignIn{st: SignInState{ServerWait: until}}
				r := &Relay{SignIn: si, SignInWait: 5 * time.Second, ServerName: "mcp.test"}
				srv := newScripted(t, r)
				go func() { // the transport sends the held initialize when the limit is over
					time.Sleep(tt.limit)
					srv.answers <- welcome
				}()
				s := startSession(t, r)
				t.Cleanup(func() { close(srv.quit) })
				s.send(initLine)
				res := s.until("initialize answer", hasID(1))["result"].(map[string]any)
				if at := time.Since(start); at != tt.answerAt {
					t.Errorf("initialize answered after %v, want %v", at, tt.answerAt)
				}
				if tt.title == "" {
					if name := res["serverInfo"].(map[string]any)["name"]; name != "real" {
						t.Errorf("initialize answered by %q, want the server", name)
					}
					return
				}
				if title := res["serverInfo"].(map[string]any)["title"]; title != tt.title || !strings.Contains(res["instructions"].(string), clock(until)) {
					t.Errorf("initialize answer: %q, %q", title, res["instructions"])
				}
				s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_agents"}}`)
				if text := resultText(s.until("call", hasID(2))); !strings.Contains(text, "rate limiting its MCP endpoint until "+clock(until)) {
					t.Errorf("a tool call during the wait: %q", text)
				}
				s.until("tools/list_changed", isMethod("notifications/tools/list_changed"))
			})
		})
	}
}

// A sign-in waiting out its token endpoint's rate limit after the browser step: tool calls and the sign-in tool
// say so, and never send the user to the sign-in link, which is spent.
func TestSignInRateLimitWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		until := time.Now().Add(30 * time.Second)
		si := &fakeSignIn{st: SignInState{Phase: SigningIn, URL: "https://as.test/authorize?spent=1", Wait: until}}
		r := &Relay{SignIn: si, SignInWait: time.Second, ServerName: "mcp.test"}
		srv := newScripted(t, r)
		s := startSession(t, r)
		t.Cleanup(func() { close(srv.quit) })
		// next is s.until that checks every message it skips: no notification may send the user to the spent link.
		next := func(what string, pred func(map[string]any) bool) map[string]any {
			t.Helper()
			return s.until(what, func(m map[string]any) bool {
				params, _ := m["params"].(map[string]any)
				if d, _ := params["data"].(string); strings.Contains(d, "as.test") {
					t.Errorf("a notification sends the user to the spent link: %q", d)
				}
				return pred(m)
			})
		}
		s.send(initLine)
		res := next("initialize answer", hasID(1))["result"].(map[string]any)
		want := "Waiting for mcp.test's rate limit until " + clock(until) + ": the sign-in goes on by itself"
		if !strings.HasPrefix(res["instructions"].(string), want) {
			t.Errorf("initialize instructions: %q", res["instructions"])
		}
		for i, name := range []string{"list_agents", SignInTool} {
			id := 2 + i
			s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q}}`, id, name))
			text := resultText(next(name, hasID(float64(id))))
			if !strings.HasPrefix(text, want) || strings.Contains(text, "as.test") {
				t.Errorf("%s answers %q; want the wait, not the spent link", name, text)
			}
		}
		srv.answers <- welcome
		si.setState(SignInState{Phase: SignedIn})
		next("tools/list_changed", isMethod("notifications/tools/list_changed"))
	})
}
