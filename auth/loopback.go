package auth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// CallbackPath is the path of the loopback redirect URI.
const CallbackPath = "/callback"

// CallbackPorts returns the loopback ports to try for a server, in order: stable for the same key, so a
// redirect URI registered once keeps matching at servers that compare ports exactly, with two neighbours for
// when the first is taken. The range 20000-39999 keeps clear of common development ports.
func CallbackPorts(key string) []int {
	sum := sha256.Sum256([]byte(key))
	base := 20000 + int(binary.BigEndian.Uint32(sum[:4])%20000)
	return []int{base, base + 1, base + 2}
}

// SignInPorts returns the loopback ports a SignIn tries for the server resource at the authorization server issuer:
// CallbackPorts of the server's credstore.ServerKey and the issuer.
func SignInPorts(resource, issuer string) []int {
	return CallbackPorts(credstore.ServerKey(resource) + "|" + issuer)
}

// Callback is what the authorization server sent back to the loopback redirect URI.
type Callback struct {
	Code string
}

// Loopback receives one authorization response on http://127.0.0.1:PORT/callback (RFC 8252 §7.3). It listens
// only on the IPv4 loopback interface, answers a single matching response, and closes.
type Loopback struct {
	ln     net.Listener
	extra  net.Listener // for host "localhost": [::1] on the same port, when it can be had
	host   string       // the redirect URI's host name
	path   string       // the redirect URI's path
	srv    *http.Server
	state  string
	issuer string     // the issuer recorded before redirecting; "" skips the check
	issReq bool       // the AS promised iss (authorization_response_iss_parameter_supported)
	mu     sync.Mutex // guards state, issuer, issReq
	once   sync.Once
	result chan callbackResult

	// The browser that brought the code is answered once the sign-in knows how it ended (Finish), so its page
	// never says "signed in" before the code was redeemed; after answerLimit it is told the sign-in is finishing.
	answerLimit time.Duration
	outcome     chan error    // the sign-in's end, from Finish
	closing     chan struct{} // closed by Close
	closeOnce   sync.Once
}

// answerWithin is how long the browser's page waits for the sign-in's outcome: answerLimit, 15 s by default.
func (l *Loopback) answerWithin() time.Duration {
	if l.answerLimit > 0 {
		return l.answerLimit
	}
	return 15 * time.Second
}

type callbackResult struct {
	cb  Callback
	err error
}

// ListenLoopback binds the first free port of ports on 127.0.0.1 (an empty list, or all taken, falls back to a
// port the OS picks). Nothing is accepted until Expect names the sign-in's state.
func ListenLoopback(ports []int) (*Loopback, error) {
	return ListenLoopbackAt("127.0.0.1", CallbackPath, ports)
}

// ListenLoopbackAt is ListenLoopback with the redirect URI's host name and path chosen (mcp-remote's --host and
// --callback-path): host is 127.0.0.1, ::1 or localhost, which listens on 127.0.0.1 and, when it can, on [::1]
// too, since browsers may resolve localhost to either.
func ListenLoopbackAt(host, path string, ports []int) (*Loopback, error) {
	host = strings.Trim(host, "[]")
	network, bind := "tcp4", "127.0.0.1"
	switch host {
	case "127.0.0.1", "localhost":
	case "::1":
		network, bind = "tcp6", "::1"
	default:
		return nil, fmt.Errorf("sign-in redirect host %q is not a loopback name: use 127.0.0.1, localhost or ::1", host)
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("sign-in redirect path %q must start with /", path)
	}
	var ln net.Listener
	var err error
	for _, p := range append(append([]int(nil), ports...), 0) {
		ln, err = net.Listen(network, net.JoinHostPort(bind, strconv.Itoa(p)))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s for the sign-in redirect: %w", bind, err)
	}
	l := &Loopback{ln: ln, host: host, path: path, result: make(chan callbackResult, 1), outcome: make(chan error, 1), closing: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc(path, l.handle)
	l.srv = &http.Server{Handler: l.hostChecked(mux), ReadHeaderTimeout: 10 * time.Second}
	go l.srv.Serve(ln)
	if host == "localhost" {
		if l.extra, err = net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(l.Port()))); err == nil {
			go l.srv.Serve(l.extra)
		}
	}
	return l, nil
}

