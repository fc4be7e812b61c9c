package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

func get(t *testing.T, redirect string, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(redirect + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// fetched is a page the loopback answered.
type fetched struct {
	status int
	body   string
}

// getAsync fetches redirect?q in the background: the page of a code waits for the sign-in's end.
func getAsync(t *testing.T, redirect string, q url.Values) <-chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		var f fetched
		resp, err := http.Get(redirect + "?" + q.Encode())
		if err != nil {
			f.body = err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			f = fetched{resp.StatusCode, string(b)}
		}
		ch <- f
	}()
	return ch
}

func TestLoopback(t *testing.T) {
	const iss = "https://auth.example.com"
	tests := []struct {
		name     string
		issReq   bool
		query    url.Values
		wantCode string
		wantErr  error
		page     string
	}{
		{"code", false, url.Values{"state": {"s1"}, "code": {"c-123"}, "iss": {iss}}, "c-123", nil, "Signed in"},
		{"no iss, not promised", false, url.Values{"state": {"s1"}, "code": {"c-123"}}, "c-123", nil, "Signed in"},
		{"no iss, promised", true, url.Values{"state": {"s1"}, "code": {"c-123"}}, "", ErrIssuerMismatch, "unexpected authorization server"},
		{"wrong iss", false, url.Values{"state": {"s1"}, "code": {"c"}, "iss": {"https://evil.example"}}, "", ErrIssuerMismatch, "unexpected"},
		{"iss not normalised", false, url.Values{"state": {"s1"}, "code": {"c"}, "iss": {iss + "/"}}, "", ErrIssuerMismatch, "unexpected"},
		{"wrong iss hides the error text", false, url.Values{"state": {"s1"}, "error": {"access_denied"}, "error_description": {"phish here"}, "iss": {"https://evil.example"}}, "", ErrIssuerMismatch, "unexpected"},
		{"denied", false, url.Values{"state": {"s1"}, "error": {"access_denied"}, "error_description": {"user said no"}, "iss": {iss}}, "", ErrAccessDenied, "user said no"},
		{"escaped", false, url.Values{"state": {"s1"}, "error": {"invalid_scope"}, "error_description": {"<script>alert(1)</script>"}, "iss": {iss}}, "", nil, "&lt;script&gt;"},
		{"no code", false, url.Values{"state": {"s1"}, "iss": {iss}}, "", nil, "no code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ListenLoopback(nil)
			if err != nil {
				t.Fatal(err)
			}
			l.Expect("s1", iss, tt.issReq)
			pageDone := getAsync(t, l.RedirectURI(), tt.query)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only a hang guard
			defer cancel()
			cb, err := l.Wait(ctx)
			if err == nil {
				l.Finish(nil) // the code was redeemed
			}
			if body := (<-pageDone).body; !strings.Contains(body, tt.page) || strings.Contains(body, "phish") || strings.Contains(body, "<script>") {
				t.Errorf("page: %s", body)
			}
			if tt.wantCode != "" {
				if err != nil || cb.Code != tt.wantCode {
					t.Fatalf("got %+v, %v", cb, err)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "c-123") {
				t.Error("an error must not carry the code")
			}
		})
	}
}

// A response with another state is refused without ending the wait; ours still gets through.
func TestLoopbackIgnoresForeignState(t *testing.T) {
	l, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := get(t, l.RedirectURI(), url.Values{"state": {""}, "code": {"x"}}); st != 400 {
		t.Fatal("nothing may be accepted before Expect")
	}
	l.Expect("mine", "", false)
	if st, body := get(t, l.RedirectURI(), url.Values{"state": {"theirs"}, "code": {"x"}}); st != 400 || !strings.Contains(body, "stale") {
		t.Fatalf("foreign state: %d %s", st, body)
	}
	pageDone := getAsync(t, l.RedirectURI(), url.Values{"state": {"mine"}, "code": {"good"}})
	cb, err := l.Wait(context.Background())
	if err != nil || cb.Code != "good" {
		t.Fatalf("got %+v %v", cb, err)
	}
	l.Finish(nil)
	if p := <-pageDone; !strings.Contains(p.body, "Signed in") {
		t.Errorf("page after Finish(nil): %d %s", p.status, p.body)
	}
	// One-shot: the listener is gone after the answer.
	if _, err := http.Get(l.RedirectURI()); err == nil {
		t.Error("the loopback listener must close after the answer")
	}
}

