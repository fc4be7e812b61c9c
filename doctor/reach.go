package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// checkDNS resolves the server's host name.
func (r *runner) checkDNS(ctx context.Context) {
	const id, title = "net.dns", "DNS"
	switch {
	case r.u == nil:
		r.skip(id, title, "no usable URL")
		return
	case r.proxy != nil:
		r.skip(id, title, "requests go through the proxy "+r.proxy.Host+", which resolves "+r.u.Hostname())
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		host := r.u.Hostname()
		if net.ParseIP(host) != nil {
			res.Status, res.Detail = OK, host+" is an IP address: nothing to resolve"
			return res
		}
		sctx, cancel := r.step(ctx)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(sctx, host)
		if err != nil {
			res.Status, res.Detail = Fail, fmt.Sprintf("cannot resolve %s: %s", host, textutil.OneLine(err.Error()))
			res.Fix = "check the host name in the URL for typos, and your network, VPN or DNS settings"
			return res
		}
		res.Status, res.Detail = OK, fmt.Sprintf("%s → %s", host, strings.Join(addrs[:min(len(addrs), 4)], ", "))
		return res
	})
}

// checkTCP connects to the server's port, or to the proxy's.
func (r *runner) checkTCP(ctx context.Context) {
	const id, title = "net.tcp", "TCP connection"
	if r.u == nil {
		r.skip(id, title, "no usable URL")
		return
	}
	target, what := netutil.HostPort(r.u), "the server"
	if r.proxy != nil {
		target, what = netutil.HostPort(r.proxy), "the proxy"
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		start := time.Now()
		c, err := (&net.Dialer{}).DialContext(sctx, "tcp", target)
		if err != nil {
			res.Status, res.Detail, res.Fix = Fail, dialDetail(target, what, err), dialFix(r.u, target, err, r.proxy != nil)
			r.tcpFailed = true
			return res
		}
		_ = c.Close()
		res.Status, res.Detail = OK, fmt.Sprintf("%s (%s) accepts connections (%d ms)", target, what, time.Since(start).Milliseconds())
		return res
	})
}

// dialDetail says what went wrong connecting to target.
func dialDetail(target, what string, err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) && what != "the server":
		return fmt.Sprintf("connection refused by %s, %s (ECONNREFUSED): nothing is listening there", target, what)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused by %s (ECONNREFUSED): nothing is listening there", target)
	case netutil.IsTimeout(err):
		return fmt.Sprintf("no answer from %s (%s) in time", target, what)
	}
	return fmt.Sprintf("cannot connect to %s (%s): %s", target, what, textutil.OneLine(err.Error()))
}

// dialFix is the fix for a failed connection.
func dialFix(u *url.URL, target string, err error, proxied bool) string {
	switch {
	case proxied:
		return "check the proxy variables (HTTPS_PROXY, HTTP_PROXY): the proxy does not accept connections"
	case errors.Is(err, syscall.ECONNREFUSED) && u.Scheme == "https" && u.Port() == "" && netutil.IsLoopback(u.Hostname()):
		return "https without a port means port 443, where nothing runs on this machine: a local server usually " +
			"listens on plain http on its own port — use its real address, e.g. http://127.0.0.1:8080/mcp"
	case errors.Is(err, syscall.ECONNREFUSED) && netutil.IsLoopback(u.Hostname()):
		return "start the local server, or put the port it really listens on in the URL"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "check the port in the URL; if it is right, the server is down — try again later or ask its operator"
	}
	return "check your network, VPN or firewall, and HTTPS_PROXY if you are behind a proxy"
}

