package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

// testCert makes a CA and a leaf certificate for hosts (names or IPs) valid from notBefore to notAfter.
func testCert(t *testing.T, hosts []string, notBefore, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Doctor Test CA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour * 365),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// tlsServer serves h over TLS with cert.
func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// quietTLSServer is httptest.NewTLSServer without handshake-error logs.
func quietTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestTLS(t *testing.T) {
	now := time.Now()
	ok401 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://`+r.Host+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	good, pool := testCert(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	soon, soonPool := testCert(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(5*24*time.Hour))
	expired, expiredPool := testCert(t, []string{"127.0.0.1"}, now.Add(-60*24*time.Hour), now.Add(-24*time.Hour))
	other, otherPool := testCert(t, []string{"other.example"}, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	for _, c := range []struct {
		name        string
		srv         *httptest.Server
		pool        *x509.CertPool
		st          Status
		detail, fix string
	}{
		{"valid", tlsServer(t, good, ok401), pool, OK, "certificate for 127.0.0.1 issued by Doctor Test CA", ""},
		{"expiring soon", tlsServer(t, soon, ok401), soonPool, Warn, "(4 days)", "renew"},
		{"expired", tlsServer(t, expired, ok401), expiredPool, Fail, "has expired", "renew the certificate"},
		{"hostname mismatch", tlsServer(t, other, ok401), otherPool, Fail, "not valid for 127.0.0.1 (it is for other.example)", "check the host name"},
		{"unknown authority", quietTLSServer(t, ok401), nil, Fail, "signed by an unknown authority", "SSL_CERT_FILE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, Options{URL: c.srv.URL + "/mcp", RootCAs: c.pool})
			want(t, rep, "net.tls", c.st, c.detail, c.fix)
			if c.st == Fail {
				// The HTTP request meets the same problem and says the same.
				want(t, rep, "mcp.endpoint", Fail, "", c.fix)
			} else {
				want(t, rep, "mcp.endpoint", OK, "answered 401", "")
			}
		})
	}
}

func TestHTTPSToPlainHTTPPort(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	rep := run(t, Options{URL: "https://" + host + "/mcp"})
	want(t, rep, "net.tcp", OK, "accepts connections", "")
	want(t, rep, "net.tls", Fail, "first record does not look like a TLS handshake", "use http://"+host+"/mcp")
	want(t, rep, "mcp.endpoint", Fail, "plain HTTP", "use http://"+host+"/mcp")
}

func TestHTTPToHTTPSPort(t *testing.T) {
	srv := quietTLSServer(t, http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "https://")
	rep := run(t, Options{URL: "http://" + host + "/mcp"})
	want(t, rep, "mcp.endpoint", Fail, "HTTP request to an HTTPS server", "use https://"+host+"/mcp")
}

func TestNotTLSAtAll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			_ = c.Close()
		}
	}()
	rep := run(t, Options{URL: "https://" + ln.Addr().String() + "/mcp"})
	want(t, rep, "net.tls", Fail, "does not speak TLS", "check the port")
}

func TestConnectionRefused(t *testing.T) {
	addr := closedPort(t)
	rep := run(t, Options{URL: "http://" + addr + "/mcp"})
	want(t, rep, "net.tcp", Fail, "connection refused by "+addr+" (ECONNREFUSED)", "start the local server")
	want(t, rep, "mcp.endpoint", Fail, "ECONNREFUSED", "start the local server")
	want(t, rep, "oauth.prm", Skip, "did not answer 401", "")
	want(t, rep, "session.initialize", Skip, "did not answer", "")
	if rep.OK {
		t.Error("report OK")
	}
	rep = run(t, Options{URL: "https://" + addr + "/mcp"})
	want(t, rep, "net.tls", Skip, "no TCP connection", "")
}

func TestDNS(t *testing.T) {
	rep := run(t, Options{URL: "https://doesnotexist.invalid/mcp"})
	want(t, rep, "net.dns", Fail, "cannot resolve doesnotexist.invalid", "check the host name")
	want(t, rep, "mcp.endpoint", Fail, "", "check the host name")

	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	rep = run(t, Options{URL: "http://localhost:" + u.Port() + "/mcp"})
	want(t, rep, "net.dns", OK, "localhost →", "")
}

func TestDialFix(t *testing.T) {
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		raw     string
		err     error
		proxied bool
		fix     string
	}{
		{"https://127.0.0.1/v1/mcp", refused, false, "https without a port means port 443"},
		{"https://localhost/mcp", refused, false, "e.g. http://127.0.0.1:8080/mcp"},
		{"http://127.0.0.1:9/mcp", refused, false, "start the local server"},
		{"https://mcp.example.com/mcp", refused, false, "check the port in the URL"},
		{"https://mcp.example.com/mcp", context.DeadlineExceeded, false, "check your network, VPN or firewall"},
		{"https://mcp.example.com/mcp", refused, true, "check the proxy variables"},
	} {
		u, _ := url.Parse(c.raw)
		if got := dialFix(u, netutil.HostPort(u), c.err, c.proxied); !strings.Contains(got, c.fix) {
			t.Errorf("dialFix(%s, %v) = %q, want %q", c.raw, c.err, got, c.fix)
		}
	}
	if d := dialDetail("127.0.0.1:443", "the server", refused); !strings.Contains(d, "ECONNREFUSED") {
		t.Errorf("dialDetail = %q", d)
	}
	if d := dialDetail("h:1", "the server", context.DeadlineExceeded); !strings.Contains(d, "in time") {
		t.Errorf("dialDetail = %q", d)
	}
}

func TestTLSProblemOthers(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/mcp")
	for _, c := range []struct {
		err         error
		detail, fix string
	}{
		{x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}, "certificate of mcp.example.com:443 is invalid", "must fix the certificate"},
		{context.DeadlineExceeded, "did not finish in time", "check your network"},
		{errors.New("remote error: tls: handshake failure"), "TLS handshake with mcp.example.com:443 failed", "middlebox"},
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake", RecordHeader: [5]byte{'H', 'T', 'T', 'P', '/'}}, "plain HTTP", "--allow-http"},
	} {
		d, f := tlsProblem(u, c.err)
		if !strings.Contains(d, c.detail) || !strings.Contains(f, c.fix) {
			t.Errorf("tlsProblem(%v) = %q, %q; want %q, %q", c.err, d, f, c.detail, c.fix)
		}
	}
}

func TestTransportProblem(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/mcp?key=secret")
	d, f := transportProblem(u, &url.Error{Op: "Post", URL: u.String(), Err: errors.New("unexpected EOF")})
	if strings.Contains(d, "secret") || !strings.Contains(d, "unexpected EOF") || !strings.Contains(f, "HTTPS_PROXY") {
		t.Errorf("transportProblem = %q, %q", d, f)
	}
	d, f = transportProblem(u, &net.DNSError{Name: "mcp.example.com", Err: "no such host"})
	if !strings.Contains(d, "cannot resolve") || !strings.Contains(f, "typos") {
		t.Errorf("transportProblem(DNS) = %q, %q", d, f)
	}
	d, _ = transportProblem(u, fmt.Errorf("x: %w", errors.New("http: server gave HTTP response to HTTPS client")))
	if !strings.Contains(d, "plain HTTP") {
		t.Errorf("transportProblem(plain http) = %q", d)
	}
}
