package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/bench"
)

// largeSize is the size of the large result measured: 20 MB of text in get_artifact's result.
const largeSize = 20_000_000

// large measures, each in a bridge process of its own, a 20 MB result through the bridge against direct HTTP
// (time and the bridge's peak RSS), and 10,000 calls written at once (connections the server saw, time).
func large(t *table, srv *server, bridgeBin, tmp string, runs, pipelined int) error {
	ctx := context.Background()
	env := append([]string{"MESHAI_API_KEY=" + bench.APIKey, "MESHAI_CONFIG_DIR=" + filepath.Join(tmp, "key"),
		"SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS="}, strings.Fields(bridgeEnv)...)
	start := func() (*bench.Proc, error) {
		p, err := bench.StartProc(env, append([]string{bridgeBin, srv.URL}, strings.Fields(bridgeArgs)...)...)
		if err != nil {
			return nil, err
		}
		if err := p.Handshake(); err != nil {
			p.Stop()
			return nil, err
		}
		return p, nil
	}
	d := bench.NewDirect(srv.URL)
	if err := d.Initialize(ctx); err != nil {
		return err
	}
	for i, kind := range []struct {
		name string
		line func(id, size int) []byte
	}{{"a JSON body", bench.ArtifactLine}, {"an SSE event", bench.StreamedArtifactLine}} {
		line := func(id int) []byte { return kind.line(id, largeSize) }
		p, err := start()
		if err != nil {
			return err
		}
		// Bridge and direct calls take turns, so that a machine that slows down or speeds up during the run
		// (a VM's neighbours, the server's garbage collector) weighs on both sides alike.
		first := 1000 + 1000*i
		var viaBridge, direct []time.Duration
		size := 0
		for j := range runs {
			var b, dd []time.Duration
			n := 0
			bridgeCall := func() (err error) { b, n, err = p.Calls(first+j, 1, line); return err }
			directCall := func() (err error) { dd, _, err = d.DirectCalls(ctx, first+500+j, 1, line); return err }
			order := []func() error{bridgeCall, directCall}
			if j%2 == 1 { // each side goes first in half the pairs: neither inherits the other's garbage more often
				order[0], order[1] = order[1], order[0]
			}
			for _, f := range order {
				if err := f(); err != nil {
					p.Stop()
					return err
				}
			}
			viaBridge, direct, size = append(viaBridge, b...), append(direct, dd...), max(size, n)
		}
		mem, merr := p.Memory()
		p.Stop()
		b50, d50 := bench.Percentile(viaBridge, 50), bench.Percentile(direct, 50)
		ratio := bench.PairedRatio(viaBridge, direct)
		t.check(fmt.Sprintf("20 MB result as %s (get_artifact), bridge vs direct: time", kind.name),
			fmt.Sprintf("bridge p50 %s, direct p50 %s, ratio %.2f× (median of %d paired calls, answer %.1f MB)", bench.Ms(b50), bench.Ms(d50), ratio, runs, float64(size)/1e6),
			"≤ 1.3× direct", ratio <= 1.3)
		if merr != nil {
			t.skip(fmt.Sprintf("20 MB result as %s, bridge peak RSS", kind.name), merr.Error())
			continue
		}
		limitKiB := (2*size + 15_000_000) / 1024
		t.check(fmt.Sprintf("20 MB result as %s, bridge peak RSS (VmHWM of a bridge that made only these calls)", kind.name),
			fmt.Sprintf("%.1f MB", float64(mem.HWM)*1024/1e6), fmt.Sprintf("≤ 2× the answer + 15 MB = %.1f MB", float64(limitKiB)*1024/1e6),
			mem.HWM <= limitKiB)
	}

	p, err := start()
	if err != nil {
		return err
	}
	defer p.Stop()
	before, err := bench.Conns(srv.Base, true)
	if err != nil {
		return err
	}
	took, err := p.Pipelined(10_000, pipelined)
	if err != nil {
		return err
	}
	after, err := bench.Conns(srv.Base, false)
	if err != nil {
		return err
	}
	t.check(fmt.Sprintf("%d pipelined calls: connections the server saw, time", pipelined),
		fmt.Sprintf("%d opened, at most %d open at once; all answered in %s", after.Opened-before.Opened, after.Peak, bench.Ms(took)),
		"≤ 64 open at once (MaxConnsPerHost) + the bench's own", after.Peak <= 64+before.Open)
	return nil
}