// checkTLS shakes hands with the server and names certificate problems.
func (r *runner) checkTLS(ctx context.Context) {
	const id, title = "net.tls", "TLS"
	switch {
	case r.u == nil:
		r.skip(id, title, "no usable URL")
		return
	case r.u.Scheme != "https":
		r.skip(id, title, "plain http: no TLS")
		return
	case r.proxy != nil:
		r.skip(id, title, "through the proxy "+r.proxy.Host+": the HTTP checks below test TLS through it")
		return
	case r.tcpFailed:
		r.skip(id, title, "no TCP connection (see above)")
		return
	}
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		d := &tls.Dialer{Config: &tls.Config{ServerName: r.u.Hostname(), RootCAs: r.opts.RootCAs, MinVersion: tls.VersionTLS12}}
		c, err := d.DialContext(sctx, "tcp", netutil.HostPort(r.u))
		if err != nil {
			res.Status = Fail
			res.Detail, res.Fix = tlsProblem(r.u, err)
			return res
		}
		defer c.Close()
		st := c.(*tls.Conn).ConnectionState()
		leaf := st.PeerCertificates[0]
		left := time.Until(leaf.NotAfter)
		res.Status = OK
		res.Detail = fmt.Sprintf("%s, certificate for %s issued by %s, valid until %s (%d days)",
			tls.VersionName(st.Version), certName(leaf), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))
		if left < 14*24*time.Hour {
			res.Status = Warn
			res.Fix = "the certificate expires in less than 14 days: the server's operator should renew it"
		}
		return res
	})
}

// tlsProblem names a failed handshake and its fix.
func tlsProblem(u *url.URL, err error) (detail, fix string) {
	host := netutil.HostPort(u)
	var (
		rec  tls.RecordHeaderError
		unk  x509.UnknownAuthorityError
		hn   x509.HostnameError
		cinv x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &rec) && strings.HasPrefix(string(rec.RecordHeader[:]), "HTTP/"):
		detail = fmt.Sprintf("%s answered the TLS handshake in plain HTTP (\"first record does not look like a TLS handshake\"): it is an http port, not https", host)
		if netutil.IsLoopback(u.Hostname()) {
			return detail, fmt.Sprintf("use http://%s%s", u.Host, u.EscapedPath())
		}
		return detail, "use the server's https port, or http://" + u.Host + u.EscapedPath() + " with --allow-http if the server really has no TLS (tokens would travel unencrypted)"
	case errors.As(err, &rec):
		return fmt.Sprintf("%s does not speak TLS (first record does not look like a TLS handshake)", host),
			"check the port in the URL: something other than an https server listens there"
	case errors.As(err, &cinv) && cinv.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s has expired or is not yet valid (%s)", host, textutil.OneLine(cinv.Error())),
			"the server's operator must renew the certificate; if it looks valid in a browser, check this machine's clock"
	case errors.As(err, &hn):
		return fmt.Sprintf("the certificate of %s is not valid for %s (it is for %s)", host, u.Hostname(), certName(hn.Certificate)),
			"check the host name in the URL; if it is right, the server's operator must fix the certificate"
	case errors.As(err, &unk):
		return fmt.Sprintf("the certificate of %s is signed by an unknown authority (%s)", host, unknownIssuer(unk)),
			"behind a corporate proxy or with a private CA, point SSL_CERT_FILE at its CA bundle; otherwise the server's operator must use a publicly trusted certificate"
	case errors.As(err, &cinv):
		return fmt.Sprintf("the certificate of %s is invalid: %s", host, textutil.OneLine(cinv.Error())),
			"the server's operator must fix the certificate"
	case errors.Is(err, syscall.ECONNREFUSED):
		return dialDetail(host, "the server", err), dialFix(u, host, err, false)
	case netutil.IsTimeout(err):
		return fmt.Sprintf("the TLS handshake with %s did not finish in time", host), "check your network, VPN or firewall"
	}
	return fmt.Sprintf("TLS handshake with %s failed: %s", host, textutil.OneLine(err.Error())), "check the URL's port and scheme; a middlebox may be interfering"
}

// certName is the names a certificate is for.
func certName(c *x509.Certificate) string {
	if c == nil {
		return "unknown names"
	}
	names := c.DNSNames
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return c.Subject.CommonName
	}
	return strings.Join(names[:min(len(names), 4)], ", ")
}

// unknownIssuer names who signed a certificate nobody here trusts.
func unknownIssuer(e x509.UnknownAuthorityError) string {
	if e.Cert == nil {
		return "issuer unknown"
	}
	if e.Cert.Issuer.CommonName != "" {
		return "issuer " + e.Cert.Issuer.CommonName
	}
	if len(e.Cert.Issuer.Organization) > 0 {
		return "issuer " + e.Cert.Issuer.Organization[0]
	}
	return "self-signed or private CA"
}
