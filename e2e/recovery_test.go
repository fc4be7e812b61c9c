package e2e

// Recovery (issue 11): whatever fails at whatever moment of the sign-in, the real bridge answers the client's
// initialize, says what failed in words that name the real cause, never claims a sign-in `status` denies, opens
// one browser tab per cause, and once the cause is gone the session works — without restarting the bridge.
// Each failure comes at two moments where it matters: at once, while the client's initialize still waits
// (--sign-in-wait 1m: only the failure can make the bridge answer it), and after --sign-in-wait (1ms), held on a
// condition the test releases (the browser, or the server holding a request) once the bridge has answered.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// recTiming is when a failure comes, against --sign-in-wait.
type recTiming string

const (
	atOnce    recTiming = "at once"              // within --sign-in-wait
	afterWait recTiming = "after --sign-in-wait" // once the bridge has answered the initialize itself
)

// signInWait is the --sign-in-wait of each timing.
func (tm recTiming) signInWait() string {
	if tm == afterWait {
		return "1ms"
	}
	return "1m"
}

// failRow is a sign-in that fails, and what the client must be shown of it.
type failRow struct {
	name       string
	faults     []devserver.Fault
	retryAfter time.Duration
	args       []string // more bridge flags
	browser    string   // the browser's mode at the start (default browserAuto)
	hold       string   // afterWait: the path prefix the server holds; "" holds the browser
	timings    []recTiming
	why        []string // what the client must read wherever the failure is shown
	// At the failure: browser opens, clients registered, authorization codes offered to the token endpoint.
	opens, registrations, codes int
	queued                      int                            // tools/call sent at once right after initialize
	cure                        func(t *testing.T, r *failRun) // removes the cause (default: SetFaults())
	whileFailing                func(t *testing.T, r *failRun) // more checks while the cause is there
}

// failRun is one row at one timing, running.
type failRun struct {
	srv     *recServer
	browser *recBrowser
	env     []string
	url     string
	s       *recSession
}

var bothTimings = []recTiming{atOnce, afterWait}

var failRows = []failRow{
	{name: "deny", faults: []devserver.Fault{devserver.FaultDeny}, timings: bothTimings,
		why:   []string{"access_denied", "The user denied the request", "refused in the browser"},
		opens: 1, registrations: 1},
	{name: "error redirect without iss", faults: []devserver.Fault{devserver.FaultErrorRedirect}, timings: bothTimings,
		why:   []string{"access_denied", "OAUTH_STATE_EXPIRED", "lacked the iss parameter"},
		opens: 1, registrations: 1},
	{name: "code exchange invalid_grant", faults: []devserver.Fault{devserver.FaultExchangeInvalidGrant}, timings: bothTimings,
		why:   []string{"invalid_grant"},
		opens: 1, registrations: 1, codes: 1},
	{name: "auth timeout shorter than sign-in wait", browser: browserNever, args: []string{"--auth-timeout", "2s"},
		timings: []recTiming{atOnce}, // the row is the timeout coming before --sign-in-wait
		why:     []string{"not completed in the browser within 2s", "--auth-timeout"},
		opens:   1, registrations: 1,
		cure: func(t *testing.T, r *failRun) { r.browser.setMode(t, browserAuto) }},
	{name: "registration 429 beyond 30s", faults: []devserver.Fault{devserver.FaultRateLimitRegister}, retryAfter: 45 * time.Second,
		hold: "/oauth/register", timings: bothTimings,
		why: []string{"429", "45s", "/oauth/register"},
		whileFailing: func(t *testing.T, r *failRun) {
			if n := r.srv.tooMany("/oauth/register"); n != 1 {
				t.Errorf("%d registration requests refused with 429, want 1: a wait beyond 30 s is not waited out", n)
			}
		}},
	{name: "Cloudflare at the token endpoint", faults: []devserver.Fault{devserver.FaultCloudflareToken}, timings: bothTimings,
		why:   []string{"Cloudflare"},
		opens: 1, registrations: 1, codes: 1, queued: 4,
		whileFailing: func(t *testing.T, r *failRun) {
			var rep struct {
				Checks []struct{ ID, Status, Detail string }
			}
			out := runBridgeCommand(t, r.env, "doctor", "--json", r.url)
			if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
				t.Fatalf("doctor --json: %v\n%s", err, out)
			}
			for _, c := range rep.Checks {
				if c.ID == "oauth.token" {
					if c.Status != "fail" || !strings.Contains(c.Detail, "Cloudflare") {
						t.Errorf("doctor's token endpoint check: %s: %s", c.Status, c.Detail)
					}
					return
				}
			}
			t.Errorf("doctor has no oauth.token check:\n%s", out)
		}},
	{name: "API key only, no MESHAI_API_KEY", faults: []devserver.Fault{devserver.FaultAPIKeyOnly},
		hold: "/.well-known/", timings: bothTimings,
		why: []string{"MESHAI_API_KEY", "offers no OAuth sign-in"}},
}

