// Command benchrun measures a built meshai-mcp-server against the reference server in one run and prints a
// Markdown table: metric | value | target | result. scripts/bench builds what it needs and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/bench"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// bridgeArgs and bridgeEnv are passed to the bridge of the relay measures.
var bridgeArgs, bridgeEnv string

// largeRuns and pipelined size the large-message rows.
var largeRuns, pipelined int

type row struct{ metric, value, target, result string }

type table struct{ rows []row }

func (t *table) add(metric, value, target, result string) {
	t.rows = append(t.rows, row{metric, value, target, result})
	fmt.Fprintf(os.Stderr, "benchrun: %s = %s\n", metric, value)
}

// check adds a row with a target: pass when ok.
func (t *table) check(metric, value, target string, ok bool) {
	r := "miss"
	if ok {
		r = "pass"
	}
	t.add(metric, value, target, r)
}

func (t *table) skip(metric, why string) { t.add(metric, "skipped: "+why, "", "") }

func (t *table) print(w io.Writer) {
	fmt.Fprintln(w, "| metric | value | target | pass/miss |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.metric, r.value, r.target, r.result)
	}
}

func main() {
	bridge := flag.String("bridge", "", "the meshai-mcp-server binary to measure")
	install := flag.String("npm-install", "", "a directory where meshai-mcp-server is npm-installed (node_modules/), or empty")
	npmSkip := flag.String("npm-skip", "", "why there is no npm install (printed in the skipped rows)")
	dist := flag.String("npm-dist", "", "dist/npm of scripts/build-npm + scripts/pack-npm, for package sizes")
	calls := flag.Int("calls", 2000, "small calls per side for the latency measure")
	cold := flag.Int("cold", 20, "runs of each cold start")
	tput := flag.Int("throughput-calls", 10000, "calls per throughput run")
	flag.IntVar(&largeRuns, "large-runs", 10, "20 MB results per side")
	flag.IntVar(&pipelined, "pipelined", 10000, "calls written at once for the connections measure")
	only := flag.String("only", "", "run only this group of rows: large (the 20 MB result and pipelined calls)")
	serve := flag.Bool("serve", false, "only serve the bench reference server: print its base URL, serve until stdin closes")
	flag.StringVar(&bridgeArgs, "bridge-args", "", "extra arguments for the relaying bridge, space-separated (experiments)")
	flag.StringVar(&bridgeEnv, "bridge-env", "", "extra environment for the relaying bridge, space-separated K=V (experiments)")
	flag.Parse()
	if *serve {
		if err := serveOnly(); err != nil {
			fmt.Fprintln(os.Stderr, "benchrun -serve:", err)
			os.Exit(1)
		}
		return
	}
	if *bridge == "" {
		fmt.Fprintln(os.Stderr, "benchrun: -bridge is required")
		os.Exit(2)
	}
	t := &table{}
	if *only == "large" {
		err := onlyLarge(t, *bridge)
		t.print(os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchrun:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(t, *bridge, *install, *npmSkip, *dist, *calls, *cold, *tput); err != nil {
		t.print(os.Stdout)
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
	t.print(os.Stdout)
}

// serveOnly runs the bench server for a measuring benchrun: a process of its own, as a real server is, so that
// direct calls cross processes just as relayed ones do.
func serveOnly() error {
	srv, err := bench.StartServer(2 * time.Millisecond)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println(srv.Base)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// server is the bench server in a child process: its MCP URL and the clock of its progress notifications.
type server struct {
	URL   string
	Base  string // scheme://host:port
	Clock bench.Clock
	proc  *bench.Proc
}

func startServer() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := bench.StartProc(nil, self, "-serve")
	if err != nil {
		return nil, err
	}
	select {
	case l, ok := <-p.Lines():
		if !ok {
			return nil, fmt.Errorf("the bench server did not start: %s", p.Stderr())
		}
		base := strings.TrimSpace(string(l.B))
		return &server{URL: base + "/v1/mcp", Base: base, Clock: &bench.RemoteClock{Base: base}, proc: p}, nil
	case <-time.After(30 * time.Second):
		p.Kill()
		return nil, fmt.Errorf("the bench server did not start: %s", p.Stderr())
	}
}

func run(t *table, bridgeBin, install, npmSkip, dist string, calls, cold, tput int) error {
	return withServer(func(srv *server, tmp string) error {
		if err := coldStarts(t, srv, bridgeBin, install, npmSkip, tmp, cold); err != nil {
			return err
		}
		if err := relay(t, srv, bridgeBin, tmp, calls, tput); err != nil {
			return err
		}
		if err := large(t, srv, bridgeBin, tmp, largeRuns, pipelined); err != nil {
			return err
		}
		sizes(t, dist)
		return nil
	})
}

// onlyLarge runs the large-message rows alone (-only large).
func onlyLarge(t *table, bridgeBin string) error {
	return withServer(func(srv *server, tmp string) error {
		return large(t, srv, bridgeBin, tmp, largeRuns, pipelined)
	})
}

// withServer runs f with the bench's reference server and a temporary directory, and removes both after.
func withServer(f func(srv *server, tmp string) error) error {
	srv, err := startServer()
	if err != nil {
		return err
	}
	defer srv.proc.Stop()
	tmp, err := os.MkdirTemp("", "meshai-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	return f(srv, tmp)
}

// coldStarts measures start → first tools/list answer with a stored OAuth token, for the binary, the npm
// launcher and npx, with node -e 0 as the floor, round-robin so that all see the same machine.
func coldStarts(t *table, srv *server, bridgeBin, install, npmSkip, tmp string, runs int) error {
	cfgDir := filepath.Join(tmp, "oauth")
	if err := bench.Login(bridgeBin, cfgDir, srv.URL); err != nil {
		return err
	}
	// A desktop client's environment seldom names CA files; this machine's does (SSL_CERT_FILE,
	// NODE_EXTRA_CA_CERTS), which makes the bridge load the system roots at start. Both are measured.
	noCA := []string{"SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS="}
	env := func(store string) []string {
		return append([]string{"MESHAI_CONFIG_DIR=" + cfgDir, "MESHAI_API_KEY=", "MESHAI_TOKEN_STORE=" + store}, noCA...)
	}
	withCA := []string{"MESHAI_CONFIG_DIR=" + cfgDir, "MESHAI_API_KEY=", "MESHAI_TOKEN_STORE=file",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"}
	type subject struct {
		name string
		dir  string
		env  []string
		argv []string
		exit bool // measure until exit (node -e 0)
		ds   []time.Duration
		err  error
	}
	subjects := []*subject{
		{name: "node -e 0", argv: []string{"node", "-e", "0"}, exit: true},
		{name: "binary --version", env: noCA, argv: []string{bridgeBin, "--version"}, exit: true},
		{name: "binary, --token-store file", env: env("file"), argv: []string{bridgeBin, srv.URL}},
		{name: "binary, --token-store auto", env: env("auto"), argv: []string{bridgeBin, srv.URL}},
		{name: "binary, file store, SSL_CERT_FILE + NODE_EXTRA_CA_CERTS set", env: withCA, argv: []string{bridgeBin, srv.URL}},
	}
	if install != "" {
		launcher := filepath.Join(install, "node_modules", "meshai-mcp-server", "bin", "meshai-mcp-server.js")
		npmEnv := append(env("file"), "npm_config_registry=http://127.0.0.1:9/", "npm_config_cache="+filepath.Join(tmp, "npm-cache"),
			"npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		subjects = append(subjects,
			&subject{name: "node launcher.js", env: env("file"), argv: []string{"node", launcher, srv.URL}},
		)
		// The same binary named by MESHAI_MCP_SERVER_BINARY, which the launcher runs without its SHA-256 check:
		// the difference is what the check costs at each start.
		if bins, _ := filepath.Glob(filepath.Join(install, "node_modules", "@meshai", "mcp-server-*", "bin", "meshai-mcp-server*")); len(bins) == 1 {
			subjects = append(subjects, &subject{name: "node launcher.js, binary unchecked (MESHAI_MCP_SERVER_BINARY)",
				env: append(env("file"), "MESHAI_MCP_SERVER_BINARY="+bins[0]), argv: []string{"node", launcher, srv.URL}})
		}
		subjects = append(subjects,
			&subject{name: "npx meshai-mcp-server (local install)", dir: install, env: npmEnv,
				argv: []string{"npx", "--no-install", "meshai-mcp-server", srv.URL}})
	}
	for i := -1; i < runs; i++ { // run -1 warms the page cache and is not counted
		for _, s := range subjects {
			if s.err != nil {
				continue
			}
			var d time.Duration
			var err error
			if s.exit {
				d, err = bench.Exit(s.env, s.argv...)
			} else {
				d, err = bench.ColdStart(s.dir, s.env, s.argv...)
			}
			if err != nil {
				s.err = err
				continue
			}
			if i >= 0 {
				s.ds = append(s.ds, d)
			}
		}
	}
	med := map[string]time.Duration{}
	for _, s := range subjects {
		metric := "cold start → tools/list, " + s.name
		if s.exit {
			metric = "start → exit, " + s.name
		}
		if s.err != nil {
			t.skip(metric, textutil.Quote([]byte(s.err.Error()), 200))
			continue
		}
		m := bench.Percentile(s.ds, 50)
		med[s.name] = m
		value := fmt.Sprintf("p50 %s, p90 %s (n=%d)", bench.Ms(m), bench.Ms(bench.Percentile(s.ds, 90)), len(s.ds))
		if s.name == "binary, --token-store file" {
			t.check(metric, value, "< 30 ms", m < 30*time.Millisecond)
		} else {
			t.add(metric, value, "", "")
		}
	}
	bin, node := med["binary, --token-store file"], med["node -e 0"]
	if l, ok := med["node launcher.js"]; ok {
		t.check("launcher − node -e 0", bench.Ms(l-node), "< 25 ms", l-node < 25*time.Millisecond)
		t.add("launcher − binary (what node + the launcher add)", bench.Ms(l-bin), "", "")
		t.add("ratio launcher / binary", fmt.Sprintf("%.2f×", float64(l)/float64(bin)), "", "")
		if u, ok := med["node launcher.js, binary unchecked (MESHAI_MCP_SERVER_BINARY)"]; ok {
			t.add("launcher's SHA-256 check of the binary (checked − unchecked)", bench.Ms(l-u), "", "")
		}
		if n, ok := med["npx meshai-mcp-server (local install)"]; ok {
			t.add("npx − binary", bench.Ms(n-bin), "", "")
			t.add("ratio npx / binary", fmt.Sprintf("%.2f×", float64(n)/float64(bin)), "", "")
		}
	} else {
		why := npmSkip
		if why == "" {
			why = "no npm install given (-npm-install)"
		}
		t.skip("cold start → tools/list, node launcher.js", why)
		t.skip("cold start → tools/list, npx meshai-mcp-server", why)
	}
	if a, ok := med["binary, --token-store auto"]; ok {
		t.add("token store auto − file (keychain probe)", bench.Ms(a-bin), "", "")
	}
	if a, ok := med["binary, file store, SSL_CERT_FILE + NODE_EXTRA_CA_CERTS set"]; ok {
		t.add("CA env set − unset (system roots loaded at start)", bench.Ms(a-bin), "", "")
	}
	return nil
}

// relay measures the added latency per call, throughput, progress relay and memory of one bridge process.
func relay(t *table, srv *server, bridgeBin, tmp string, calls, tput int) error {
	ctx := context.Background()
	env := append([]string{"MESHAI_API_KEY=" + bench.APIKey, "MESHAI_CONFIG_DIR=" + filepath.Join(tmp, "key"),
		"SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS="}, strings.Fields(bridgeEnv)...)
	p, err := bench.StartProc(env, append([]string{bridgeBin, srv.URL}, strings.Fields(bridgeArgs)...)...)
	if err != nil {
		return err
	}
	defer p.Stop()
	if err := p.Handshake(); err != nil {
		return err
	}
	d := bench.NewDirect(srv.URL)
	if err := d.Initialize(ctx); err != nil {
		return err
	}
	// Warm both paths, then alternate blocks so both see the same machine.
	id := 100
	if _, err := p.Sequential(id, 200); err != nil {
		return err
	}
	id += 200
	if _, err := d.DirectSequential(ctx, id, 200); err != nil {
		return err
	}
	id += 200
	var viaBridge, direct []time.Duration
	const block = 250
	for len(viaBridge) < calls {
		n := min(block, calls-len(viaBridge))
		ds, err := p.Sequential(id, n)
		if err != nil {
			return err
		}
		viaBridge = append(viaBridge, ds...)
		id += n
		ds, err = d.DirectSequential(ctx, id, n)
		if err != nil {
			return err
		}
		direct = append(direct, ds...)
		id += n
	}
	if echo, err := bench.Echo(calls, "cat"); err == nil {
		t.add("floor: stdio round trip through cat (no HTTP)", fmt.Sprintf("p50 %s, p99 %s (n=%d)",
			bench.Ms(bench.Percentile(echo, 50)), bench.Ms(bench.Percentile(echo, 99)), len(echo)), "", "")
	} else {
		t.skip("floor: stdio round trip through cat", err.Error())
	}
	b50, b99 := bench.Percentile(viaBridge, 50), bench.Percentile(viaBridge, 99)
	d50, d99 := bench.Percentile(direct, 50), bench.Percentile(direct, 99)
	t.add("small call (list_agents) direct HTTP", fmt.Sprintf("p50 %s, p99 %s (n=%d)", bench.Ms(d50), bench.Ms(d99), len(direct)), "", "")
	t.add("small call through the bridge (stdio)", fmt.Sprintf("p50 %s, p99 %s (n=%d)", bench.Ms(b50), bench.Ms(b99), len(viaBridge)), "", "")
	t.check("added per relayed call, p50", bench.Ms(b50-d50), "< 0.3 ms", b50-d50 < 300*time.Microsecond)
	t.add("added per relayed call, p99", bench.Ms(b99-d99), "", "")
	t.add("ratio bridge / direct, p50", fmt.Sprintf("%.2f×", float64(b50)/float64(d50)), "", "")

	for _, inflight := range []int{1, 16} {
		n := tput
		if inflight == 1 {
			n = tput / 4
		}
		bps, err := p.Throughput(id, n, inflight)
		if err != nil {
			return err
		}
		id += n
		dps, err := d.DirectThroughput(ctx, id, n, inflight)
		if err != nil {
			return err
		}
		id += n
		metric := fmt.Sprintf("throughput, %d in flight, through the bridge", inflight)
		value := fmt.Sprintf("%.0f calls/s (direct %.0f/s, ratio %.2f)", bps, dps, bps/dps)
		if inflight == 16 {
			t.check(metric, value, "> 5000 calls/s", bps > 5000)
		} else {
			t.add(metric, value, "", "")
		}
	}
	if m, err := p.Memory(); err == nil {
		t.check("bridge peak RSS (VmHWM) after latency + throughput runs",
			fmt.Sprintf("%.1f MB (now %.1f MB: %.1f anonymous, %.1f file pages)", float64(m.HWM)/1024,
				float64(m.RSS)/1024, float64(m.Anon)/1024, float64(m.File)/1024), "< 15 MB", m.HWM < 15*1024)
	} else {
		t.skip("bridge peak RSS", err.Error())
	}

	const progCalls, steps = 5, 100
	pr, err := p.ProgressRelay(srv.Clock, id, progCalls, steps)
	if err != nil {
		return err
	}
	id += progCalls
	dr, err := d.DirectProgress(ctx, srv.Clock, id, progCalls, steps)
	if err != nil {
		return err
	}
	t.add("progress: server write → client read, direct", fmt.Sprintf("p50 %s, p99 %s (n=%d)",
		bench.Ms(bench.Percentile(dr, 50)), bench.Ms(bench.Percentile(dr, 99)), len(dr)), "", "")
	t.add("progress: server write → bridge stdout", fmt.Sprintf("p50 %s, p99 %s (n=%d)",
		bench.Ms(bench.Percentile(pr, 50)), bench.Ms(bench.Percentile(pr, 99)), len(pr)), "", "")
	t.add("progress relay added, p50", bench.Ms(bench.Percentile(pr, 50)-bench.Percentile(dr, 50)), "", "")
	return nil
}

// sizes reports the npm packages' sizes: unpacked directories and tarballs.
func sizes(t *table, dist string) {
	if dist == "" {
		t.skip("npm package sizes", "no dist/npm given (-npm-dist)")
		return
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.skip("npm package sizes", err.Error())
		return
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dist, name)
		var size int64
		_ = filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		kind := "unpacked"
		if strings.HasSuffix(name, ".tgz") {
			kind = "tarball"
		}
		t.add(fmt.Sprintf("npm %s %s", kind, name), fmt.Sprintf("%.2f MB (%d bytes)", float64(size)/(1<<20), size), "", "")
	}
}
