package e2e

// Faults under load (issue 6): sixteen mesh_execute calls in flight with progress streaming, through the real
// bridge binary driven byte by byte, while the upstream breaks one way at a time. Every request is counted by id:
// answered correctly, answered with a clear JSON-RPC error, or lost; and the server counts its runs of each task,
// so a request it executed again after completing it shows up as duplicated. Lost and duplicated must be 0.
// Each scenario logs one "FAULTS|" table row; scripts/faults collects them.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

const (
	faultWindow = 16                    // requests in flight
	faultTotal  = 32                    // requests per scenario: the window, then as many sent as answers come in
	faultSteps  = 10                    // mesh_execute steps per request, each with a progress notification
	faultStep   = 40 * time.Millisecond // the server's pause between steps
	faultWait   = hangGuard             // the generous deadline after which an unanswered request counts as lost
)

// faultCall is one mesh_execute request of the load and what came back for it.
type faultCall struct {
	id       int
	task     string
	sent     time.Time
	answer   map[string]any // nil until answered
	answers  int            // how many answers carried its id (more than 1 is a bug)
	progress []float64
}

// faultLoad drives a bridge with a sliding window of mesh_execute calls and records every stdout line.
type faultLoad struct {
	t    *testing.T
	name string
	rb   *rawBridge

	wmu sync.Mutex // one writer on the bridge's stdin

	mu         sync.Mutex
	calls      map[string]*faultCall // by id as JSON
	order      []*faultCall
	initAnswer map[string]any
	notJSON    []string // stdout lines that are not JSON-RPC
	stray      int      // answers or progress for ids and tokens never sent
	events     chan struct{}
}

// newFaultLoad starts reading the bridge's stdout; every line must be a JSON-RPC message.
func newFaultLoad(t *testing.T, name string, rb *rawBridge) *faultLoad {
	l := &faultLoad{t: t, name: name, rb: rb, calls: map[string]*faultCall{}, events: make(chan struct{}, 1)}
	go l.read()
	return l
}

func (l *faultLoad) write(line string) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_, _ = io.WriteString(l.rb.stdin, line+"\n")
}

func (l *faultLoad) signal() {
	select {
	case l.events <- struct{}{}:
	default:
	}
}

func (l *faultLoad) read() {
	for line := range l.rb.lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["jsonrpc"] != "2.0" {
			l.mu.Lock()
			l.notJSON = append(l.notJSON, line)
			l.mu.Unlock()
			continue
		}
		method, _ := m["method"].(string)
		id, hasID := m["id"]
		switch {
		case method != "" && hasID: // a server request (ping, roots/list): answer it
			b, _ := json.Marshal(id)
			l.write(`{"jsonrpc":"2.0","id":` + string(b) + `,"result":{}}`)
		case method == "notifications/progress":
			p, _ := m["params"].(map[string]any)
			tok, _ := p["progressToken"].(string)
			v, _ := p["progress"].(float64)
			l.mu.Lock()
			if c := l.calls[strings.TrimPrefix(tok, "p-")]; c != nil {
				c.progress = append(c.progress, v)
			} else {
				l.stray++
			}
			l.mu.Unlock()
		case method != "": // other notifications (log messages, list_changed)
		case hasID:
			b, _ := json.Marshal(id)
			l.mu.Lock()
			if string(b) == `"init"` {
				l.initAnswer = m
			} else if c := l.calls[string(b)]; c != nil {
				c.answers++
				if c.answer == nil {
					c.answer = m
				}
			} else {
				l.stray++
			}
			l.mu.Unlock()
		}
		l.signal()
	}
	l.signal()
}