// Each failRow at each of its timings, in parallel: the handshake held, the cause named to the client, counts of
// browser opens, registrations and codes, then the cause removed and the same bridge working.
func TestRecoverySignInFailures(t *testing.T) {
	for _, row := range failRows {
		for _, tm := range row.timings {
			t.Run(row.name+"/"+string(tm), func(t *testing.T) {
				t.Parallel()
				runFailRow(t, row, tm)
			})
		}
	}
}

// runFailRow runs row with its failure coming as tm says.
func runFailRow(t *testing.T, row failRow, tm recTiming) {
	srv := startRecServer(t, devserver.Config{Faults: row.faults, RetryAfter: row.retryAfter})
	mode := row.browser
	if mode == "" {
		mode = browserAuto
	}
	var release func()
	switch {
	case tm == afterWait && row.hold != "":
		release = srv.hold(row.hold)
	case tm == afterWait:
		mode = browserHold
	}
	r := &failRun{srv: srv, browser: newRecBrowser(t, mode), env: signInEnv(t.TempDir()), url: srv.URL + "/v1/mcp"}
	if release == nil {
		release = func() { r.browser.release(t) }
	}
	args := append([]string{"--browser-command", r.browser.command, "--sign-in-wait", tm.signInWait()}, row.args...)
	r.s = newRecSession(t, r.env, append(args, r.url)...)
	s := r.s

	init := s.initialize()
	if !standsIn(init) {
		t.Fatalf("the bridge must answer the initialize itself while the sign-in fails, got serverInfo.title %q", title(init))
	}
	s.notify("notifications/initialized")
	queued := s.sendCalls(row.queued)
	if tm == afterWait {
		// Calls sent before the failure came are told the truth of that moment: not signed in yet.
		for _, id := range queued {
			m := s.answer(id)
			if b, _ := json.Marshal(m); !strings.Contains(string(b), "Not signed in") || !strings.Contains(string(b), `"isError":true`) {
				t.Errorf("a call while the sign-in is under way: %s", b)
			}
		}
		// The bridge answered before the failure came: it offers the sign-in, and says nothing it does not know.
		if names := s.tools(); len(names) != 1 || names[0] != "meshai_sign_in" {
			t.Errorf("tools while signing in: %v, want only meshai_sign_in", names)
		}
		text, _ := s.tool("meshai_sign_in")
		t.Logf("meshai_sign_in while the sign-in is held: %q", text)
		if row.hold == "" && !strings.Contains(text, "/oauth/authorize?") {
			t.Errorf("the sign-in tool gives no link while the browser is open: %q", text)
		}
		checkClaim(t, r.env, r.url, text)
		release()
	}

	failed := s.await(0, "an error message to the client", func(m map[string]any) bool { return isLog(m, "error") })
	if miss := lacking(logText(failed), row.why); len(miss) > 0 {
		t.Errorf("the error message to the client lacks %q: %s", miss, logText(failed))
	}
	if tm == afterWait {
		queued = s.sendCalls(row.queued) // more calls at once, now that the sign-in failed
	}
	for _, id := range queued {
		m := s.answer(id)
		res, _ := m["result"].(map[string]any)
		if b, _ := json.Marshal(m); res == nil || res["isError"] != true || len(lacking(string(b), row.why)) > 0 {
			t.Errorf("a call queued behind the sign-in must get the failure %q, got %s", row.why, b)
		}
	}
	text, isErr := s.tool("list_agents")
	if !isErr || len(lacking(text, row.why)) > 0 {
		t.Errorf("a server tool while the sign-in failed: isError=%v %q; want the failure naming %q", isErr, text, row.why)
	}
	if names := s.tools(); len(names) != 1 || names[0] != "meshai_sign_in" {
		t.Errorf("tools after the failure: %v, want only meshai_sign_in", names)
	}
	if in, out := signedIn(t, r.env, r.url); in {
		t.Errorf("status says signed in after a failed sign-in:\n%s", out)
	}
	checkCounts(t, r, "at the failure", row.opens, row.registrations, row.codes)
	if row.whileFailing != nil {
		row.whileFailing(t, r)
	}
	checkCounts(t, r, "after requests to the failed bridge", row.opens, row.registrations, row.codes)

	// The cause goes away; the user asks again; the session works, in the same bridge.
	if row.cure != nil {
		row.cure(t, r)
	} else {
		srv.SetFaults()
	}
	r.browser.setMode(t, browserAuto)
	from := s.mark()
	text, _ = s.tool("meshai_sign_in")
	if miss := lacking(text, append([]string{"The last attempt failed"}, row.why...)); len(miss) > 0 {
		t.Errorf("the sign-in tool after the failure lacks %q: %q", miss, text)
	}
	if strings.Contains(text, "You are signed in") {
		t.Errorf("the sign-in tool claims a sign-in while retrying: %q", text)
	}
	s.await(from, "notifications/tools/list_changed once signed in", isToolsChanged)
	checkWorks(t, r.srv, s, r.env, r.url)
	checkCounts(t, r, "after the recovery", row.opens+1, max(row.registrations, 1), row.codes+1)
}

