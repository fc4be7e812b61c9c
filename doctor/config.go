package doctor

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// openStore opens the token store; tests replace it to simulate keychains.
var openStore = credstore.Open

// checkURL: the URL is well-formed, and https or http on a loopback host.
func (r *runner) checkURL(context.Context) {
	r.timed(func() Result {
		res := Result{ID: "config.url", Title: "MCP server URL"}
		u, err := url.Parse(r.opts.URL)
		switch {
		case err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https"):
			res.Status, res.Detail = Fail, fmt.Sprintf("%q is not an http(s) URL", textutil.RedactRawURL(r.opts.URL))
			res.Fix = "give the full MCP endpoint, e.g. " + config.DefaultURL
			return res
		case u.Scheme == "http" && !netutil.IsLoopback(u.Hostname()) && !r.opts.AllowHTTP:
			r.u = u
			res.Status, res.Detail = Fail, fmt.Sprintf("%s uses plain http to %s: tokens would travel unencrypted, and the bridge refuses it", textutil.RedactURL(u), u.Hostname())
			res.Fix = "use https://" + u.Host + u.EscapedPath() + " (or pass --allow-http if you really must)"
			return res
		case u.Scheme == "http" && !netutil.IsLoopback(u.Hostname()):
			r.u = u
			res.Status, res.Detail = Warn, fmt.Sprintf("%s uses plain http to %s (allowed by --allow-http): tokens travel unencrypted", textutil.RedactURL(u), u.Hostname())
			res.Fix = "use https as soon as the server offers it"
			return res
		}
		u.Fragment = ""
		r.u = u
		res.Status, res.Detail = OK, textutil.RedactURL(u)
		if u.Scheme == "http" {
			res.Detail += " (plain http on a loopback host: fine for a local server)"
		}
		return res
	})
}

// checkProxy names the proxy variables that are set and the proxy the requests will use, without credentials.
func (r *runner) checkProxy(context.Context) {
	r.timed(func() Result {
		res := Result{ID: "config.proxy", Title: "Proxy settings", Status: OK}
		var seen, bad []string
		for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
			v := r.opts.Getenv(name)
			if v == "" {
				continue
			}
			if strings.EqualFold(name, "NO_PROXY") {
				seen = append(seen, name)
				continue
			}
			p, err := parseProxy(v)
			if err != nil {
				bad = append(bad, name)
				seen = append(seen, name+" (unparseable)")
				continue
			}
			seen = append(seen, name+" → "+p.Host)
		}
		if len(seen) == 0 {
			res.Detail = "no proxy variables set: direct connections"
			return res
		}
		res.Detail = strings.Join(seen, ", ")
		if len(bad) > 0 {
			res.Status = Fail
			res.Fix = fmt.Sprintf("set %s to the proxy's URL, e.g. http://proxy.example.com:3128, or unset it", strings.Join(bad, ", "))
			return res
		}
		if r.u != nil {
			if p := proxyFor(r.u, r.opts.Getenv); p != nil {
				r.proxy = p
				res.Detail += "; requests to " + r.u.Host + " go through " + p.Host
			} else {
				res.Detail += "; requests to " + r.u.Host + " go direct"
			}
		}
		return res
	})
}

// checkConfigDir: the config directory exists (or can be made) and is writable.
func (r *runner) checkConfigDir(context.Context) {
	r.timed(func() Result {
		res := Result{ID: "config.dir", Title: "Config directory"}
		dir, from, err := r.configDir()
		if err != nil {
			res.Status, res.Detail = Fail, err.Error()
			res.Fix = "set " + config.EnvConfigDir + " to a writable directory"
			return res
		}
		if err := writable(dir); err != nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("%s (%s) is not writable: %v", dir, from, err)
			res.Fix = "make it writable, or set " + config.EnvConfigDir + " to a directory you can write"
			return res
		}
		res.Status, res.Detail = OK, fmt.Sprintf("%s (%s) is writable", dir, from)
		return res
	})
}

