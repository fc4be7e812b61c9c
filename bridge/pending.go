package bridge

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// Session states of a relay with a SignIn.
const (
	stateNew       = iota // no initialize seen yet
	stateWaiting          // the client's initialize is upstream; the client waits for its answer
	stateDirect           // the server answered the client's initialize itself: a plain relay from here on
	statePending          // the relay answered initialize itself; the server is not connected yet
	stateConnected        // connected after a pending start: the relay stands in for capabilities the server lacks
)

// pending is the relay's side of a session that had to start before the user signed in.
type pending struct {
	mu          sync.Mutex
	state       int
	initReq     jsonrpc.Message // the client's initialize
	initialized []byte          // the client's notifications/initialized, held until the server is connected
	logLevel    json.RawMessage // the params of the client's last logging/setLevel, replayed on connect
	last        failure         // why the last attempt to connect failed
	retry       *time.Timer     // connects again when the rate limit of the last failure is over
	attempt     int             // attempts to connect after the first
	inFlight    bool            // an initialize is upstream
	shownURL    string          // the sign-in URL last shown to the client
	shownFail   string          // the sign-in failure last shown to the client
	offered     bool            // connected, but the sign-in was lost: the sign-in tool is offered again
	again       bool            // a new attempt was asked for while one was upstream: start it when that one fails
	upstream    capabilities    // what the server offers, once connected
	answered    chan struct{}   // closed when the client's initialize is answered, either way
	changed     chan struct{}   // closed at every change of the above, for waiters
}

// bump wakes whoever waits for a change of p; p.mu is held.
func (p *pending) bump() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// capabilities are the server capabilities the relay cares about.
type capabilities struct {
	Tools     json.RawMessage `json:"tools"`
	Prompts   json.RawMessage `json:"prompts"`
	Resources *struct {
		Subscribe bool `json:"subscribe"`
	} `json:"resources"`
	Logging     json.RawMessage `json:"logging"`
	Completions json.RawMessage `json:"completions"`
}

// knownVersions are the protocol revisions the relay may promise on the server's behalf, newest first.
var knownVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// promised are the capabilities of the relay's own initialize answer: every one the relay can honour whatever
// the server turns out to offer, answering locally for what it lacks, so none ever has to be withdrawn.
const promised = `{"tools":{"listChanged":true},"prompts":{"listChanged":true},"resources":{"listChanged":true,"subscribe":true},"logging":{},"completions":{}}`

// rateLimitHold is the longest rate limit of the MCP endpoint that the client's initialize waits out for the
// server's own answer; during a longer one the relay answers it at SignInWait, naming the rate limit.
const rateLimitHold = 5 * time.Second

// initialize relays the client's initialize. When a sign-in holds it up for longer than SignInWait, or fails, or
// the server refuses it, the relay answers it itself and connects in the background; either way it returns once
// the client has its answer.
func (r *Relay) initialize(m jsonrpc.Message) {
	p := r.pending
	p.mu.Lock()
	if p.state != stateNew {
		p.mu.Unlock()
		r.refuse(m.ID, jsonrpc.CodeInvalidRequest, "Invalid Request: the session is already initialized")
		return
	}
	p.state, p.initReq, p.inFlight, p.answered = stateWaiting, m, true, make(chan struct{})
	p.mu.Unlock()
	r.watch(m.ID, r.initAnswer)
	r.sendAsync(m)
	wait := time.NewTimer(r.SignInWait)
	defer wait.Stop()
	waited := false
	for {
		st, changed := r.SignIn.Watch()
		// A sign-in, or a long rate limit the initialize waits out, holds it up: the client gets its answer, with the
		// cause. A short rate limit is no reason: the handshake stays the server's own, a little later.
		if st.Phase == SignInFailed || (waited && (st.Phase == SigningIn || time.Until(st.ServerWait) > rateLimitHold)) {
			if r.standInForInitialize(failure{}) {
				return
			}
		}
		select {
		case <-p.answered:
			return
		case <-r.stop:
			return
		case <-changed:
		case <-wait.C: // and again each SignInWait: a rate limit's wait starts with no change to wake the relay
			waited = true
			wait.Reset(r.SignInWait)
		}
	}
}

// standInForInitialize answers the client's initialize for the server, if the client still waits for it, and
// reports whether it did. why is the server's refusal, if that is the reason.
func (r *Relay) standInForInitialize(why failure) bool {
	p := r.pending
	p.mu.Lock()
	if p.state != stateWaiting {
		p.mu.Unlock()
		return false
	}
	p.state = statePending
	if why.failed() {
		p.last = why
		r.retryWhenOver(why)
	}
	close(p.answered)
	p.bump()
	init := p.initReq
	p.mu.Unlock()
	if why.failed() {
		r.Log.Warn("the server refused the client's initialize; answering it for the server until the cause is gone", "err", why.text)
	} else {
		r.Log.Info("signing in: answering initialize for the server, which connects when the sign-in is done")
	}
	r.answer(init.ID, r.ownInitialize(init))
	st, _ := r.SignIn.Watch()
	r.signInChanged(st)
	return true
}