// initialize runs the client's handshake through the bridge.
func (l *faultLoad) initialize() {
	l.t.Helper()
	l.write(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"faults","version":"1"}}}`)
	deadline := time.After(hangGuard)
	for {
		l.mu.Lock()
		a := l.initAnswer
		l.mu.Unlock()
		if a != nil {
			if a["result"] == nil {
				l.t.Fatalf("initialize through the bridge: %v\n%s", a, l.rb.stderr.String())
			}
			break
		}
		select {
		case <-l.events:
		case <-deadline:
			l.t.Fatalf("no answer to initialize\n%s", l.rb.stderr.String())
		}
	}
	l.write(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// sendNext sends the next mesh_execute call, with a progress token and a task naming it uniquely.
func (l *faultLoad) sendNext() {
	l.mu.Lock()
	n := len(l.order) + 1
	c := &faultCall{id: 100 + n, task: fmt.Sprintf("faults %s call %d", l.name, n), sent: time.Now()}
	l.calls[fmt.Sprint(c.id)] = c
	l.order = append(l.order, c)
	l.mu.Unlock()
	l.write(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"mesh_execute",`+
		`"arguments":{"task":%q,"steps":%d},"_meta":{"progressToken":"p-%d"}}}`, c.id, c.task, faultSteps, c.id))
}

// run keeps faultWindow calls in flight until faultTotal were sent, and runs inject (in the background) once
// every call of the first window is streaming progress. It returns when every call is answered, or at the
// deadline, and inject has returned; it returns how many calls were in flight when the fault was injected.
func (l *faultLoad) run(inject func()) (inFlightAtFault int) {
	l.t.Helper()
	for range faultWindow {
		l.sendNext()
	}
	injected, injectDone, finished := false, make(chan struct{}), false
	deadline := time.After(faultWait)
	for {
		l.mu.Lock()
		answered, streaming := 0, 0
		for i, c := range l.order {
			if c.answer != nil {
				answered++
			} else if i < faultWindow && len(c.progress) > 0 {
				streaming++
			}
		}
		sent := len(l.order)
		l.mu.Unlock()
		if !injected && streaming == faultWindow {
			injected, inFlightAtFault = true, sent-answered
			go func() { defer close(injectDone); inject() }()
		}
		for ; sent < faultTotal && sent-answered < faultWindow; sent++ {
			l.sendNext()
		}
		if answered == faultTotal && finished {
			return inFlightAtFault
		}
		select {
		case <-l.events:
		case <-injectDone:
			injectDone, finished = nil, true // closed: stop selecting on it
		case <-deadline:
			if !injected {
				l.t.Fatalf("%s: the calls never all streamed progress, the fault was not injected\n%s", l.name, l.rb.stderr.String())
			}
			if injectDone != nil {
				<-injectDone
			}
			return inFlightAtFault
		}
	}
}

// faultCounts is one row of the table.
type faultCounts struct {
	Sent, OK, ClearErrors, UnclearErrors, Lost, Duplicated, DoubleAnswers, Stray, NotJSON int
	ProgressGaps                                                                          int            // correct results that came without their last progress notification
	Errors                                                                                map[string]int // distinct error messages
}

// clearError reports whether an error message says what happened in words a user can act on.
var clearError = regexp.MustCompile(`(?i)\b(server|session|connection|connect|sign[ -]?in|signed|refused|cancel+ed|` +
	`try again|unreachable|credentials|token|listening|network|grant|authoriz)`)

// eofAsUnreachable is the message of the bug in remote.describeNetError: "cannot reach HOST: Post URL: EOF".
var eofAsUnreachable = regexp.MustCompile(`^cannot reach \S+: \w+ \S+: (unexpected )?EOF$`)

// tally classifies every call: result matching its task, clear error, unclear error or lost; and, with the
// server's run counts, duplicated.
func (l *faultLoad) tally(runs func(task string) (started, completed, repeated int)) faultCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := faultCounts{Sent: len(l.order), Errors: map[string]int{}, Stray: l.stray, NotJSON: len(l.notJSON)}
	for _, c := range l.order {
		if _, completed, repeated := runs(c.task); completed > 1 || repeated > 0 {
			n.Duplicated++
		}
		if c.answers > 1 {
			n.DoubleAnswers++
		}
		switch msg, ok := l.outcome(c); {
		case c.answer == nil:
			n.Lost++
		case ok:
			n.OK++
			if !slices.Contains(c.progress, float64(faultSteps)) {
				n.ProgressGaps++
			}
		default:
			n.Errors[msg]++
			if len(msg) >= 20 && clearError.MatchString(msg) {
				n.ClearErrors++
			} else {
				n.UnclearErrors++
			}
		}
	}
	return n
}

