package bridge

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// local answers m in the relay when it must not, or cannot yet, go to the server, and reports whether it did.
func (r *Relay) local(m jsonrpc.Message) bool {
	if m.Kind == jsonrpc.KindRequest && m.Method == "tools/call" {
		name := toolName(m.Params)
		if r.SignIn != nil && name == SignInTool {
			go r.callSignInTool(m.ID)
			return true
		}
		if r.ignored(name) {
			r.Log.Info("refused a call of an ignored tool", "tool", name)
			r.refuse(m.ID, jsonrpc.CodeInvalidParams, fmt.Sprintf("Tool %q is not available (%s)", name, r.ignoredWhy()))
			return true
		}
	}
	if r.SignIn == nil {
		return false
	}
	p := r.pending
	p.mu.Lock()
	state, caps, offered := p.state, p.upstream, p.offered
	p.mu.Unlock()
	switch {
	case state == statePending:
		r.whilePending(m)
		return true
	case offered && m.Kind == jsonrpc.KindRequest && m.Method == "tools/list":
		// The sign-in was lost: the server's tools wait for it, and the way to it is the sign-in tool.
		r.reply(m.ID, r.signInToolList())
		return true
	case state == stateConnected:
		return r.standIn(m, caps)
	}
	return false
}

// connectAgain starts a new attempt to connect when the last one failed and none is under way: once the cause is
// gone (a rate limit over, a server back), the client's next request brings the tools back. A failed sign-in
// stays failed through this (the sign-in answers with its failure at once); only the sign-in tool retries it.
func (r *Relay) connectAgain() {
	p := r.pending
	p.mu.Lock()
	// During a rate limit the server asked for, the relay waits (retryWhenOver): asking again prolongs it.
	again := p.state == statePending && p.last.failed() && !p.last.rateLimited(time.Now()) && !p.inFlight
	p.mu.Unlock()
	if again {
		r.reconnect()
	}
}

// signInToolList is a tools/list result holding only the sign-in tool.
func (r *Relay) signInToolList() json.RawMessage {
	tools, _ := json.Marshal(map[string]any{"tools": []json.RawMessage{r.signInToolDef()}})
	return tools
}

// whilePending answers everything the client sends before the server is connected.
func (r *Relay) whilePending(m jsonrpc.Message) {
	switch m.Kind {
	case jsonrpc.KindRequest:
	case jsonrpc.KindNotification:
		if m.Method == "notifications/initialized" {
			p := r.pending
			p.mu.Lock()
			p.initialized = m.Raw
			p.mu.Unlock()
		}
		return
	case jsonrpc.KindBatch:
		for _, id := range m.IDs(jsonrpc.KindRequest) {
			r.refuse(id, jsonrpc.CodeUpstream, r.notSignedIn())
		}
		return
	default:
		return
	}
	defer r.connectAgain() // after the answer: list_changed must not overtake it
	switch m.Method {
	case "tools/list":
		r.reply(m.ID, r.signInToolList())
	case "tools/call":
		r.reply(m.ID, toolText(r.notSignedIn(), true))
	case "logging/setLevel":
		p := r.pending
		p.mu.Lock()
		p.logLevel = m.Params
		p.mu.Unlock()
		r.reply(m.ID, json.RawMessage(`{}`))
	default:
		if res, ok := emptyAnswer(m.Method); ok {
			r.reply(m.ID, res)
			return
		}
		r.refuse(m.ID, jsonrpc.CodeUpstream, r.notSignedIn())
	}
}

