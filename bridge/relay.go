// Package bridge is the relay between a desktop client's stdio and a remote MCP connection: it frames
// newline-delimited JSON-RPC, answers what cannot be relayed with a JSON-RPC error, and shuts down cleanly.
package bridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// Upstream is the remote side of the relay; *remote.Client implements it.
type Upstream interface {
	// Send relays one message; every request it is given is answered through the Writer.
	Send(m jsonrpc.Message)
	// Pending reports how many requests still wait for an answer.
	Pending() int
	// Close ends the remote session.
	Close(ctx context.Context) error
}

// Relay copies messages from In to Up, and Up's answers reach Out through the Writer handed to Up.
type Relay struct {
	In  io.Reader
	Out *Writer
	Up  Upstream
	Log *slog.Logger
	// MaxMessageBytes bounds one message from the client (default 128 MiB).
	MaxMessageBytes int
	// Grace is how long requests still running at end of input may take to be answered (default 3 s).
	Grace time.Duration
}

// Run relays until the input ends, ctx is cancelled or the client stops reading, then closes Up.
func (r *Relay) Run(ctx context.Context) error {
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.MaxMessageBytes <= 0 {
		r.MaxMessageBytes = 128 << 20
	}
	if r.Grace <= 0 {
		r.Grace = 3 * time.Second
	}
	eof := make(chan error, 1)
	go func() { eof <- r.readLoop(ctx) }()
	var err error
	select {
	case err = <-eof:
		r.Log.Debug("end of input", "err", err)
		r.drain(ctx)
	case <-ctx.Done():
		r.Log.Info("stopping", "reason", context.Cause(ctx))
	case <-r.Out.Broken():
		r.Log.Info("the client stopped reading; stopping")
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if cerr := r.Up.Close(cctx); cerr != nil {
		r.Log.Debug("closing the session", "err", cerr)
	}
	return err
}

// drain gives requests still running at end of input a moment to be answered.
func (r *Relay) drain(ctx context.Context) {
	deadline := time.Now().Add(r.Grace)
	for r.Up.Pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// readLoop reads one message per line and relays it. Bad input is answered with an error and skipped.
func (r *Relay) readLoop(ctx context.Context) error {
	br := bufio.NewReaderSize(r.In, 64<<10)
	for ctx.Err() == nil {
		line, tooLong, err := readLine(br, r.MaxMessageBytes)
		switch {
		case tooLong:
			r.Log.Warn("message from the client too large", "limit_mib", r.MaxMessageBytes>>20)
			r.Out.Write(jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest,
				fmt.Sprintf("message larger than %d MiB, the bridge's limit", r.MaxMessageBytes>>20), nil))
		case len(line) > 0:
			r.handle(line)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	return ctx.Err()
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
		r.Out.Write(jsonrpc.ErrorResponse(nil, jsonrpc.CodeParseError, "Parse error: "+err.Error(), nil))
		return
	default:
		r.Log.Warn("invalid message from the client", "err", err)
		r.Out.Write(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeInvalidRequest, "Invalid Request: "+err.Error(), nil))
		return
	}
	r.Log.Debug("client →", "kind", m.Kind, "method", m.Method, "id", string(m.ID))
	r.Up.Send(m)
}

// readLine reads up to '\n'. A line over max is consumed and reported as tooLong, not kept.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong && len(line)+len(chunk) <= max+1 { // +1: the newline
			line = append(line, chunk...)
		} else {
			tooLong, line = true, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}
