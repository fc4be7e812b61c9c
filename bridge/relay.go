// Package bridge is the relay between a desktop client's stdio and a remote MCP connection: it frames
// newline-delimited JSON-RPC, answers what cannot be relayed with a JSON-RPC error, and shuts down cleanly.
package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
)

// Upstream is the remote side of the relay; *remote.Client implements it.
type Upstream interface {
	// Send relays one message; every request it is given is answered through the relay's Deliver.
	Send(m jsonrpc.Message)
	// Close ends the remote session.
	Close(ctx context.Context) error
}

// Relay copies messages from In to Up, and Up's messages reach Out through Deliver: each request of the client
// gets exactly one answer, whatever the server sends.
type Relay struct {
	In  io.Reader
	Out *Writer
	Up  Upstream
	Log *slog.Logger
	// MaxMessageBytes bounds one message from the client (default: half of Budget, else 128 MiB).
	MaxMessageBytes int
	// Budget bounds the bytes of messages held at once, shared with the remote side; a line is held in it while
	// it is read and routed. nil: only MaxMessageBytes bounds a line.
	Budget *membudget.Budget
	// LimitAdvice says, in the error for a line too large, how to raise the limit (the command names its flag).
	LimitAdvice string
	// Grace is how long requests still running at end of input may take to be answered (default 3 s).
	Grace time.Duration

	// SignIn, when set, lets the client's handshake complete while the user signs in (see pending.go).
	SignIn SignIn
	// SignInWait is how long initialize waits for a sign-in under way before the relay answers it (default 5 s).
	SignInWait time.Duration
	// ServerName names the server in what the relay tells the user (default "the server").
	ServerName string
	// Version is the bridge's version, for its own initialize answer.
	Version string
	// IgnoreTools are patterns of tool names hidden from tools/list and refused on tools/call.
	IgnoreTools []string
	// IgnoreReason says, in a refused call's error, why the tool is hidden (the command names its flag).
	IgnoreReason string

	once     sync.Once
	stop     chan struct{} // closed when Run returns
	pending  *pending
	watchMu  sync.Mutex
	watches  map[string]func([]byte) // handlers of the answers to some requests, by IDKey
	watching atomic.Bool             // len(watches) > 0
	inflight *inflight               // the client's requests waiting for their answer
	drops    dropLog
	ending   atomic.Bool // the input ended or the relay is stopping: the client gets only answers
	sendMu   sync.Mutex
	sends    sync.WaitGroup // sendAsync's
	closing  bool           // Run waits for sends: sendAsync starts none
}

// sendAsync sends m upstream without waiting for it; Run waits for it to return before it does.
func (r *Relay) sendAsync(m jsonrpc.Message) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	if r.closing {
		r.Log.Debug("stopping: not sent", "method", m.Method)
		return
	}
	r.sends.Go(func() { r.Up.Send(m) })
}

func (r *Relay) init() {
	r.once.Do(func() {
		if r.Log == nil {
			r.Log = slog.New(slog.DiscardHandler)
		}
		if r.MaxMessageBytes <= 0 && r.Budget != nil {
			r.MaxMessageBytes = r.Budget.MaxMessage()
		}
		if r.MaxMessageBytes <= 0 {
			r.MaxMessageBytes = 128 << 20
		}
		if r.Grace <= 0 {
			r.Grace = 3 * time.Second
		}
		if r.SignInWait <= 0 {
			r.SignInWait = 5 * time.Second
		}
		if r.ServerName == "" {
			r.ServerName = "the server"
		}
		r.stop = make(chan struct{})
		r.pending = &pending{changed: make(chan struct{})}
		r.watches = map[string]func([]byte){}
		r.inflight = newInflight()
		r.Out.setLog(r.Log)
	})
}

// Deliver takes one message from the server to the client, a message Up has parsed (jsonrpc.Parse); hand it to
// Up as its way out. An answer reaches the client only when one of its requests waits for it.
func (r *Relay) Deliver(msg []byte) {
	r.init()
	kind, id := jsonrpc.Peek(msg)
	switch kind {
	case jsonrpc.KindResponse:
		if r.watching.Load() {
			if h := r.unwatch(id); h != nil {
				h(msg)
				return
			}
		}
		r.answer(id, msg)
	case jsonrpc.KindBatch:
		r.deliverBatch(msg)
	default:
		r.tell(msg)
	}
}

// watch hands the answer to request id to h instead of the client.
func (r *Relay) watch(id json.RawMessage, h func([]byte)) {
	r.watchMu.Lock()
	r.watches[jsonrpc.IDKey(id)] = h
	r.watching.Store(true)
	r.watchMu.Unlock()
}

func (r *Relay) unwatch(id json.RawMessage) func([]byte) {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	k := jsonrpc.IDKey(id)
	h := r.watches[k]
	delete(r.watches, k)
	r.watching.Store(len(r.watches) > 0)
	return h
}