// checkStore opens the token store the bridge would use and says how fast the keychain answered.
func (r *runner) checkStore(ctx context.Context) {
	kind, from := r.opts.TokenStore, "--token-store"
	if kind == "" {
		kind, from = r.opts.Getenv(config.EnvTokenStore), config.EnvTokenStore
	}
	if kind == "" {
		kind, from = credstore.KindAuto, "default"
	}
	dir, _, _ := r.configDir()
	r.timed(func() Result {
		res := Result{ID: "config.store", Title: "Token store"}
		start := time.Now()
		s, warning, err := openStore(ctx, kind, dir, 0)
		took := fmt.Sprintf("%d ms", time.Since(start).Milliseconds())
		switch {
		case err != nil && strings.Contains(err.Error(), "unknown token store"):
			res.Status, res.Detail = Fail, fmt.Sprintf("%q (%s) is not a token store", kind, from)
			res.Fix = "use auto, keychain or file (--token-store or " + config.EnvTokenStore + ")"
		case err != nil:
			res.Status, res.Detail = Fail, fmt.Sprintf("%s (%s): %s (after %s)", kind, from, textutil.OneLine(err.Error()), took)
			res.Fix = "unlock the OS keychain (on Linux: start a Secret Service such as gnome-keyring), or use --token-store file (" + config.EnvTokenStore + "=file)"
		case warning != "":
			r.store = s
			res.Status = Warn
			res.Detail = fmt.Sprintf("%s (%s): %s; the keychain probe took %s", kind, from, strings.TrimPrefix(warning, "meshai-mcp-server: "), took)
			res.Fix = "unlock or set up the OS keychain, or choose the files explicitly with " + config.EnvTokenStore + "=file"
		case s.Kind() == credstore.KindKeychain:
			r.store = s
			res.Status, res.Detail = OK, fmt.Sprintf("OS keychain (%s=%s), answered in %s", from, kind, took)
		default:
			r.store = s
			res.Status, res.Detail = OK, fmt.Sprintf("0600 files in %s (%s=%s; the keychain is not used)", filepath.Join(dir, "tokens"), from, kind)
		}
		return res
	})
}

// configDir is the directory the bridge uses, and where that choice came from: Options.ConfigDir, else the
// bridge's own rule (config.ResolveDir) read through Getenv.
func (r *runner) configDir() (dir, from string, err error) {
	from = "OS default"
	if env := r.opts.Getenv(config.EnvConfigDir); env != "" && (r.opts.ConfigDir == "" || r.opts.ConfigDir == env) {
		from = config.EnvConfigDir
	}
	if r.opts.ConfigDir != "" {
		return r.opts.ConfigDir, from, nil
	}
	d, err := config.ResolveDir(r.opts.Getenv)
	return d.Path, from, err
}

// writable creates dir if needed and writes and removes a file in it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := f.WriteString("meshai-mcp-server doctor")
	cerr := f.Close()
	rerr := os.Remove(name)
	for _, e := range []error{werr, cerr, rerr} {
		if e != nil {
			return e
		}
	}
	return nil
}

// parseProxy reads a proxy variable the way net/http does: a bare host:port means http://host:port.
func parseProxy(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + v); err2 == nil && u2.Host != "" {
			return u2, nil
		}
		if err == nil {
			err = fmt.Errorf("no host")
		}
		return nil, err
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return u, nil
	}
	return nil, fmt.Errorf("unsupported proxy scheme %q", u.Scheme)
}

// proxyFor returns the proxy requests to u use under the environment, as net/http decides it (loopback hosts
// and NO_PROXY matches go direct), or nil.
func proxyFor(u *url.URL, getenv func(string) string) *url.URL {
	get := func(a, b string) string {
		if v := getenv(a); v != "" {
			return v
		}
		return getenv(b)
	}
	raw := get("HTTP_PROXY", "http_proxy")
	if u.Scheme == "https" {
		raw = get("HTTPS_PROXY", "https_proxy")
	}
	host := strings.ToLower(u.Hostname())
	if raw == "" || netutil.IsLoopback(host) || noProxy(host, u.Port(), get("NO_PROXY", "no_proxy")) {
		return nil
	}
	p, err := parseProxy(raw)
	if err != nil {
		return nil
	}
	return p
}

// noProxy reports whether NO_PROXY exempts host.
func noProxy(host, port, list string) bool {
	ip := net.ParseIP(host)
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			return true
		}
		if _, n, err := net.ParseCIDR(e); err == nil {
			if ip != nil && n.Contains(ip) {
				return true
			}
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if p != port {
				continue
			}
			e = h
		}
		e = strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
		if host == e || strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}
