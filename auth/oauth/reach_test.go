package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

func TestIsLocal(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:8080/mcp":     true,
		"http://localhost/mcp":          true,
		"http://[::1]:9000/mcp":         true,
		"http://10.1.2.3/mcp":           true,
		"https://192.168.1.20/mcp":      true,
		"https://mcp.example.com/mcp":   false,
		"https://203.0.114.9/mcp":       false,
		"https://localhost.example.com": false,
	} {
		u, _ := url.Parse(raw)
		if got := IsLocal(u); got != want {
			t.Errorf("IsLocal(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestCheckServerNamedURL(t *testing.T) {
	for _, c := range []struct {
		raw    string
		local  bool   // the MCP server is local
		reason string // a word of the refusal; "" = allowed
	}{
		{"https://as.example.com/token", false, ""},
		{"https://203.0.114.9/token", false, ""},
		{"http://as.example.com/token", false, "plain http"},
		{"http://127.0.0.1:2375/v1.41/images/create?fromImage=x", false, "loopback"},
		{"https://127.0.0.1:2375/v1.41/images/create", false, "loopback"},
		{"https://localhost:8443/register", false, "localhost"},
		{"https://app.localhost/register", false, "localhost"},
		{"https://[::1]/register", false, "loopback"},
		{"https://[::ffff:127.0.0.1]/register", false, "loopback"},
		{"https://[::ffff:7f00:1]/register", false, "loopback"},
		{"https://0.0.0.0:2375/", false, "unspecified"},
		{"https://[::]:2375/", false, "unspecified"},
		{"https://10.0.0.1/", false, "RFC 1918"},
		{"https://172.20.0.1/", false, "RFC 1918"},
		{"https://192.168.0.1/", false, "RFC 1918"},
		{"https://100.100.100.200/", false, "carrier-grade NAT"},
		{"https://169.254.169.254/latest/meta-data/", false, "link-local"},
		{"https://[fe80::1%25eth0]/", false, "link-local"},
		{"https://[fd00::1]/", false, "unique local"},
		{"https://2130706433/", false, "unusual form"},
		{"https://127.1/", false, "unusual form"},
		{"https://0x7f000001/", false, "unusual form"},
		// A local server (the reference server in tests) may name its own loopback endpoints, over http too.
		{"http://127.0.0.1:2375/v1.41/images/create", true, ""},
		{"https://localhost:8443/register", true, ""},
		{"https://10.0.0.1/", true, ""},
	} {
		u, err := url.Parse(c.raw)
		if err != nil {
			t.Fatalf("%s: %v", c.raw, err)
		}
		err = CheckServerNamedURL("the authorization server metadata at https://as.example.com/.well-known/oauth-authorization-server", "registration_endpoint", u, c.local)
		if c.reason == "" {
			if err != nil {
				t.Errorf("%s (local %v): %v, want it allowed", c.raw, c.local, err)
			}
			continue
		}
		var ne *NamedURLError
		if !errors.As(err, &ne) {
			t.Errorf("%s: %v, want a *NamedURLError", c.raw, err)
			continue
		}
		msg := err.Error()
		for _, want := range []string{c.reason, "registration_endpoint", "authorization server metadata at https://as.example.com", u.Hostname()} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", c.raw, msg, want)
			}
		}
	}
}

