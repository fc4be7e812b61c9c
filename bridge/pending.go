package bridge

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// SignIn tells the relay about a sign-in under way; *auth.SignIn implements it.
type SignIn interface {
	// Progress reports whether a sign-in is under way and, once known, the URL the user must open.
	Progress() (active bool, authURL string)
}

// SignInTool is the tool the relay offers while the user has not signed in yet.
const SignInTool = "meshai_sign_in"

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
	lastErr     string          // why the last attempt to connect failed
	attempt     int             // attempts to connect after the first
	inFlight    bool            // an initialize is upstream
	shownURL    string          // the sign-in URL last shown to the client
	upstream    capabilities    // what the server offers, once connected
	answered    chan struct{}   // closed when the client's initialize is answered, either way
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

// initialize relays the client's initialize. When a sign-in holds it up for longer than SignInWait, the relay
// answers it itself and connects in the background; either way it returns once the client has its answer.
func (r *Relay) initialize(m jsonrpc.Message) {
	p := r.pending
	p.mu.Lock()
	if p.state != stateNew {
		p.mu.Unlock()
		r.Out.Write(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeInvalidRequest, "Invalid Request: the session is already initialized", nil))
		return
	}
	p.state, p.initReq, p.inFlight, p.answered = stateWaiting, m, true, make(chan struct{})
	p.mu.Unlock()
	r.watch(m.ID, r.initAnswer)
	go r.Up.Send(m)
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.answered:
			return
		case <-r.stop:
			return
		case <-tick.C:
		}
		if active, _ := r.SignIn.Progress(); !active || time.Since(start) < r.SignInWait {
			continue
		}
		p.mu.Lock()
		if p.state != stateWaiting {
			p.mu.Unlock()
			continue
		}
		p.state = statePending
		close(p.answered)
		p.mu.Unlock()
		r.Log.Info("sign-in still under way: answering initialize for the server, which connects when it is done")
		r.Out.Write(r.ownInitialize(m))
		go r.followSignIn()
		return
	}
}

// initAnswer handles the server's answer to an initialize: the client's own while it waits, else the relay's.
func (r *Relay) initAnswer(raw []byte) {
	p := r.pending
	p.mu.Lock()
	p.inFlight = false
	if p.state == stateWaiting {
		p.state = stateDirect
		close(p.answered)
		p.mu.Unlock()
		r.Out.Write(raw)
		return
	}
	var ans struct {
		Result *struct {
			ProtocolVersion string       `json:"protocolVersion"`
			Capabilities    capabilities `json:"capabilities"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Result == nil {
		msg := "the server did not accept the connection"
		if ans.Error != nil {
			msg = ans.Error.Message
		}
		p.lastErr = msg
		p.mu.Unlock()
		r.Log.Warn("connecting after sign-in failed", "err", msg)
		r.notifyClient("error", fmt.Sprintf("Could not connect to %s: %s. Call the %s tool to try again.", r.ServerName, msg, SignInTool))
		return
	}
	p.state, p.upstream, p.lastErr = stateConnected, ans.Result.Capabilities, ""
	note, level := p.initialized, p.logLevel
	p.mu.Unlock()
	if v := ans.Result.ProtocolVersion; v != r.promisedVersion() {
		r.Log.Warn("the server chose another protocol version than the one promised to the client", "server", v, "client", r.promisedVersion())
	}
	r.Log.Info("connected after sign-in")
	go r.connected(note, level)
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
	r.Out.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	if caps.Prompts != nil {
		r.Out.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/prompts/list_changed"}`))
	}
	if caps.Resources != nil {
		r.Out.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/resources/list_changed"}`))
	}
}

// followSignIn shows the client the sign-in URL as soon as it is known, and again whenever it changes.
func (r *Relay) followSignIn() {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		p := r.pending
		p.mu.Lock()
		done := p.state != statePending
		p.mu.Unlock()
		if done {
			return
		}
		if _, u := r.SignIn.Progress(); u != "" {
			p.mu.Lock()
			fresh := u != p.shownURL
			p.shownURL = u
			p.mu.Unlock()
			if fresh {
				r.notifyClient("warning", fmt.Sprintf("Sign in to %s to use its tools: open %s", r.ServerName, u))
			}
		}
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
	}
}

// retry starts another attempt to connect after the last one failed (the sign-in timed out or was refused).
func (r *Relay) retry() {
	p := r.pending
	p.mu.Lock()
	if p.inFlight || p.state != statePending {
		p.mu.Unlock()
		return
	}
	p.attempt++
	attempt := p.attempt
	p.inFlight, p.lastErr = true, ""
	id := json.RawMessage(fmt.Sprintf(`"meshai-mcp-server/sign-in/%d"`, attempt))
	raw, err := withID(p.initReq.Raw, id)
	p.mu.Unlock()
	if err != nil {
		return
	}
	m, err := jsonrpc.Parse(raw)
	if err != nil {
		return
	}
	r.Log.Info("trying to connect again", "attempt", attempt)
	r.watch(id, r.initAnswer)
	go r.Up.Send(m)
}

// withID returns the request raw with its id replaced.
func withID(raw []byte, id json.RawMessage) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	fields["id"] = id
	return json.Marshal(fields)
}

// ownInitialize is the relay's answer to the client's initialize while the server cannot be reached yet.
func (r *Relay) ownInitialize(m jsonrpc.Message) []byte {
	instructions := fmt.Sprintf("Signing in to %s is not finished. Call the %s tool for the sign-in link; the server's tools appear as soon as the sign-in completes.",
		r.ServerName, SignInTool)
	res, _ := json.Marshal(map[string]any{
		"protocolVersion": r.promisedVersion(),
		"capabilities":    json.RawMessage(promised),
		"serverInfo":      map[string]string{"name": "meshai-mcp-server", "title": r.ServerName + " (signing in)", "version": r.Version},
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
	r.Out.Write(b)
}

// result builds a JSON-RPC success response.
func result(id json.RawMessage, res json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": res})
	return b
}