// outcome says whether c's answer is the right result, or else returns the error message it carries.
func (l *faultLoad) outcome(c *faultCall) (string, bool) {
	if c.answer == nil {
		return "", false
	}
	if e, ok := c.answer["error"].(map[string]any); ok {
		msg, _ := e["message"].(string)
		return msg, false
	}
	res, _ := c.answer["result"].(map[string]any)
	var text string
	if content, _ := res["content"].([]any); len(content) > 0 {
		first, _ := content[0].(map[string]any)
		text, _ = first["text"].(string)
	}
	if isErr, _ := res["isError"].(bool); isErr {
		return "tool error: " + text, false
	}
	sc, _ := res["structuredContent"].(map[string]any)
	want := fmt.Sprintf("Task %q completed in %d steps", c.task, faultSteps)
	if sc["task"] == c.task && sc["status"] == "completed" && strings.HasPrefix(text, want) {
		return "", true
	}
	return fmt.Sprintf("wrong result for %q: %.200s", c.task, text), false
}

// report logs the table row and asserts the invariants: nothing lost, nothing run twice, every error clear,
// stdout JSON-RPC only, one answer per id.
func (l *faultLoad) report(inFlight int, n faultCounts, notes string) {
	t := l.t
	t.Helper()
	t.Logf("FAULTS| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s |", l.name, n.Sent, inFlight, n.OK, n.ClearErrors,
		n.UnclearErrors, n.Lost, n.Duplicated, n.ProgressGaps, notes)
	msgs := make([]string, 0, len(n.Errors))
	for m := range n.Errors {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		t.Logf("FAULTS-ERROR| %s | %d× | %s", l.name, n.Errors[m], m)
	}
	if len(faultDebug()) > 0 {
		t.Logf("bridge stderr:\n%s", l.rb.stderr.String())
	}
	if n.Sent != faultTotal || inFlight < faultWindow {
		t.Errorf("%d requests sent, %d in flight at the fault; want %d and %d", n.Sent, inFlight, faultTotal, faultWindow)
	}
	if n.Lost != 0 {
		t.Errorf("%d of %d requests lost: no answer within %s", n.Lost, n.Sent, faultWait)
	}
	if n.Duplicated != 0 {
		t.Errorf("the server ran %d requests again after completing them", n.Duplicated)
	}
	if n.UnclearErrors != 0 {
		t.Errorf("%d errors do not say what happened: %v", n.UnclearErrors, n.Errors)
		for m := range n.Errors {
			if eofAsUnreachable.MatchString(m) {
				t.Fatalf("BUG remote.describeNetError reports a connection closed after the request was sent (io.EOF from "+
					"http.Client.Do) as %q: the server was reached and may have run the request; the message should say the "+
					"connection closed before the answer and that the request may or may not have run", m)
			}
		}
	}
	if n.DoubleAnswers != 0 || n.Stray != 0 {
		t.Errorf("%d ids answered more than once, %d answers or progress for ids never sent", n.DoubleAnswers, n.Stray)
	}
	if n.NotJSON != 0 {
		l.mu.Lock()
		t.Errorf("stdout carried something other than JSON-RPC: %q", l.notJSON)
		l.mu.Unlock()
	}
	if n.OK+n.ClearErrors+n.UnclearErrors+n.Lost != n.Sent {
		t.Errorf("the counts do not add up: %+v", n)
	}
}

