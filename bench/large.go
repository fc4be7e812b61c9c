package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ArtifactLine is a tools/call of get_artifact, whose result holds one text of size bytes, with the given id.
func ArtifactLine(id, size int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_artifact","arguments":{"size_bytes":%d}}}`, id, size)
}

// StreamedArtifactLine is ArtifactLine asking for progress: the server answers on an SSE stream, the result one
// event.
func StreamedArtifactLine(id, size int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_artifact","arguments":{"size_bytes":%d},`+
		`"_meta":{"progressToken":"artifact-%d"}}}`, id, size, id)
}

// Calls makes one call per line, one after the other, through the bridge, ids from first on (line makes each
// call's line), and returns each call's round trip and the size of the largest answer.
func (p *Proc) Calls(first, n int, line func(id int) []byte) ([]time.Duration, int, error) {
	ds := make([]time.Duration, 0, n)
	largest := 0
	for i := range n {
		id := first + i
		t0 := time.Now()
		if err := p.Send(line(id)); err != nil {
			return nil, 0, err
		}
		l, err := p.Until(id, 60*time.Second)
		if err != nil {
			return nil, 0, err
		}
		ds = append(ds, time.Since(t0))
		largest = max(largest, len(l.B))
	}
	return ds, largest, nil
}

// DirectCalls is Calls straight to the server.
func (d *Direct) DirectCalls(ctx context.Context, first, n int, line func(id int) []byte) ([]time.Duration, int, error) {
	ds := make([]time.Duration, 0, n)
	largest := 0
	for i := range n {
		t0 := time.Now()
		b, err := d.Call(ctx, line(first+i), nil)
		if err != nil {
			return nil, 0, err
		}
		if AnswerID(b) != first+i { // a client reads the answer's id, as Until does of the bridge's
			return nil, 0, fmt.Errorf("not the answer to %d: %.200s", first+i, b)
		}
		ds = append(ds, time.Since(t0))
		largest = max(largest, len(b))
	}
	return ds, largest, nil
}

// Pipelined writes n small calls to the bridge at once, ids from first on, as a client that does not wait, and
// returns the time until the last of them is answered.
func (p *Proc) Pipelined(first, n int) (time.Duration, error) {
	var all []byte
	for i := range n {
		all = append(append(all, CallLine(first+i)...), '\n')
	}
	t0 := time.Now()
	p.wmu.Lock()
	_, err := p.stdin.Write(all)
	p.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	timeout := time.NewTimer(120 * time.Second)
	defer timeout.Stop()
	for got := 0; got < n; {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return 0, fmt.Errorf("stdout closed; stderr: %s", p.Stderr())
			}
			if id := AnswerID(l.B); id >= first && id < first+n {
				got++
			}
		case <-timeout.C:
			return 0, fmt.Errorf("%d of %d pipelined calls answered; stderr: %s", got, n, p.Stderr())
		}
	}
	return time.Since(t0), nil
}

// ConnStats counts the server's TCP connections: opened since it started, open now, and the most open at once
// since the last reset.
type ConnStats struct {
	Opened int64 `json:"opened"`
	Open   int64 `json:"open"`
	Peak   int64 `json:"peak"`
}

// connCounter keeps ConnStats from http.Server.ConnState.
type connCounter struct {
	mu sync.Mutex
	s  ConnStats
}

func (c *connCounter) state(_ any, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		c.s.Opened++
		c.s.Open++
		c.s.Peak = max(c.s.Peak, c.s.Open)
	case http.StateClosed, http.StateHijacked:
		c.s.Open--
	}
}

// read returns the counts and, with reset, starts the peak over from the connections open now.
func (c *connCounter) read(reset bool) ConnStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	if reset {
		c.s.Peak = c.s.Open
	}
	return s
}

// connsPath serves the bench server's ConnStats; ?reset=1 starts the peak over.
const connsPath = "/bench/conns"

// Conns reads the ConnStats of the bench server at base (its base URL); reset starts the peak over.
func Conns(base string, reset bool) (ConnStats, error) {
	var s ConnStats
	u := base + connsPath
	if reset {
		u += "?reset=1"
	}
	resp, err := http.Get(u)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}