// hostChecked answers 400 to a request whose Host is not this listener's own loopback address: 127.0.0.1:PORT,
// localhost:PORT or [::1]:PORT. A page on another site that the browser sends here under its own name (DNS
// rebinding) gets nothing, however it learned the port.
func (l *Loopback) hostChecked(next http.Handler) http.Handler {
	port := strconv.Itoa(l.Port())
	ok := map[string]bool{"127.0.0.1:" + port: true, "localhost:" + port: true, "[::1]:" + port: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok[strings.ToLower(r.Host)] {
			http.Error(w, "this sign-in listener answers only to 127.0.0.1, localhost and [::1] on its own port", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Expect arms the receiver for the response carrying state. issuer is checked against the response's iss per
// RFC 9207 ("" skips the check); issRequired rejects a response without iss.
func (l *Loopback) Expect(state, issuer string, issRequired bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state, l.issuer, l.issReq = state, issuer, issRequired
}

// RedirectURI is the redirect URI to register and send, e.g. http://127.0.0.1:PORT/callback.
func (l *Loopback) RedirectURI() string {
	return "http://" + net.JoinHostPort(l.host, strconv.Itoa(l.Port())) + l.path
}

// Port is the port bound.
func (l *Loopback) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Wait returns the authorization code, or the error the server or the user gave, or ctx's error. With an error,
// the listener is closed when Wait returns; with a code, the browser waits for its page until Finish (or Close)
// says how the sign-in ended.
func (l *Loopback) Wait(ctx context.Context) (Callback, error) {
	select {
	case r := <-l.result:
		if r.err != nil {
			l.Close()
		}
		return r.cb, r.err
	case <-ctx.Done():
		l.Close()
		return Callback{}, fmt.Errorf("no answer from the browser sign-in: %w", ctx.Err())
	}
}

// Finish tells the browser that brought the code how the sign-in ended (nil: signed in; else what failed, cleaned
// of secrets and control characters), and stops listening.
func (l *Loopback) Finish(err error) {
	select {
	case l.outcome <- err:
	default: // finished already
	}
	l.Close()
}

// Close stops listening; a browser still waiting for its page is told to see the MCP client for the outcome.
func (l *Loopback) Close() error {
	l.closeOnce.Do(func() { close(l.closing) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}

// answerCode answers the browser that brought the code, once the sign-in has ended or after answerWithin.
func (l *Loopback) answerCode(w http.ResponseWriter, r *http.Request) {
	t := time.NewTimer(l.answerWithin())
	defer t.Stop()
	select {
	case err := <-l.outcome:
		outcomePage(w, err)
	case <-l.closing:
		select {
		case err := <-l.outcome: // Finish closes right after it reports
			outcomePage(w, err)
		default:
			page(w, http.StatusOK, "Finishing the sign-in", "meshai-mcp-server stopped before it could say how the sign-in ended; your MCP client shows whether it completed. You can close this tab.")
		}
	case <-t.C:
		page(w, http.StatusOK, "Finishing the sign-in", "meshai-mcp-server is still finishing the sign-in with the server; your MCP client shows when it is done. You can close this tab.")
	case <-r.Context().Done():
	}
}

// outcomePage is the page of a sign-in that ended with err (nil: signed in).
func outcomePage(w http.ResponseWriter, err error) {
	if err == nil {
		page(w, http.StatusOK, "Signed in", "meshai-mcp-server is signed in. You can close this tab and go back to your MCP client.")
		return
	}
	page(w, http.StatusOK, "Sign-in did not complete", "meshai-mcp-server could not finish the sign-in: "+oauth.CleanText(err.Error(), 500)+
		". You can close this tab; your MCP client says what to do next.")
}

// Errors of the authorization response.
var (
	ErrStateMismatch  = errors.New("the sign-in response does not belong to this sign-in (state mismatch)")
	ErrIssuerMismatch = errors.New("the sign-in response came from another authorization server (iss mismatch)")
	ErrAccessDenied   = errors.New("the sign-in was denied in the browser")
)

// AuthorizationError is an error the authorization server sent back to the redirect URI (RFC 6749 §4.1.2.1):
// the sign-in was refused, in the browser or by the server. Its texts are the server's, cleaned and shortened,
// with the sign-in's state and any code taken out.
type AuthorizationError struct {
	Code        string // access_denied, invalid_request, server_error, ...
	Description string // the error_description; "" when none
	MissingIss  bool   // the answer lacked the iss the server promised (RFC 9207), so it was not trusted either
}

func (e *AuthorizationError) Error() string {
	msg := "the authorization server refused the sign-in: " + oauth.ErrorText(e.Code, e.Description)
	if e.MissingIss {
		msg += " (the answer also lacked the iss parameter the server promised, so it was not trusted)"
	}
	return msg
}

// Is lets errors.Is see ErrAccessDenied in an access_denied, and ErrIssuerMismatch in an answer without the
// promised iss.
func (e *AuthorizationError) Is(target error) bool {
	return target == ErrAccessDenied && e.Code == "access_denied" || target == ErrIssuerMismatch && e.MissingIss
}

func (l *Loopback) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l.mu.Lock()
	issuer, issReq := l.issuer, l.issReq
	ours := l.state != "" && len(q["state"]) == 1 && q.Get("state") == l.state
	if ours {
		l.state = "" // one response per sign-in: a replay, a second tab or a code delivered twice finds it stale
	}
	l.mu.Unlock()
	if !ours {
		// Not our response (a stale tab, a replay, or a forged request): say so, and keep waiting for ours.
		page(w, http.StatusBadRequest, "This sign-in link is stale", "Close this tab and start the sign-in again from your MCP client.")
		return
	}
	// RFC 9207 §2.4, before anything else in the response is acted on or shown. A missing iss on an error
	// response still lets the error be shown (as untrusted); a wrong iss shows nothing of another server's words.
	secrets.Add(q["code"]...)
	iss, hasIss := q["iss"]
	wrongIss := issuer != "" && hasIss && (len(iss) != 1 || iss[0] != issuer)
	missingIss := issuer != "" && !hasIss && issReq
	if e := q.Get("error"); e != "" && !wrongIss {
		desc := oauth.Redact(q.Get("error_description"), append([]string{q.Get("state")}, q["code"]...)...)
		ae := &AuthorizationError{Code: oauth.CleanText(oauth.Redact(e, q["code"]...), 64), Description: oauth.CleanText(desc, 200), MissingIss: missingIss}
		l.finish(Callback{}, ae)
		msg := "The server said: " + oauth.ErrorText(ae.Code, ae.Description) + "."
		if missingIss {
			msg += " The answer lacked the iss parameter the server promised, so it was not trusted."
		}
		page(w, http.StatusOK, "Sign-in did not complete", msg+" You can close this tab; your MCP client will offer the sign-in again.")
		return
	}
	if wrongIss || missingIss {
		l.finish(Callback{}, ErrIssuerMismatch)
		page(w, http.StatusBadRequest, "Sign-in refused", "The answer came from an unexpected authorization server, so it was not used. Close this tab and try again.")
		return
	}
	code := q.Get("code")
	if len(q["code"]) > 1 {
		l.finish(Callback{}, errors.New("the sign-in response carried more than one authorization code"))
		page(w, http.StatusBadRequest, "Sign-in refused", "The response carried more than one code, so none was used. Close this tab and try again.")
		return
	}
	if code == "" {
		l.finish(Callback{}, errors.New("the sign-in response carried no authorization code"))
		page(w, http.StatusBadRequest, "Sign-in did not complete", "The response carried no code. Close this tab and try again.")
		return
	}
	l.finish(Callback{Code: code}, nil)
	l.answerCode(w, r)
}

func (l *Loopback) finish(cb Callback, err error) {
	l.once.Do(func() { l.result <- callbackResult{cb, err} })
}

// page writes a small HTML page, escaping whatever the server sent (html.EscapeString: the page has no
// attributes, scripts or URLs for the text to land in, so html/template, a megabyte of binary, is not needed).
func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	t, b := html.EscapeString(title), html.EscapeString(body)
	_, _ = io.WriteString(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>`+t+` · meshai-mcp-server</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}</style></head>
<body><h1>`+t+`</h1><p>`+b+`</p></body></html>
`)
}
