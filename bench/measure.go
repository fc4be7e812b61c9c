package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (0–100) of ds, nearest rank; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// PairedRatio is the median of a[i]/b[i]: for measures taken in pairs one right after the other, the ratio that
// a machine whose speed drifts during the run (a VM's neighbours, a garbage collector) disturbs least.
func PairedRatio(a, b []time.Duration) float64 {
	rs := make([]float64, 0, min(len(a), len(b)))
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			rs = append(rs, float64(a[i])/float64(b[i]))
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	if n := len(rs); n%2 == 0 {
		return (rs[n/2-1] + rs[n/2]) / 2
	}
	return rs[len(rs)/2]
}

// Ms renders a duration in milliseconds with three decimals.
func Ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

// Handshake sends initialize and notifications/initialized and waits for the initialize answer.
func (p *Proc) Handshake() error {
	if err := p.Send([]byte(InitLine)); err != nil {
		return err
	}
	if _, err := p.Until(1, 30*time.Second); err != nil {
		return err
	}
	return p.Send([]byte(InitializedLine))
}

// Sequential makes n small calls one after the other through the bridge, ids from first on, and returns each
// call's round trip.
func (p *Proc) Sequential(first, n int) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for i := range n {
		id := first + i
		t0 := time.Now()
		if err := p.Send(CallLine(id)); err != nil {
			return nil, err
		}
		if _, err := p.Until(id, 30*time.Second); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}

// DirectSequential makes n small calls one after the other straight to the server.
func (d *Direct) DirectSequential(ctx context.Context, first, n int) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if _, err := d.Call(ctx, CallLine(first+i), nil); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}