// Run relays until the input ends, ctx is cancelled or the client stops reading, then closes Up.
func (r *Relay) Run(ctx context.Context) error {
	r.init()
	defer close(r.stop)
	if r.SignIn != nil {
		go r.followSignIn()
	}
	eof := make(chan error, 1)
	go func() { eof <- r.readLoop(ctx) }()
	var err error
	select {
	case err = <-eof:
		r.ending.Store(true)
		r.Log.Debug("end of input", "err", err)
		r.drain(ctx)
	case <-ctx.Done():
		r.ending.Store(true)
		r.Log.Info("stopping", "reason", context.Cause(ctx))
	case <-r.Out.Broken():
		r.ending.Store(true)
		r.Log.Info("the client stopped reading; stopping")
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if cerr := r.Up.Close(cctx); cerr != nil {
		r.Log.Debug("closing the session", "err", cerr)
	}
	// A send of the relay's own may be a sign-in under way, which Close has just abandoned: it stops what it
	// started (a browser command) before the process may end.
	r.sendMu.Lock()
	r.closing = true
	r.sendMu.Unlock()
	sent := make(chan struct{})
	go func() { r.sends.Wait(); close(sent) }()
	select {
	case <-sent:
	case <-cctx.Done():
		r.Log.Debug("stopping without waiting any longer for the relay's own requests")
	}
	return err
}

// drain gives the client's requests still running at end of input a moment to be answered. The relay's own
// (a sign-in's initialize) do not hold it up.
func (r *Relay) drain(ctx context.Context) {
	grace := time.NewTimer(r.Grace)
	defer grace.Stop()
	select {
	case <-r.inflight.idle():
	case <-grace.C:
	case <-ctx.Done():
	}
}

// readLoop reads one message per line and relays it. Bad input is answered with an error and skipped.
func (r *Relay) readLoop(ctx context.Context) error {
	br := bufio.NewReaderSize(r.In, 64<<10)
	// A line that does not fit is refused at once, not held until room comes: stdin must be read on, or a client
	// that writes a long request before it reads stdout would block while the answer holding the room waits for it.
	buf := membudget.NewBuffer(r.Budget, r.MaxMessageBytes+1) // +1: the newline
	for ctx.Err() == nil {
		err := readLine(br, buf)
		switch {
		case buf.Err() != nil:
			r.tooLarge(buf.Err(), buf.Head())
		case buf.Len() > 0:
			r.handle(buf.Bytes())
		}
		buf.Release()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	return ctx.Err()
}

// tooLarge answers a line that did not fit (a *membudget.TooLarge or *membudget.NoRoom), under its id when
// head, the line's start, shows it.
func (r *Relay) tooLarge(err error, head []byte) {
	id := jsonrpc.IDFromPrefix(head)
	var (
		tl  *membudget.TooLarge
		msg string
	)
	if errors.As(err, &tl) {
		msg = fmt.Sprintf("Invalid Request: the message was %s, over the bridge's limit of %s for one message",
			membudget.Size(tl.Size), membudget.Size(int64(r.MaxMessageBytes)))
	} else {
		msg = "Invalid Request: the message did not fit in the bridge's memory for messages: " + err.Error()
	}
	if r.LimitAdvice != "" {
		msg += "; " + r.LimitAdvice
	}
	r.Log.Warn("message from the client dropped", "id", string(id), "err", err)
	r.Out.Write(jsonrpc.ErrorResponse(id, jsonrpc.CodeInvalidRequest, msg, nil))
}

func (r *Relay) handle(line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	m, err := jsonrpc.Parse(line)
	switch {
	case err == nil:
	case errors.Is(err, jsonrpc.ErrParse):
		r.Log.Warn("malformed JSON from the client", "err", err)
		r.refuseUnread(m.ID, jsonrpc.CodeParseError, "Parse error: "+jsonrpc.Detail(err))
		return
	default:
		r.Log.Warn("invalid message from the client", "err", err)
		r.refuseUnread(m.ID, jsonrpc.CodeInvalidRequest, "Invalid Request: "+jsonrpc.Detail(err))
		return
	}
	r.Log.Debug("client →", "kind", m.Kind, "method", m.Method, "id", string(m.ID))
	r.route(m)
}

// refuseUnread answers a message the relay could not read with an error that carries its id when one could be
// read and no request in flight uses it (the client would take the error for that request's answer), else null.
func (r *Relay) refuseUnread(id json.RawMessage, code int, message string) {
	if id != nil && r.inflight.claim(id) {
		r.refuse(id, code, message)
		return
	}
	r.Out.Write(jsonrpc.ErrorResponse(nil, code, message, nil))
}

// route relays m, unless the relay must answer it itself (see local.go) or rework the server's answer.
func (r *Relay) route(m jsonrpc.Message) {
	m, ok := r.claim(m)
	if !ok {
		return
	}
	switch {
	case r.SignIn != nil && m.Kind == jsonrpc.KindRequest && m.Method == "initialize":
		r.initialize(m)
		return
	case (r.SignIn != nil || len(r.IgnoreTools) > 0) && r.local(m):
		return
	case len(r.IgnoreTools) > 0 && m.Kind == jsonrpc.KindRequest && m.Method == "tools/list":
		r.watch(m.ID, func(raw []byte) { r.filterTools(m.ID, raw) })
	}
	r.Up.Send(m)
}

// readLine reads up to '\n' into buf, which drops a line that does not fit (keeping its start) and keeps
// counting it.
func readLine(br *bufio.Reader, buf *membudget.Buffer) error {
	for {
		chunk, err := br.ReadSlice('\n')
		_, _ = buf.Write(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return err
	}
}
