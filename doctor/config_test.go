package doctor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// unit runs the given checks alone on a fresh runner.
func unit(t *testing.T, opts Options, steps ...func(*runner, context.Context)) *runner {
	t.Helper()
	if opts.Getenv == nil {
		opts.Getenv = testEnv(t)
	}
	if opts.Timeout == 0 {
		opts.Timeout = stepTimeout
	}
	r := &runner{opts: opts}
	for _, s := range steps {
		s(r, context.Background())
	}
	return r
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		raw         string
		allowHTTP   bool
		st          Status
		detail, fix string
	}{
		{"https://mcp.example.com/mcp", false, OK, "https://mcp.example.com/mcp", ""},
		{"http://127.0.0.1:8080/mcp", false, OK, "loopback", ""},
		{"https://mcp.example.com/mcp?api_key=secret", false, OK, "mcp?…", ""},
		{"mcp.example.com/mcp", false, Fail, "not an http(s) URL", "give the full MCP endpoint"},
		{"ftp://mcp.example.com/mcp", false, Fail, "not an http(s) URL", "https://auth.meshai.dev/v1/mcp"},
		{"http://mcp.example.com/mcp", false, Fail, "plain http", "use https://mcp.example.com/mcp"},
		{"http://mcp.example.com/mcp", true, Warn, "allowed by --allow-http", "use https as soon"},
	} {
		r := unit(t, Options{URL: c.raw, AllowHTTP: c.allowHTTP}, (*runner).checkURL)
		want(t, r.rep, "config.url", c.st, c.detail, c.fix)
		if strings.Contains(r.rep.Checks[0].Detail, "secret") {
			t.Errorf("%s: the query shows", c.raw)
		}
	}
}

func TestCheckProxy(t *testing.T) {
	for _, c := range []struct {
		env         []string
		st          Status
		detail, fix string
	}{
		{nil, OK, "no proxy variables set", ""},
		{[]string{"HTTPS_PROXY", "http://user:pw@proxy.corp:3128"}, OK, "HTTPS_PROXY → proxy.corp:3128; requests to mcp.example.com go through proxy.corp:3128", ""},
		{[]string{"https_proxy", "proxy.corp:3128", "NO_PROXY", ".example.com"}, OK, "https_proxy → proxy.corp:3128, NO_PROXY; requests to mcp.example.com go direct", ""},
		{[]string{"HTTP_PROXY", "http://proxy.corp:3128"}, OK, "go direct", ""},
		{[]string{"HTTPS_PROXY", "ftp://proxy.corp"}, Fail, "HTTPS_PROXY (unparseable)", "set HTTPS_PROXY to the proxy's URL"},
	} {
		r := unit(t, Options{URL: "https://mcp.example.com/mcp", Getenv: testEnv(t, c.env...)}, (*runner).checkURL, (*runner).checkProxy)
		want(t, r.rep, "config.proxy", c.st, c.detail, c.fix)
		if strings.Contains(r.rep.Checks[1].Detail, "pw") {
			t.Error("proxy credentials show")
		}
	}
}

func TestNoProxy(t *testing.T) {
	for _, c := range []struct {
		host, port, list string
		want             bool
	}{
		{"mcp.example.com", "", "example.com", true},
		{"mcp.example.com", "", ".example.com", true},
		{"mcp.example.com", "", "*.example.com", true},
		{"example.com", "", "mcp.example.com", false},
		{"mcp.example.com", "443", "mcp.example.com:8443", false},
		{"mcp.example.com", "8443", "mcp.example.com:8443", true},
		{"10.1.2.3", "", "10.0.0.0/8", true},
		{"anything", "", "*", true},
		{"mcp.example.com", "", "", false},
	} {
		if got := noProxy(c.host, c.port, c.list); got != c.want {
			t.Errorf("noProxy(%s, %q) = %v", c.host, c.list, got)
		}
	}
}