func TestLoopbackBindsLoopbackOnlyAndPrefersStablePorts(t *testing.T) {
	stable := CallbackPorts("https://mcp.example.com/v1/mcp|issuer|client")
	if again := CallbackPorts("https://mcp.example.com/v1/mcp|issuer|client"); fmt.Sprint(again) != fmt.Sprint(stable) {
		t.Fatalf("ports must be stable for a key: %v, then %v", stable, again)
	}
	if len(stable) != 3 || stable[0] < 20000 || stable[0] >= 40000 || stable[1] != stable[0]+1 || stable[2] != stable[0]+2 {
		t.Fatalf("CallbackPorts = %v; want three consecutive ports from 20000-39999", stable)
	}
	if other := CallbackPorts("https://other.example/mcp|issuer|client"); other[0] == stable[0] {
		t.Log("two keys share a port (possible, if unlikely)")
	}
	// The first candidate is taken: the loopback moves to the next one. Both are ports the OS just handed out, so
	// the test does not depend on which fixed ports happen to be free on this machine.
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	freed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freed.Close()
	ports := []int{busy.Addr().(*net.TCPAddr).Port, freed.Addr().(*net.TCPAddr).Port}
	l, err := ListenLoopback(ports)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.ln.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.Port != ports[1] {
		t.Fatalf("bound %s, want 127.0.0.1:%d", addr, ports[1])
	}
	if l.RedirectURI() != "http://127.0.0.1:"+strconv.Itoa(ports[1])+"/callback" {
		t.Errorf("redirect URI %s", l.RedirectURI())
	}
}