// The endpoints of authorization server metadata are URLs the server named: for a server that is not local, one
// on a loopback host is refused with the document and the field; for a local one it is accepted.
func TestValidateEndpointsNamedLoopback(t *testing.T) {
	for _, field := range []string{"authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint",
		"device_authorization_endpoint", "userinfo_endpoint"} {
		m := map[string]string{"issuer": "https://as.example.com", "authorization_endpoint": "https://as.example.com/authorize",
			"token_endpoint": "https://as.example.com/token"}
		m[field] = "http://127.0.0.1:2375/v1.41/images/create?fromImage=evil"
		b, _ := json.Marshal(m)
		var md ServerMetadata
		if err := json.Unmarshal(b, &md); err != nil {
			t.Fatal(err)
		}
		md.MetadataURL = "https://as.example.com/.well-known/oauth-authorization-server"
		var ne *NamedURLError
		if err := md.validateEndpoints(false); !errors.As(err, &ne) || ne.Field != field || !strings.Contains(ne.Document, md.MetadataURL) {
			t.Errorf("%s: err = %v, want a *NamedURLError for it", field, err)
		}
		if err := md.validateEndpoints(true); err != nil {
			t.Errorf("%s, local server: %v", field, err)
		}
	}
}

// DiscoverServer refuses, before fetching anything, an issuer on a loopback host for a server that is not local.
func TestDiscoverServerNamedLoopbackIssuer(t *testing.T) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer s.Close()
	_, err := DiscoverServer(context.Background(), s.Client(), s.URL, false)
	var ne *NamedURLError
	if !errors.As(err, &ne) || ne.Field != "authorization_servers" || hits.Load() != 0 {
		t.Fatalf("err = %v, %d requests: want a *NamedURLError for authorization_servers and no request", err, hits.Load())
	}
}

// NamedURLClient's requests never connect to a non-public address when the MCP server is not local, even for a
// name that passes CheckServerNamedURL (as one resolving to 127.0.0.1 does): the dialer checks the address.
func TestNamedURLClientRefusesAtDial(t *testing.T) {
	var hits atomic.Int64
	rec := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer rec.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&netutil.Guard{}).DialContext
	hc := &http.Client{Transport: tr}
	port := rec.Listener.Addr().(interface{ String() string }).String()
	_, port, _ = strings.Cut(port, ":")
	for _, c := range []struct {
		name, server string
		refused      bool
	}{
		{"public MCP server", "https://mcp.example.com/mcp", true},
		{"local MCP server", "http://127.0.0.1:1/mcp", false},
		{"the MCP server's own host", "https://localhost:" + port + "/mcp", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			server, _ := url.Parse(c.server)
			before := hits.Load()
			resp, err := NamedURLClient(hc, server).Get("http://localhost:" + port + "/register")
			if resp != nil {
				resp.Body.Close()
			}
			var re *netutil.RefusedAddressError
			if c.refused {
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a *netutil.RefusedAddressError", err)
				}
				if hits.Load() != before {
					t.Fatal("the recorder was reached")
				}
				return
			}
			if err != nil || hits.Load() != before+1 {
				t.Fatalf("err = %v, hits %d: want the request through", err, hits.Load()-before)
			}
		})
	}
}

// A redirect from a server-named URL to a loopback one is refused for a server that is not local.
func TestNamedURLClientRedirect(t *testing.T) {
	s := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:2375/v1.41/info", http.StatusFound))
	defer s.Close()
	server, _ := url.Parse("https://mcp.example.com/mcp")
	_, err := NamedURLClient(s.Client(), server).Get(s.URL)
	var ne *NamedURLError
	if !errors.As(err, &ne) || ne.Field != "Location" {
		t.Fatalf("err = %v, want a *NamedURLError for Location", err)
	}
}

// A challenge of a server that is not local naming resource_metadata on a loopback host is refused unfetched.
func TestDiscoverResourceNamedLoopback(t *testing.T) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer s.Close()
	ch := FindBearer(ParseWWWAuthenticate([]string{`Bearer resource_metadata="` + s.URL + `/prm"`}))
	server, _ := url.Parse("https://mcp.example.com/mcp")
	_, err := DiscoverResource(context.Background(), s.Client(), server, ch)
	var ne *NamedURLError
	if !errors.As(err, &ne) || ne.Field != "resource_metadata" || hits.Load() != 0 {
		t.Fatalf("err = %v, %d requests: want a *NamedURLError for resource_metadata and no request", err, hits.Load())
	}
}