func TestProxiedReachability(t *testing.T) {
	addr := closedPort(t)
	r := unit(t, Options{URL: "https://mcp.example.com/mcp", Getenv: testEnv(t, "HTTPS_PROXY", "http://"+addr)},
		(*runner).checkURL, (*runner).checkProxy, (*runner).checkDNS, (*runner).checkTCP, (*runner).checkTLS)
	want(t, r.rep, "net.dns", Skip, "through the proxy", "")
	want(t, r.rep, "net.tcp", Fail, "the proxy", "check the proxy variables")
	want(t, r.rep, "net.tls", Skip, "through the proxy", "")
}

func TestCheckConfigDir(t *testing.T) {
	dir := t.TempDir()
	r := unit(t, Options{Getenv: testEnv(t, config.EnvConfigDir, filepath.Join(dir, "new"))}, (*runner).checkConfigDir)
	want(t, r.rep, "config.dir", OK, "(MESHAI_CONFIG_DIR) is writable", "")

	// The bridge's rule, read through Getenv alone: this machine's HOME does not count.
	r = unit(t, Options{Getenv: func(string) string { return "" }}, (*runner).checkConfigDir)
	want(t, r.rep, "config.dir", Fail, "no config directory: neither $XDG_CONFIG_HOME nor $HOME are defined", "set MESHAI_CONFIG_DIR to a writable directory")
	home := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOME": home, "LocalAppData": home}[k] }
	d, err := config.ResolveDir(getenv)
	if err != nil || !strings.HasPrefix(d.Path, home) {
		t.Fatalf("ResolveDir = %+v, %v; want a directory in %s", d, err, home)
	}
	r = unit(t, Options{Getenv: getenv}, (*runner).checkConfigDir)
	want(t, r.rep, "config.dir", OK, d.Path+" (OS default) is writable", "")

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = unit(t, Options{ConfigDir: filepath.Join(file, "sub")}, (*runner).checkConfigDir)
	want(t, r.rep, "config.dir", Fail, "is not writable", "set MESHAI_CONFIG_DIR to a directory you can write")
}

// fakeStore is a Store of a given kind that holds nothing.
type fakeStore struct{ kind string }

func (f fakeStore) Get(context.Context, string) ([]byte, error) { return nil, credstore.ErrNotFound }
func (f fakeStore) Set(context.Context, string, []byte) error   { return nil }
func (f fakeStore) Delete(context.Context, string) error        { return nil }
func (f fakeStore) Kind() string                                { return f.kind }

func TestCheckStore(t *testing.T) {
	r := unit(t, Options{}, (*runner).checkStore)
	want(t, r.rep, "config.store", OK, "0600 files", "")
	r = unit(t, Options{TokenStore: "vault"}, (*runner).checkStore)
	want(t, r.rep, "config.store", Fail, `"vault" (--token-store) is not a token store`, "use auto, keychain or file")

	defer func() { openStore = credstore.Open }()
	for _, c := range []struct {
		name        string
		open        func(context.Context, string, string, time.Duration) (credstore.Store, string, error)
		st          Status
		detail, fix string
	}{
		{"keychain answers", func(context.Context, string, string, time.Duration) (credstore.Store, string, error) {
			return fakeStore{credstore.KindKeychain}, "", nil
		}, OK, "OS keychain (--token-store=keychain), answered in", ""},
		{"keychain locked", func(context.Context, string, string, time.Duration) (credstore.Store, string, error) {
			return nil, "", errors.New("the OS keychain did not answer within 3s")
		}, Fail, "did not answer within 3s", "--token-store file"},
		{"auto falls back", func(context.Context, string, string, time.Duration) (credstore.Store, string, error) {
			return fakeStore{credstore.KindFile}, "meshai-mcp-server: the OS keychain is not usable (no D-Bus); tokens are kept in 0600 files", nil
		}, Warn, "the OS keychain is not usable (no D-Bus)", "MESHAI_TOKEN_STORE=file"},
	} {
		openStore = c.open
		r := unit(t, Options{TokenStore: "keychain"}, (*runner).checkStore)
		want(t, r.rep, "config.store", c.st, c.detail, c.fix)
	}
}