func TestLoopbackTimeout(t *testing.T) {
	l, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// --host and --callback-path shape the redirect URI; localhost answers on 127.0.0.1 and, where the machine has
// IPv6 loopback, on [::1] too, since browsers may resolve localhost to either.
func TestLoopbackHostAndPath(t *testing.T) {
	for _, tc := range []struct{ host, path, want string }{
		{"127.0.0.1", "/callback", "http://127.0.0.1:%d/callback"},
		{"localhost", "/oauth/callback", "http://localhost:%d/oauth/callback"},
	} {
		l, err := ListenLoopbackAt(tc.host, tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(tc.want, l.Port()); l.RedirectURI() != want {
			t.Errorf("redirect URI %s, want %s", l.RedirectURI(), want)
		}
		l.Expect("s", "", false)
		targets := []string{"http://127.0.0.1:" + strconv.Itoa(l.Port()) + tc.path}
		if tc.host == "localhost" && l.extra != nil {
			targets = append(targets, "http://[::1]:"+strconv.Itoa(l.Port())+tc.path)
		}
		for _, u := range targets {
			if st, _ := get(t, u, url.Values{"state": {"other"}, "code": {"x"}}); st != 400 {
				t.Errorf("%s answered %d, want the loopback's 400 for a stale state", u, st)
			}
		}
		l.Close()
	}
	if _, err := ListenLoopbackAt("evil.example", "/callback", nil); err == nil {
		t.Error("a non-loopback host must be refused")
	}
	if _, err := ListenLoopbackAt("127.0.0.1", "callback", nil); err == nil {
		t.Error("a relative path must be refused")
	}
}

func TestPageEscapesWhatTheServerSent(t *testing.T) {
	rec := httptest.NewRecorder()
	page(rec, 400, `Sign-in failed <img src=x onerror=alert(1)>`, `access_denied ("<script>alert('x')</script>" & more)`)
	body := rec.Body.String()
	for _, bad := range []string{"<img", "<script", `"<`, "& more"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page holds %q unescaped:\n%s", bad, body)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;", "&amp; more", "<h1>Sign-in failed"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	if h := rec.Header(); h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", h)
	}
}

// One response per sign-in: a code delivered twice, a replayed state or a state sent twice in one response finds
// the listener's state spent or ambiguous; a response with two codes uses neither.
func TestLoopbackOneResponse(t *testing.T) {
	const iss = "https://auth.example.com"
	l, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Expect("s1", iss, false)
	if status, body := get(t, l.RedirectURI(), url.Values{"state": {"s1", "s1"}, "code": {"c-0"}}); status != http.StatusBadRequest || !strings.Contains(body, "stale") {
		t.Errorf("a repeated state: %d %s", status, body)
	}
	q := url.Values{"state": {"s1"}, "code": {"c-1"}, "iss": {iss}}
	first := getAsync(t, l.RedirectURI(), q)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only a hang guard
	defer cancel()
	if cb, err := l.Wait(ctx); err != nil || cb.Code != "c-1" {
		t.Fatalf("the first code must win: %+v %v", cb, err)
	}
	q.Set("code", "c-2")
	if status, body := get(t, l.RedirectURI(), q); status != http.StatusBadRequest || !strings.Contains(body, "stale") {
		t.Errorf("second delivery: %d %s", status, body)
	}
	l.Finish(nil)
	if p := <-first; p.status != http.StatusOK || !strings.Contains(p.body, "Signed in") {
		t.Fatalf("first delivery: %d %s", p.status, p.body)
	}

	two, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	two.Expect("s2", iss, false)
	if status, _ := get(t, two.RedirectURI(), url.Values{"state": {"s2"}, "code": {"a", "b"}, "iss": {iss}}); status != http.StatusBadRequest {
		t.Errorf("two codes: status %d", status)
	}
	if cb, err := two.Wait(ctx); err == nil || cb.Code != "" {
		t.Fatalf("two codes must end the sign-in with an error: %+v %v", cb, err)
	}
}

// The browser that brought the code is answered with how the sign-in ended: "Signed in" only once the code was
// redeemed; a failure in words cleaned of secrets; "finishing" when the outcome takes too long or never comes.
func TestLoopbackAnswersAfterTheExchange(t *testing.T) {
	const secret = "sekret-access-token-77"
	secrets.Add(secret)
	for _, tc := range []struct {
		name   string
		within time.Duration
		end    func(l *Loopback)
		want   []string
		not    []string
	}{
		{"signed in", 0, func(l *Loopback) { l.Finish(nil) }, []string{"Signed in", "is signed in"}, []string{"could not"}},
		{"exchange refused", 0, func(l *Loopback) {
			l.Finish(fmt.Errorf("redeem the sign-in code: %w", &oauth.TokenError{Status: 400, Code: "invalid_grant", Description: "code <b>used</b> " + secret + "\x1b[31m"}))
		}, []string{"Sign-in did not complete", "could not finish the sign-in", "invalid_grant", "&lt;b&gt;used"}, []string{"Signed in", secret, "<b>", "\x1b"}},
		{"closed without an outcome", 0, func(l *Loopback) { l.Close() }, []string{"Finishing the sign-in", "your MCP client shows"}, []string{"Signed in"}},
		{"no outcome in time", time.Millisecond, func(*Loopback) {}, []string{"Finishing the sign-in", "still finishing"}, []string{"Signed in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ListenLoopback(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			l.answerLimit = tc.within
			l.Expect("s1", "", false)
			pageDone := getAsync(t, l.RedirectURI(), url.Values{"state": {"s1"}, "code": {"c-1"}})
			if cb, err := l.Wait(t.Context()); err != nil || cb.Code != "c-1" {
				t.Fatalf("Wait: %+v %v", cb, err)
			}
			tc.end(l)
			p := <-pageDone
			for _, w := range tc.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("the page lacks %q: %s", w, p.body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(p.body, n) {
					t.Errorf("the page has %q: %s", n, p.body)
				}
			}
		})
	}
}
