package auth

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/devserver"
	"github.com/meshailabs-org/meshai-mcp-server/internal/ratelimit"
)

// pageBrowser is a browser that follows the sign-in URL through the reference server's auto-approval to the
// loopback callback, and hands over the page the callback answered.
func pageBrowser(t *testing.T) <-chan string {
	pages := make(chan string, 1)
	old := openWithSystem
	t.Cleanup(func() { openWithSystem = old })
	openWithSystem = func(raw string) error {
		go func() {
			resp, err := http.Get(raw)
			if err != nil {
				pages <- "fetch: " + err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			pages <- string(b)
		}()
		return nil
	}
	return pages
}

// Audit finding 2: the loopback page that answers the browser says "Signed in" only once the code was redeemed;
// a token endpoint refusing the code makes it say the sign-in did not complete, and why.
func TestCallbackPageFollowsTheExchange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []devserver.Fault
		want   []string
		not    []string
	}{
		{"redeemed", nil, []string{"Signed in", "is signed in"}, []string{"did not complete"}},
		{"code refused", []devserver.Fault{devserver.FaultExchangeInvalidGrant},
			[]string{"Sign-in did not complete", "could not finish the sign-in", "invalid_grant"}, []string{"Signed in", "is signed in"}},
		// Finding 3: a rate limit beyond what the sign-in waits spends the code: a new sign-in is needed after it.
		{"code rate limited", []devserver.Fault{devserver.FaultRateLimitToken},
			[]string{"Sign-in did not complete", "is rate limiting (429)", "45s", "the code the browser brought back is spent", "a new sign-in is needed after the wait"},
			[]string{"Signed in", "is signed in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, Faults: tc.faults, RetryAfter: 45 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			pages := pageBrowser(t)
			s := newLifecycleSignIn(t, srv, t.TempDir())
			s.Stderr, s.HTTP = io.Discard, &http.Client{Transport: &ratelimit.Transport{}} // as the bridge's, which waits up to 30 s
			err = s.Login(t.Context(), nil, nil)
			if (tc.faults == nil) != (err == nil) {
				t.Fatalf("Login: %v", err)
			}
			var rle *CodeRateLimitedError
			limited := errors.As(err, &rle)
			if want := tc.name == "code rate limited"; limited != want || limited && (rle.Until.IsZero() || !oauth.IsRateLimited(err)) {
				t.Errorf("Login: %v; want a *CodeRateLimitedError with its end: %v", err, want)
			}
			page := <-pages
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("the callback page lacks %q:\n%s", w, page)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(page, n) {
					t.Errorf("the callback page has %q:\n%s", n, page)
				}
			}
		})
	}
}