// standIn answers, after a pending start, the requests of capabilities promised to the client that the server
// turned out not to have, and reports whether it did.
func (r *Relay) standIn(m jsonrpc.Message, caps capabilities) bool {
	if m.Kind != jsonrpc.KindRequest {
		return false
	}
	var missing bool
	switch m.Method {
	case "tools/list":
		missing = caps.Tools == nil
	case "prompts/list", "prompts/get":
		missing = caps.Prompts == nil
	case "resources/list", "resources/templates/list", "resources/read":
		missing = caps.Resources == nil
	case "resources/subscribe", "resources/unsubscribe":
		missing = caps.Resources == nil || !caps.Resources.Subscribe
	case "logging/setLevel":
		missing = caps.Logging == nil
	case "completion/complete":
		missing = caps.Completions == nil
	}
	if !missing {
		return false
	}
	if res, ok := emptyAnswer(m.Method); ok {
		r.reply(m.ID, res)
	} else {
		r.refuse(m.ID, jsonrpc.CodeInvalidParams, fmt.Sprintf("%s offers nothing for %s", r.ServerName, m.Method))
	}
	return true
}

// emptyAnswer is the answer to a request of a capability with nothing in it.
func emptyAnswer(method string) (json.RawMessage, bool) {
	switch method {
	case "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe":
		return json.RawMessage(`{}`), true
	case "tools/list":
		return json.RawMessage(`{"tools":[]}`), true
	case "prompts/list":
		return json.RawMessage(`{"prompts":[]}`), true
	case "resources/list":
		return json.RawMessage(`{"resources":[]}`), true
	case "resources/templates/list":
		return json.RawMessage(`{"resourceTemplates":[]}`), true
	case "completion/complete":
		return json.RawMessage(`{"completion":{"values":[]}}`), true
	}
	return nil, false
}

// callSignInTool answers a call of the sign-in tool with where the sign-in stands: the link to open, what failed
// and why, or that the tools are available. After a failure it starts a new attempt and says how that one goes.
func (r *Relay) callSignInTool(id json.RawMessage) {
	p := r.pending
	p.mu.Lock()
	state, last := p.state, p.last
	p.mu.Unlock()
	st, _ := r.SignIn.Watch()
	var text string
	switch {
	case state == statePending && st.Phase != SignInFailed && last.rateLimited(time.Now()):
		// Asking a rate-limiting server again only makes its limit longer: the relay connects when it is over.
		text = r.rateLimitText(last.until)
	case st.Phase == SignInFailed || (state == statePending && last.failed()):
		why := last.text
		if st.Phase == SignInFailed {
			why = st.Problem
		}
		r.SignIn.Retry()
		if state == statePending {
			p.mu.Lock()
			p.last = failure{}
			r.retryWhenOver(failure{})
			p.bump()
			p.mu.Unlock()
		}
		r.reconnect()
		text = fmt.Sprintf("The last attempt failed: %s.\nTrying again: ", why) + r.outcome(5*time.Second)
	case st.Phase != SigningIn && (state == stateDirect || state == stateConnected):
		text = fmt.Sprintf("You are signed in to %s; its tools are available.", r.ServerName)
	default:
		text = r.outcome(3 * time.Second)
	}
	r.reply(id, toolText(text, false))
}