// Throughput makes n small calls through the bridge keeping inflight of them outstanding, ids from first on,
// and returns calls per second.
func (p *Proc) Throughput(first, n, inflight int) (float64, error) {
	slots := make(chan struct{}, inflight)
	errc := make(chan error, 1)
	t0 := time.Now()
	go func() {
		for i := range n {
			slots <- struct{}{}
			if err := p.Send(CallLine(first + i)); err != nil {
				errc <- err
				return
			}
		}
	}()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for got := 0; got < n; {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return 0, fmt.Errorf("stdout closed; stderr: %s", p.Stderr())
			}
			if AnswerID(l.B) >= first {
				got++
				<-slots
			}
		case err := <-errc:
			return 0, err
		case <-timeout.C:
			return 0, fmt.Errorf("throughput run timed out; stderr: %s", p.Stderr())
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// DirectThroughput makes n small calls straight to the server with inflight of them outstanding.
func (d *Direct) DirectThroughput(ctx context.Context, first, n, inflight int) (float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	t0 := time.Now()
	for range inflight {
		wg.Go(func() {
			for id := range next {
				if _, err := d.Call(ctx, CallLine(id), nil); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- first + i
	}
	close(next)
	wg.Wait()
	return float64(n) / time.Since(t0).Seconds(), firstErr
}

// ProgressRelay runs calls mesh_execute calls of steps steps through the bridge and returns, for each progress
// notification, the time from the server writing it to the bridge's stdout carrying it.
func (p *Proc) ProgressRelay(s Clock, first, calls, steps int) ([]time.Duration, error) {
	var ds []time.Duration
	for c := range calls {
		id := first + c
		tok := fmt.Sprintf("bridge-%d", id)
		if err := p.Send(ProgressLine(id, tok, steps)); err != nil {
			return nil, err
		}
		var seen []Line
		deadline := time.After(60 * time.Second)
	read:
		for {
			select {
			case l, ok := <-p.lines:
				if !ok {
					return nil, fmt.Errorf("stdout closed; stderr: %s", p.Stderr())
				}
				if AnswerID(l.B) == id {
					break read
				}
				seen = append(seen, l)
			case <-deadline:
				return nil, fmt.Errorf("mesh_execute did not finish; stderr: %s", p.Stderr())
			}
		}
		ds = append(ds, delays(s, seen, tok)...)
	}
	return ds, nil
}

// DirectProgress is ProgressRelay for a client reading the server's SSE stream itself.
func (d *Direct) DirectProgress(ctx context.Context, s Clock, first, calls, steps int) ([]time.Duration, error) {
	var ds []time.Duration
	for c := range calls {
		id := first + c
		tok := fmt.Sprintf("direct-%d", id)
		var seen []Line
		_, err := d.Call(ctx, ProgressLine(id, tok, steps), func(b []byte, at time.Time) {
			seen = append(seen, Line{B: b, At: at})
		})
		if err != nil {
			return nil, err
		}
		ds = append(ds, delays(s, seen, tok)...)
	}
	return ds, nil
}

func delays(s Clock, lines []Line, tok string) []time.Duration {
	var ds []time.Duration
	for _, l := range lines {
		t, step, ok := ProgressKey(l.B)
		if !ok || t != tok {
			continue
		}
		if at, ok := s.Emitted(t, step); ok {
			ds = append(ds, l.At.Sub(at))
		}
	}
	return ds
}

var signInURL = regexp.MustCompile(`https?://\S+/oauth/authorize\?\S+`)

// Login signs the bridge in to the server with a real OAuth sign-in, as a user would with `meshai-mcp-server
// login`, storing the tokens in files under configDir. It plays the browser: it follows the sign-in URL the
// bridge prints on stderr to the bridge's loopback callback.
func Login(bridge, configDir, url string) error {
	p, err := StartProc([]string{"MESHAI_CONFIG_DIR=" + configDir, "MESHAI_API_KEY="},
		bridge, "login", "--no-browser", "--token-store", "file", url)
	if err != nil {
		return err
	}
	defer p.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if u := signInURL.FindString(p.Stderr()); u != "" {
			resp, err := http.Get(u)
			if err != nil {
				return fmt.Errorf("follow the sign-in URL: %w", err)
			}
			resp.Body.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.Cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("login: %w; stderr: %s", err, p.Stderr())
		}
	case <-time.After(30 * time.Second):
		return fmt.Errorf("login did not finish; stderr: %s", p.Stderr())
	}
	entries, _ := os.ReadDir(filepath.Join(configDir, "tokens"))
	if len(entries) == 0 {
		return fmt.Errorf("login stored no token under %s; stderr: %s", configDir, p.Stderr())
	}
	return nil
}

// ColdStart starts argv (with env, in dir) and returns the time from starting it to the answer of the first
// tools/list, sent right behind initialize as a client does.
func ColdStart(dir string, env []string, argv ...string) (time.Duration, error) {
	p, err := StartProcIn(dir, env, argv...)
	if err != nil {
		return 0, err
	}
	defer p.Stop()
	msgs := InitLine + "\n" + InitializedLine + "\n" + `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if err := p.Send([]byte(msgs)); err != nil {
		return 0, err
	}
	l, err := p.Until(2, 60*time.Second)
	if err != nil {
		return 0, err
	}
	if !strings.Contains(string(l.B), `"list_agents"`) {
		return 0, fmt.Errorf("tools/list answered without the server's tools (not signed in?): %.200s", l.B)
	}
	return l.At.Sub(p.Start), nil
}

// Exit starts argv (with env) and returns the time until it exits (node -e 0: the floor of any Node launcher).
func Exit(env []string, argv ...string) (time.Duration, error) {
	p, err := StartProc(env, argv...)
	if err != nil {
		return 0, err
	}
	p.stdin.Close()
	err = p.Cmd.Wait()
	return time.Since(p.Start), err
}

// Echo measures the stdio floor: n small messages sent one at a time to argv (cat: echoes each line back) and
// read back, the same way the bridge is driven. Whatever a relay adds over this is its own.
func Echo(n int, argv ...string) ([]time.Duration, error) {
	p, err := StartProc(nil, argv...)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	ds := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if err := p.Send(CallLine(i)); err != nil {
			return nil, err
		}
		select {
		case _, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("%s ended", argv[0])
			}
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("%s echoed nothing", argv[0])
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}