// runsOf adds up the run counts of several server instances (a restart makes two); a task completed by one and
// started again by a later one was run twice.
func runsOf(execs ...*devserver.Executions) func(string) (int, int, int) {
	return func(task string) (started, completed, repeated int) {
		for _, e := range execs {
			x := e.Of(task)
			if completed > 0 && x.Started > 0 {
				repeated++
			}
			started, completed, repeated = started+x.Started, completed+x.Completed, repeated+x.Repeated
		}
		return
	}
}

// checkTracked fails when the server ran mesh_execute calls its tracker did not see, which would hide duplicates.
func checkTracked(t *testing.T, srv *devserver.Running, e *devserver.Executions) {
	t.Helper()
	total := 0
	for _, x := range e.All() {
		total += x.Started
	}
	if st := srv.Stats().Started; int64(total) != st {
		t.Errorf("the server started %d mesh_execute runs but the tracker saw %d", st, total)
	}
}

// faultServer starts a reference server that counts its mesh_execute runs by task.
func faultServer(t *testing.T, addr string, cfg devserver.Config) (*devserver.Running, *devserver.Executions) {
	t.Helper()
	srv, ex, err := listenTracked(t, addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ex
}

// listenTracked is faultServer for goroutines other than the test's, which must not call t.Fatal.
func listenTracked(t *testing.T, addr string, cfg devserver.Config) (*devserver.Running, *devserver.Executions, error) {
	srv, err := devserver.Listen(addr, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("reference server on %s: %w", addr, err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, srv.TrackExecutions(), nil
}

// faultDebug adds --debug to the bridge's arguments when MESHAI_FAULTS_DEBUG is set.
func faultDebug() []string {
	if os.Getenv("MESHAI_FAULTS_DEBUG") != "" {
		return []string{"--debug"}
	}
	return nil
}

func apiKeyConfig() devserver.Config { return devserver.Config{APIKey: testKey, Step: faultStep} }

// TestFaultsNone is the baseline: the same load with nothing broken.
func TestFaultsNone(t *testing.T) {
	srv, ex := faultServer(t, "127.0.0.1:0", apiKeyConfig())
	rb := startRaw(t, bridgeEnv(t), append(faultDebug(), srv.URL+"/v1/mcp")...)
	l := newFaultLoad(t, "none (baseline)", rb)
	l.initialize()
	inFlight := l.run(func() {})
	n := l.tally(runsOf(ex))
	l.report(inFlight, n, "nothing broken")
	checkTracked(t, srv, ex)
	if n.OK != n.Sent {
		t.Errorf("with nothing broken, %d of %d calls succeeded", n.OK, n.Sent)
	}
}

// TestFaultsUpstreamRestart: the server is killed and started again on the same address; its sessions are gone,
// so the bridge re-initializes and resends what was in flight.
func TestFaultsUpstreamRestart(t *testing.T) {
	srv, ex1 := faultServer(t, "127.0.0.1:0", apiKeyConfig())
	var srv2 *devserver.Running
	var ex2 *devserver.Executions
	var restartErr error
	rb := startRaw(t, bridgeEnv(t), append(faultDebug(), srv.URL+"/v1/mcp")...)
	l := newFaultLoad(t, "upstream restart", rb)
	l.initialize()
	inFlight := l.run(func() {
		addr := srv.Addr
		srv.Close()
		time.Sleep(time.Second)
		srv2, ex2, restartErr = listenTracked(t, addr, apiKeyConfig())
	})
	if restartErr != nil {
		t.Fatalf("restart on the same address: %v", restartErr)
	}
	n := l.tally(runsOf(ex1, ex2))
	reinit := strings.Count(rb.stderr.String(), "re-initializing")
	l.report(inFlight, n, fmt.Sprintf("down 1 s; %d session re-initialization(s)", reinit))
	checkTracked(t, srv, ex1)
	checkTracked(t, srv2, ex2)
	if reinit < 1 {
		t.Errorf("the bridge never re-initialized the lost session:\n%s", rb.stderr.String())
	}
}

// TestFaultsSessionDropped: the server forgets every session while calls run; their calls end with the
// server's error, and the requests that follow meet 404, which the bridge answers by re-initializing.
func TestFaultsSessionDropped(t *testing.T) {
	srv, ex := faultServer(t, "127.0.0.1:0", apiKeyConfig())
	rb := startRaw(t, bridgeEnv(t), append(faultDebug(), srv.URL+"/v1/mcp")...)
	l := newFaultLoad(t, "session dropped", rb)
	l.initialize()
	inFlight := l.run(srv.DropSessions)
	n := l.tally(runsOf(ex))
	reinit := strings.Count(rb.stderr.String(), "re-initializing")
	l.report(inFlight, n, fmt.Sprintf("%d session re-initialization(s)", reinit))
	checkTracked(t, srv, ex)
	if reinit < 1 {
		t.Errorf("the bridge never re-initialized the lost session:\n%s", rb.stderr.String())
	}
}

// cutProxy is a TCP proxy to target that can cut the network: drop every connection and refuse new ones.
type cutProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
	accepted     int
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve(ln)
	t.Cleanup(func() { p.down() })
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.accepted++
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(c, up)
		go pipe(up, c)
	}
}

// down closes the listener (new connections are refused) and every connection.
func (p *cutProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// cut takes the network down for d, then listens again on the same address.
func (p *cutProxy) cut(d time.Duration) error {
	p.down()
	time.Sleep(d)
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
	return nil
}

// TestFaultsNetworkCut: every connection between bridge and server drops and none can be made for 5 s.
func TestFaultsNetworkCut(t *testing.T) {
	srv, ex := faultServer(t, "127.0.0.1:0", apiKeyConfig())
	proxy := startCutProxy(t, srv.Addr)
	rb := startRaw(t, bridgeEnv(t), append(faultDebug(), "http://"+proxy.addr+"/v1/mcp")...)
	l := newFaultLoad(t, "network cut 5 s", rb)
	l.initialize()
	var cutErr error
	inFlight := l.run(func() { cutErr = proxy.cut(5 * time.Second) })
	if cutErr != nil {
		t.Fatalf("the proxy could not listen again: %v", cutErr)
	}
	n := l.tally(runsOf(ex))
	resumes := strings.Count(rb.stderr.String(), "resuming")
	st := srv.Stats()
	l.report(inFlight, n, fmt.Sprintf("%d stream resume(s); server: %d runs completed, %d cancelled", resumes, st.Completed, st.Cancelled))
	checkTracked(t, srv, ex)
}

// oauthFaultServer is an auto-approving OAuth server whose access tokens outlive the test.
func oauthFaultServer(t *testing.T) (*devserver.Running, *devserver.Executions) {
	return faultServer(t, "127.0.0.1:0", devserver.Config{OAuth: true, AutoApprove: true, AccessTokenTTL: time.Hour, Step: faultStep})
}

// TestFaultsAccessTokenRevoked: the server revokes every access token but keeps the refresh tokens; the bridge
// refreshes once and carries on, with no new sign-in.
func TestFaultsAccessTokenRevoked(t *testing.T) {
	srv, ex := oauthFaultServer(t)
	dir := t.TempDir()
	// initialize waits for the first sign-in (--sign-in-wait): the load needs the server's tools, not the sign-in tool.
	rb := startRaw(t, signInEnv(dir), append(faultDebug(), "--browser-command", fetchBin, "--sign-in-wait", hangGuard.String(), srv.URL+"/v1/mcp")...)
	l := newFaultLoad(t, "access token revoked", rb)
	l.initialize()
	before := srv.Stats()
	revoked := 0
	inFlight := l.run(func() { revoked = srv.RevokeAccessTokens() })
	n := l.tally(runsOf(ex))
	st := srv.Stats()
	l.report(inFlight, n, fmt.Sprintf("%d token(s) revoked; %d refresh(es), %d reused refresh tokens, %d authorization(s) in all",
		revoked, st.Refreshes-before.Refreshes, st.RefreshReuses, st.Authorizations))
	checkTracked(t, srv, ex)
	if revoked == 0 {
		t.Error("no access token was revoked; the test proves nothing")
	}
	if st.Authorizations != 1 || st.RefreshReuses != 0 || st.Refreshes-before.Refreshes != 1 {
		t.Errorf("after the access token was revoked: %d authorizations, %d refreshes, %d reused refresh tokens; want 1, 1, 0\n%s",
			st.Authorizations, st.Refreshes-before.Refreshes, st.RefreshReuses, rb.stderr.String())
	}
}

// TestFaultsGrantRevoked: the server revokes the grant, refresh token included. The bridge cannot recover on its
// own: it must tell the user to sign in (with --no-browser the URL is on stderr) and must not loop on the token
// or authorization endpoints.
func TestFaultsGrantRevoked(t *testing.T) {
	srv, ex := oauthFaultServer(t)
	dir := t.TempDir()
	mcpURL := srv.URL + "/v1/mcp"
	login := exec.Command(bridgeBin, "login", "--browser-command", fetchBin, mcpURL)
	login.Env = signInEnv(dir)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	rb := startRaw(t, signInEnv(dir), append(faultDebug(), "--no-browser", "--auth-timeout", "1s", mcpURL)...)
	l := newFaultLoad(t, "grant revoked", rb)
	l.initialize()
	before := srv.Stats()
	revoked := 0
	inFlight := l.run(func() { revoked = srv.RevokeGrants() })
	n := l.tally(runsOf(ex))
	after := srv.Stats()
	prompts := strings.Count(rb.stderr.String(), "/oauth/authorize?")
	// Nothing keeps knocking once the requests are answered.
	time.Sleep(3 * time.Second)
	quiet := srv.Stats()
	quietPrompts := strings.Count(rb.stderr.String(), "/oauth/authorize?")
	l.report(inFlight, n, fmt.Sprintf("%d grant(s) revoked; %d refresh attempt(s), %d authorization request(s), %d sign-in prompt(s) on stderr",
		revoked, after.Refreshes-before.Refreshes, after.Authorizations-before.Authorizations, prompts))
	checkTracked(t, srv, ex)
	if revoked == 0 {
		t.Error("no grant was revoked; the test proves nothing")
	}
	if prompts == 0 {
		t.Errorf("the bridge never showed the sign-in URL on stderr:\n%s", rb.stderr.String())
	}
	signIn := 0
	for m, k := range n.Errors {
		if strings.Contains(strings.ToLower(m), "sign") {
			signIn += k
		}
	}
	if signIn == 0 {
		t.Errorf("no error tells the user to sign in: %v", n.Errors)
	}
	if quiet.Refreshes != after.Refreshes || quiet.Authorizations != after.Authorizations || quietPrompts != prompts {
		t.Errorf("the bridge kept going after every request was answered: refreshes %d → %d, authorizations %d → %d, prompts %d → %d",
			after.Refreshes, quiet.Refreshes, after.Authorizations, quiet.Authorizations, prompts, quietPrompts)
	}
	// One burst of requests meeting one revoked grant needs one refresh attempt and one sign-in, whose outcome
	// every waiting request shares.
	if refreshes := after.Refreshes - before.Refreshes; prompts > 1 || refreshes > 1 {
		t.Fatalf("BUG sign-in storm (auth.SignIn.Reauthorize/Login, auth.Source.token): %d requests waiting on one revoked "+
			"grant made %d refresh attempts with the same dead refresh token and started %d sign-ins one after another, "+
			"each waiting --auth-timeout for the browser (with the default 5m the last request is answered after %d min); "+
			"want 1 refresh attempt and 1 sign-in shared by all", n.Sent-n.OK, refreshes, prompts, 5*prompts)
	}
}