// outcome waits up to wait for the attempt under way to show where it goes — a link to open, the tools
// available, or a failure — and says so.
func (r *Relay) outcome(wait time.Duration) string {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	p := r.pending
	for {
		st, authChanged := r.SignIn.Watch()
		p.mu.Lock()
		state, last, inFlight, changed := p.state, p.last, p.inFlight, p.changed
		p.mu.Unlock()
		switch {
		case state == statePending && st.Phase == SigningIn && st.Wait.After(time.Now()):
			return r.signInWaitText(st.Wait)
		case state == statePending && inFlight && !last.failed() && st.ServerWait.After(time.Now()):
			return r.rateLimitText(st.ServerWait)
		case st.Phase == SigningIn && st.URL != "":
			return fmt.Sprintf("Open this link in a browser to sign in to %s:\n%s\n%sThe server's tools appear here as soon as the sign-in completes.", r.ServerName, st.URL, noteLine(st.Note))
		case st.Phase == SignInFailed:
			return fmt.Sprintf("Signing in to %s failed: %s.%s", r.ServerName, st.Problem, tryAgain(st.Problem))
		case state == statePending && !inFlight && last.failed():
			return r.connectText(last)
		case state == stateConnected || (state == stateDirect && st.Phase == SignedIn):
			return fmt.Sprintf("Connected to %s: its tools are available.", r.ServerName)
		}
		select {
		case <-authChanged:
		case <-changed:
		case <-r.stop:
			return "The bridge is stopping."
		case <-timer.C:
			st, _ = r.SignIn.Watch() // a rate limit's wait starts with no change to wake the relay
			if w := r.waiting(st); w != "" && state == statePending {
				return w
			}
			if st.Phase == SigningIn && st.Elsewhere {
				return fmt.Sprintf("A sign-in to %s is under way in another window of meshai-mcp-server (another client, or another chat): finish it there, and the tools appear here too.", r.ServerName)
			}
			if st.Phase == SigningIn {
				return fmt.Sprintf("Preparing the sign-in to %s (finding its authorization server)… Call %s again in a moment for the link.", r.ServerName, SignInTool)
			}
			return fmt.Sprintf("Connecting to %s… Call %s again in a moment to see where it stands.", r.ServerName, SignInTool)
		}
	}
}

// notSignedIn is the answer to requests the server must answer, while it is not connected.
func (r *Relay) notSignedIn() string {
	st, _ := r.SignIn.Watch()
	p := r.pending
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	switch {
	case st.Phase == SigningIn && st.Wait.After(time.Now()): // the link, if any, is done with: the code is being redeemed
		return r.signInWaitText(st.Wait)
	case st.Phase == SigningIn && st.URL != "":
		return fmt.Sprintf("Not signed in to %s yet: open %s to sign in (or call the %s tool), then try again.", r.ServerName, st.URL, SignInTool)
	case st.Phase == SignInFailed:
		return fmt.Sprintf("Signing in to %s failed: %s.%s", r.ServerName, st.Problem, tryAgain(st.Problem))
	case last.failed():
		return r.connectText(last)
	case st.ServerWait.After(time.Now()):
		return r.rateLimitText(st.ServerWait)
	case st.Phase == SigningIn:
		return fmt.Sprintf("Not signed in to %s yet: call the %s tool for the sign-in link, then try again.", r.ServerName, SignInTool)
	}
	return fmt.Sprintf("Connecting to %s: it has not answered yet; try again in a moment.", r.ServerName)
}

// signInToolDef is the sign-in tool's definition in tools/list.
func (r *Relay) signInToolDef() json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"name":        SignInTool,
		"title":       "Sign in to " + r.ServerName,
		"description": fmt.Sprintf("Shows the link to sign in to %s and where the sign-in stands. The server's own tools appear once you are signed in.", r.ServerName),
		"inputSchema": map[string]any{"type": "object", "properties": map[string]any{}},
		"annotations": map[string]any{"readOnlyHint": true, "openWorldHint": false},
	})
	return b
}

// toolText is a tools/call result holding one text.
func toolText(text string, isError bool) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}, "isError": isError})
	return b
}

// toolName reads params.name of a tools/call.
func toolName(params json.RawMessage) string {
	var p struct {
		Name string `json:"name"`
	}
	json.Unmarshal(params, &p)
	return p.Name
}

// tryAgain is the closing advice for a failure: call the sign-in tool, unless the failure's text says so already.
func tryAgain(problem string) string {
	if strings.Contains(problem, SignInTool) {
		return ""
	}
	return " Call the " + SignInTool + " tool to try again."
}

// ignoredWhy says why an ignored tool is hidden: IgnoreReason, else a plain default.
func (r *Relay) ignoredWhy() string {
	if r.IgnoreReason != "" {
		return r.IgnoreReason
	}
	return "hidden by the bridge's configuration"
}

// noteLine is a sign-in's note as a line of its own, or "".
func noteLine(note string) string {
	if note == "" {
		return ""
	}
	return note + "\n"
}