// checkWorks holds a session to working: the server's tools listed, list_agents answered, the client's
// notifications/initialized delivered, and the sign-in tool and status agreeing that the user is signed in.
func checkWorks(t *testing.T, srv *recServer, s *recSession, env []string, serverURL string) {
	t.Helper()
	if names := s.tools(); !hasTool(names, "list_agents") {
		t.Errorf("tools once the cause is gone: %v", names)
	}
	if text, isErr := s.tool("list_agents"); isErr {
		t.Errorf("list_agents once the cause is gone: %q", text)
	}
	waitUntil(t, "notifications/initialized at the server", func() bool { return srv.received("notifications/initialized") > 0 })
	if n := srv.received("notifications/initialized"); n != 1 {
		t.Errorf("the server got notifications/initialized %d times, want once", n)
	}
	text, _ := s.tool("meshai_sign_in")
	checkClaim(t, env, serverURL, text)
}

// checkCounts compares browser opens, registrations and authorization codes redeemed with what is expected.
func checkCounts(t *testing.T, r *failRun, when string, opens, registrations, codes int) {
	t.Helper()
	got := [3]int{r.browser.opens(), r.srv.registrations(), r.srv.tokenRequests("authorization_code")}
	if want := [3]int{opens, registrations, codes}; got != want {
		t.Errorf("%s: %d browser opens, %d registrations, %d authorization codes sent; want %d, %d, %d",
			when, got[0], got[1], got[2], want[0], want[1], want[2])
	}
}