// initAnswer handles the server's answer to an initialize: the client's own while it waits, else the relay's.
func (r *Relay) initAnswer(raw []byte) {
	caps, version, refusal := readInitAnswer(raw)
	why := failure{}
	if refusal != "" {
		why = readFailure(raw)
	}
	p := r.pending
	p.mu.Lock()
	p.inFlight = false
	if p.state == stateWaiting && refusal == "" {
		p.state = stateDirect
		close(p.answered)
		p.bump()
		id := p.initReq.ID
		p.mu.Unlock()
		r.answer(id, raw)
		return
	}
	if p.state == stateWaiting { // refused: the handshake holds anyway, and the sign-in tool says why
		p.mu.Unlock()
		r.standInForInitialize(why)
		return
	}
	if refusal != "" && p.again { // the user asked again while this attempt was under way
		p.again = false
		p.mu.Unlock()
		r.Log.Info("connecting failed; trying again as asked", "err", refusal)
		r.reconnect()
		return
	}
	if refusal != "" {
		// One notification per cause: a rate limit retried by itself, or a server down, says so once.
		// A failed sign-in is told by signInChanged, with its own words.
		st, _ := r.SignIn.Watch()
		tell := st.Phase != SignInFailed &&
			(!p.last.failed() || p.last.rateLimited(time.Now()) != why.rateLimited(time.Now()) || p.last.notMCP() != why.notMCP())
		p.last = why
		r.retryWhenOver(why)
		p.bump()
		p.mu.Unlock()
		r.Log.Warn("connecting failed", "err", refusal)
		if tell {
			r.notifyClient("error", r.connectText(why))
		}
		return
	}
	p.state, p.upstream, p.last, p.offered, p.again = stateConnected, caps, failure{}, false, false
	r.retryWhenOver(failure{})
	p.bump()
	note, level := p.initialized, p.logLevel
	p.mu.Unlock()
	if version != r.promisedVersion() {
		r.Log.Warn("the server chose another protocol version than the one promised to the client", "server", version, "client", r.promisedVersion())
	}
	r.Log.Info("connected after sign-in")
	go r.connected(note, level)
}