// A 429 with Retry-After: 1 on the client's initialize is waited out: the handshake is the server's own, after
// the wait, even when --sign-in-wait is shorter (the wait is no sign-in), and notifications/initialized reaches
// the server.
func TestRecoveryRateLimitedInitialize(t *testing.T) {
	for _, tm := range bothTimings {
		t.Run(string(tm), func(t *testing.T) {
			t.Parallel()
			srv := startRecServer(t, devserver.Config{RetryAfter: time.Second})
			b := newRecBrowser(t, browserAuto)
			env, url := signInEnv(t.TempDir()), srv.URL+"/v1/mcp"
			recLogin(t, env, b, url)
			srv.SetFaults(devserver.FaultRateLimitMCP)
			srv.liftOn(func(path string, status int) bool { return path == "/v1/mcp" && status == 429 })
			s := newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", tm.signInWait(), url)
			init := s.initialize()
			if info, _ := init["serverInfo"].(map[string]any); info["name"] != "meshai" || standsIn(init) {
				t.Errorf("the handshake must be the server's own after the wait, got %v", init["serverInfo"])
			}
			if n := srv.tooMany("/v1/mcp"); n != 1 {
				t.Errorf("%d 429 answers, want 1", n)
			}
			s.notify("notifications/initialized")
			checkWorks(t, srv, s, env, url)
			if b.opens() != 1 || srv.registrations() != 1 || srv.tokenRequests("refresh_token") != 0 {
				t.Errorf("%d browser opens, %d registrations, %d refreshes: want the login's 1, 1 and none",
					b.opens(), srv.registrations(), srv.tokenRequests("refresh_token"))
			}
		})
	}
}

// A 429 with Retry-After: 2 at the token endpoint while a refresh is due is waited out: the call succeeds,
// with one refresh once the fault lifts, the refresh token kept (no new sign-in) and no talk of missing
// credentials. In a running session the refresh comes from the bridge's own timer and a call made during the
// wait succeeds after it; at start the stored token has expired and the client's initialize waits for it.
func TestRecoveryRateLimitedRefresh(t *testing.T) {
	for _, tm := range []recTiming{"in a running session", "at start"} {
		t.Run(string(tm), func(t *testing.T) {
			t.Parallel()
			ttl := time.Hour
			if tm == "in a running session" {
				ttl = 9 * time.Second // refreshed 6 s after the sign-in, then 6 s after that
			}
			srv := startRecServer(t, devserver.Config{RetryAfter: 2 * time.Second, AccessTokenTTL: ttl})
			b := newRecBrowser(t, browserAuto)
			dir := t.TempDir()
			env, url := signInEnv(dir), srv.URL+"/v1/mcp"
			limit := func() {
				srv.SetFaults(devserver.FaultRateLimitToken)
				srv.liftOn(func(path string, status int) bool { return path == "/oauth/token" && status == 429 })
			}
			var s *recSession
			if tm == "at start" {
				recLogin(t, env, b, url)
				expireStoredTokens(t, dir)
				limit()
				s = newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1ms", url)
				if init := s.initialize(); standsIn(init) {
					t.Errorf("a refresh waiting out a 429 is no sign-in: the handshake must be the server's, got %q", title(init))
				}
				s.notify("notifications/initialized")
			} else {
				s = newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1m", url)
				if init := s.initialize(); standsIn(init) {
					t.Fatalf("the sign-in with an auto-approving browser must complete within the initialize: %q", title(init))
				}
				s.notify("notifications/initialized")
				if names := s.tools(); !hasTool(names, "list_agents") {
					t.Fatalf("tools: %v", names)
				}
				limit()
				waitUntil(t, "the refresh to meet the 429", func() bool { return srv.tooMany("/oauth/token") == 1 })
			}
			if text, isErr := s.tool("list_agents"); isErr {
				t.Errorf("the call must succeed after the wait: %q", text)
			}
			if n, limited := srv.tokenRequests("refresh_token"), srv.tooMany("/oauth/token"); n != 1 || limited != 1 {
				t.Errorf("%d refreshes after the fault lifted, %d refused with 429; want 1 and 1", n, limited)
			}
			if n, c := srv.authorizations(), srv.tokenRequests("authorization_code"); n != 1 || c != 1 || b.opens() != 1 {
				t.Errorf("%d authorizations, %d codes, %d browser opens: the refresh token must be kept, with no new sign-in", n, c, b.opens())
			}
			if all := s.stdout() + s.rb.stderr.String(); strings.Contains(strings.ToLower(all), "no credentials") {
				t.Errorf("a rate-limited refresh is no lack of credentials:\n%s", all)
			}
			_, status := signedIn(t, env, url)
			if !strings.Contains(status, "refreshed automatically") {
				t.Errorf("status after the refresh: %s", status)
			}
			checkWorks(t, srv, s, env, url)
		})
	}
}