// readInitAnswer reads an initialize answer: the server's capabilities and version, or why it refused.
func readInitAnswer(raw []byte) (caps capabilities, version, refusal string) {
	var ans struct {
		Result *struct {
			ProtocolVersion string       `json:"protocolVersion"`
			Capabilities    capabilities `json:"capabilities"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	switch err := json.Unmarshal(raw, &ans); {
	case err == nil && ans.Result != nil:
		return ans.Result.Capabilities, ans.Result.ProtocolVersion, ""
	case ans.Error != nil && ans.Error.Message != "":
		return caps, "", strings.TrimRight(ans.Error.Message, ". ")
	}
	return caps, "", "the server did not accept the connection"
}

// retryWhenOver connects again once the rate limit of why is over, as the server asked; p.mu is held.
func (r *Relay) retryWhenOver(why failure) {
	p := r.pending
	if p.retry != nil {
		p.retry.Stop()
		p.retry = nil
	}
	if !why.rateLimited(time.Now()) {
		return
	}
	p.retry = time.AfterFunc(time.Until(why.until), func() {
		select {
		case <-r.stop:
		default:
			r.connectAgain()
		}
	})
}

// connected completes a pending start: the server gets the client's notifications/initialized and log level,
// and the client learns that the lists changed.
func (r *Relay) connected(initialized []byte, logLevel json.RawMessage) {
	if initialized != nil {
		if m, err := jsonrpc.Parse(initialized); err == nil {
			r.Up.Send(m)
		}
	}
	p := r.pending
	p.mu.Lock()
	caps := p.upstream
	p.mu.Unlock()
	if logLevel != nil && caps.Logging != nil {
		id := json.RawMessage(`"meshai-mcp-server/set-level"`)
		r.watch(id, func([]byte) {})
		req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "logging/setLevel", "params": logLevel})
		if m, err := jsonrpc.Parse(req); err == nil {
			r.Up.Send(m)
		}
	}
	r.notifyClient("notice", fmt.Sprintf("Signed in to %s: its tools are available now.", r.ServerName))
	r.tell([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	if caps.Prompts != nil {
		r.tell([]byte(`{"jsonrpc":"2.0","method":"notifications/prompts/list_changed"}`))
	}
	if caps.Resources != nil {
		r.tell([]byte(`{"jsonrpc":"2.0","method":"notifications/resources/list_changed"}`))
	}
}

// followSignIn tells the client about every change of the sign-in, for as long as the relay runs.
func (r *Relay) followSignIn() {
	for {
		st, changed := r.SignIn.Watch()
		r.signInChanged(st)
		select {
		case <-r.stop:
			return
		case <-changed:
		}
	}
}

// signInChanged shows the client a new sign-in link or failure, offers the sign-in tool again when a connected
// session loses its sign-in (and withdraws it once signed in), and connects a pending session as soon as the
// user is signed in, even by another bridge or `meshai-mcp-server login`.
func (r *Relay) signInChanged(st SignInState) {
	p := r.pending
	p.mu.Lock()
	state := p.state
	if state != statePending && state != stateDirect && state != stateConnected {
		p.mu.Unlock() // the client has no answer to its initialize yet: nothing to tell it
		return
	}
	// A sign-in that waits out a rate limit after the browser step (redeeming the code) has no link left to open.
	showURL := st.Phase == SigningIn && st.URL != "" && st.URL != p.shownURL && !st.Wait.After(time.Now())
	if showURL {
		p.shownURL = st.URL
	}
	showFail := st.Phase == SignInFailed && st.Problem != p.shownFail
	p.shownFail = ""
	if st.Phase == SignInFailed {
		p.shownFail = st.Problem
	}
	offer := state != statePending && (st.Phase == SigningIn || st.Phase == SignInFailed)
	toggled := offer != p.offered
	p.offered = offer
	connect := state == statePending && st.Phase == SignedIn && !p.inFlight
	if showURL || showFail || toggled {
		p.bump()
	}
	p.mu.Unlock()
	if showURL {
		r.notifyClient("warning", fmt.Sprintf("Sign in to %s to use its tools: open %s", r.ServerName, st.URL))
	}
	if showFail {
		r.notifyClient("error", fmt.Sprintf("Signing in to %s failed: %s.%s", r.ServerName, st.Problem, tryAgain(st.Problem)))
	}
	if toggled {
		r.tell([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	}
	if connect {
		r.reconnect()
	}
}

// reconnect sends the client's initialize again, with an id of the relay's own, when a pending session has none
// upstream; when the session is connected it sends a ping, whose refusal starts a sign-in.
func (r *Relay) reconnect() {
	p := r.pending
	p.mu.Lock()
	switch {
	case p.state == statePending && p.inFlight:
		p.again = true
		p.mu.Unlock()
		return
	case p.state == statePending:
	case p.state == stateDirect || p.state == stateConnected:
		p.attempt++
		id := json.RawMessage(fmt.Sprintf(`"meshai-mcp-server/ping/%d"`, p.attempt))
		p.mu.Unlock()
		r.watch(id, func([]byte) {})
		if m, err := jsonrpc.Parse([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"method":"ping"}`)); err == nil {
			r.sendAsync(m)
		}
		return
	default:
		p.mu.Unlock()
		return
	}
	p.attempt++
	attempt := p.attempt
	p.inFlight = true
	p.bump()
	id := json.RawMessage(fmt.Sprintf(`"meshai-mcp-server/sign-in/%d"`, attempt))
	m, err := jsonrpc.WithID(p.initReq.Raw, id)
	p.mu.Unlock()
	if err != nil {
		r.Log.Warn("cannot replay the client's initialize", "err", err)
		return
	}
	r.Log.Info("connecting", "attempt", attempt)
	r.watch(id, r.initAnswer)
	r.sendAsync(m)
}

// ownInitialize is the relay's answer to the client's initialize while the server cannot be reached yet: its
// title and instructions say why.
func (r *Relay) ownInitialize(m jsonrpc.Message) []byte {
	st, _ := r.SignIn.Watch()
	p := r.pending
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	title, instructions := r.standInWords(st, last)
	res, _ := json.Marshal(map[string]any{
		"protocolVersion": r.promisedVersion(),
		"capabilities":    json.RawMessage(promised),
		"serverInfo":      map[string]string{"name": "meshai-mcp-server", "title": title, "version": r.Version},
		"instructions":    instructions,
	})
	return result(m.ID, res)
}

// promisedVersion is the protocol version the client asked for when the relay knows it, else the newest it knows.
func (r *Relay) promisedVersion() string {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	json.Unmarshal(r.pending.initReq.Params, &p)
	for _, v := range knownVersions {
		if v == p.ProtocolVersion {
			return v
		}
	}
	return knownVersions[0]
}

// notifyClient sends the client a log message (notifications/message).
func (r *Relay) notifyClient(level, text string) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "notifications/message",
		"params": map[string]any{"level": level, "logger": "meshai-mcp-server", "data": text}})
	r.tell(b)
}

// result builds a JSON-RPC success response.
func result(id json.RawMessage, res json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": res})
	return b
}