// The token file is garbage: the bridge offers the sign-in rather than failing every request (today it counts
// the file as no tokens, so the server's 401 starts one sign-in, in one browser tab, that replaces it, with the
// stored client), and after it the tools work.
func TestRecoveryCorruptTokenFile(t *testing.T) {
	t.Parallel()
	srv := startRecServer(t, devserver.Config{})
	b := newRecBrowser(t, browserAuto)
	dir := t.TempDir()
	env, url := signInEnv(dir), srv.URL+"/v1/mcp"
	recLogin(t, env, b, url)
	files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.tokens.json"))
	if len(files) != 1 {
		t.Fatalf("want one tokens file, got %v", files)
	}
	if err := os.WriteFile(files[0], []byte("\x00garbage{{{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1m", url)
	init := s.initialize()
	t.Logf("initialize: serverInfo.title %q", title(init))
	s.notify("notifications/initialized")
	signInUntilTools(t, s)
	checkWorks(t, srv, s, env, url)
	if b.opens() != 2 || srv.registrations() != 1 {
		t.Errorf("%d browser opens, %d registrations; want 2 (the login's, and one to replace the damaged file) and 1",
			b.opens(), srv.registrations())
	}
}

// The config dir is deleted while the bridge runs: calls go on with the token in memory; once the server
// refuses that token, the bridge must not fail every request: it refreshes with the refresh token it holds
// (today, with no browser) or offers the sign-in, and then the tools work and the sign-in is stored again.
func TestRecoveryConfigDirDeleted(t *testing.T) {
	t.Parallel()
	srv := startRecServer(t, devserver.Config{})
	b := newRecBrowser(t, browserAuto)
	dir := t.TempDir()
	env, url := signInEnv(dir), srv.URL+"/v1/mcp"
	// Signed in by `login`, so that the bridge's own sign-in later is no second one within moments of the first.
	recLogin(t, env, b, url)
	s := newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1m", url)
	if init := s.initialize(); standsIn(init) {
		t.Fatalf("signed in already, the handshake must be the server's: %q", title(init))
	}
	s.notify("notifications/initialized")
	if text, isErr := s.tool("list_agents"); isErr {
		t.Fatalf("list_agents: %q", text)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if text, isErr := s.tool("list_agents"); isErr {
		t.Errorf("list_agents with the token in memory, the config dir gone: %q", text)
	}
	srv.refuseIssued()
	m := s.call("tools/call", `{"name":"list_agents","arguments":{}}`)
	if res, _ := m["result"].(map[string]any); res == nil || res["isError"] == true {
		b2, _ := json.Marshal(m)
		t.Logf("list_agents once the server refuses the token: %s", b2)
		signInUntilTools(t, s) // the call failed: the sign-in must be on offer, and work
	}
	checkWorks(t, srv, s, env, url)
	if got := fmt.Sprint(b.opens(), srv.registrations(), srv.tokenRequests("refresh_token")); got != "1 1 1" {
		t.Errorf("browser opens, registrations, refreshes: %s; want 1 1 1 (the refresh token held in memory suffices)", got)
	}
}

// signInUntilTools gets the server's tools: they are listed already, or the sign-in tool is, and calling it
// signs in (the browser approves) and brings them with notifications/tools/list_changed.
func signInUntilTools(t *testing.T, s *recSession) {
	t.Helper()
	names := s.tools()
	if hasTool(names, "list_agents") {
		return
	}
	if len(names) != 1 || names[0] != "meshai_sign_in" {
		t.Fatalf("neither the server's tools nor the sign-in tool are listed: %v", names)
	}
	from := s.mark()
	text, _ := s.tool("meshai_sign_in")
	t.Logf("meshai_sign_in: %q", text)
	if !strings.Contains(text, "Open this link") && !strings.Contains(text, "Connected to") {
		t.Fatalf("the sign-in tool started no sign-in: %q", text)
	}
	s.await(from, "notifications/tools/list_changed after the sign-in", isToolsChanged)
	if names := s.tools(); !hasTool(names, "list_agents") {
		t.Fatalf("tools after the sign-in: %v", names)
	}
}

// Given the server's root URL instead of its MCP endpoint, the bridge finds /v1/mcp and works: with an API key,
// and with a sign-in.
func TestRecoverySeedURLWithoutPath(t *testing.T) {
	t.Run("API key", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1:0")
		s := newRecSession(t, bridgeEnv(t), srv.URL)
		s.initialize()
		s.notify("notifications/initialized")
		if names := s.tools(); !hasTool(names, "list_agents") {
			t.Fatalf("tools: %v", names)
		}
		if text, isErr := s.tool("list_agents"); isErr {
			t.Errorf("list_agents: %q", text)
		}
	})
	t.Run("sign-in", func(t *testing.T) {
		t.Parallel()
		srv := startRecServer(t, devserver.Config{})
		b := newRecBrowser(t, browserAuto)
		env := signInEnv(t.TempDir())
		s := newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1m", srv.URL)
		if init := s.initialize(); standsIn(init) {
			t.Errorf("the sign-in with an auto-approving browser must complete within the initialize: %q", title(init))
		}
		s.notify("notifications/initialized")
		signInUntilTools(t, s)
		checkWorks(t, srv, s, env, srv.URL)
		if b.opens() != 1 || srv.registrations() != 1 {
			t.Errorf("%d browser opens, %d registrations; want 1 and 1", b.opens(), srv.registrations())
		}
	})
}

// A token that lives 10 s is used, not refreshed right after the sign-in.
func TestRecoveryShortTokenNotRefreshedAtOnce(t *testing.T) {
	t.Parallel()
	srv := startRecServer(t, devserver.Config{AccessTokenTTL: 10 * time.Second})
	b := newRecBrowser(t, browserAuto)
	env, url := signInEnv(t.TempDir()), srv.URL+"/v1/mcp"
	s := newRecSession(t, env, "--browser-command", b.command, "--sign-in-wait", "1m", url)
	if init := s.initialize(); standsIn(init) {
		t.Fatalf("the sign-in with an auto-approving browser must complete within the initialize: %q", title(init))
	}
	s.notify("notifications/initialized")
	if names := s.tools(); !hasTool(names, "list_agents") {
		t.Fatalf("tools: %v", names)
	}
	if n := srv.tokenRequests("refresh_token"); n != 0 {
		t.Errorf("%d refreshes right after the sign-in, want 0", n)
	}
	checkWorks(t, srv, s, env, url)
	if n := srv.tokenRequests("refresh_token"); n != 0 {
		t.Errorf("%d refreshes of a token with most of its 10 s ahead, want 0", n)
	}
	if got := fmt.Sprint(b.opens(), srv.registrations(), srv.tokenRequests("authorization_code")); got != "1 1 1" {
		t.Errorf("browser opens, registrations, codes: %s; want 1 1 1", got)
	}
}
