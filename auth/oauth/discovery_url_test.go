package oauth

import (
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/netutil"
)

func TestValidateEndpointURL(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"https://as.example.com/authorize", true},
		{"https://as.example.com/authorize?audience=x&prompt=consent", true},
		{"http://127.0.0.1:8080/authorize", true},
		{"http://localhost:3000/token", true},
		{"http://[::1]:3000/token", true},
		{"HTTPS://AS.EXAMPLE.COM/a", true},
		{"http://as.example.com/authorize", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"data:text/html,<script>", false},
		{`https://x"; rm -rf ~`, false},
		{"https://x/$(id)", true}, // RFC 3986 sub-delims; never given to a shell as text
		{"https://x/`id`", false},
		{"https://x/'q'", false},
		{"https://x/a b", false},
		{"https://x/a\tb", false},
		{"https://x/a\nb", false},
		{"https://x/\x00", false},
		{"https://x/é", false},
		{"https://user:pw@as.example.com/authorize", false},
		{"https://as.example.com/authorize#frag", false},
		{"https:///authorize", false},
		{"https:as.example.com", false},
		{"/authorize", false},
		{"", false},
		{"https://x/<script>", false},
		{"https://x/%zz", false},
	}
	for _, tt := range tests {
		u, err := ValidateEndpointURL(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateEndpointURL(%q): err = %v, want ok=%v", tt.raw, err, tt.ok)
		}
		if err == nil && u == nil {
			t.Errorf("ValidateEndpointURL(%q): nil URL without error", tt.raw)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("ValidateEndpointURL(%q): error shows the user info: %v", tt.raw, err)
		}
	}
}

func FuzzValidateEndpointURL(f *testing.F) {
	for _, s := range []string{"https://as.example.com/authorize?x=1", "http://127.0.0.1:1/t", "javascript:alert(1)", `https://x"; rm -rf ~`, "file:///etc/passwd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ValidateEndpointURL(raw)
		if err != nil {
			return
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && netutil.IsLoopback(u.Hostname())) {
			t.Fatalf("accepted scheme %q in %q", u.Scheme, raw)
		}
		if u.User != nil || u.Fragment != "" || u.Host == "" {
			t.Fatalf("accepted %q", raw)
		}
		for _, r := range raw {
			if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"'`\\<>{}|^", r) {
				t.Fatalf("accepted %q with %q", raw, r)
			}
		}
		if u.String() != raw && strings.ContainsAny(u.String(), " \"'`") {
			t.Fatalf("re-serialized %q as %q", raw, u.String())
		}
	})
}

func TestBrowserURL(t *testing.T) {
	ok := []string{
		"https://auth.meshai.dev/oauth/authorize?client_id=a&state=b&code_challenge=c",
		"http://127.0.0.1:8080/authorize?x=1",
		"http://localhost/authorize",
		"http://[::1]:9/authorize",
	}
	for _, raw := range ok {
		if _, err := BrowserURL(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	bad := []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"http://auth.example.com/authorize",
		`https://x.example/a"; rm -rf ~`,
		"https://x.example/a b",
		"https://x.example/a\n",
		"https://x.example/`id`",
		"https://user:pass@x.example/",
		"//x.example/relative",
		"mailto:a@b.c",
		"",
	}
	for _, raw := range bad {
		if _, err := BrowserURL(raw); err == nil {
			t.Errorf("%q must be refused", raw)
		}
	}
}

// "$" is a valid URI character (RFC 3986 sub-delims) but BrowserURL refuses it: the flow's own parameters are
// percent-encoded, so only shell text put in an endpoint carries one.
func TestBrowserURLRefusesDollar(t *testing.T) {
	for _, raw := range []string{
		"https://127.0.0.1:8443/oauth/authorize$(touch$IFS./pwned)",
		"http://127.0.0.1:8080/oauth/authorize$(id)?client_id=a",
		"https://auth.example.com/authorize?state=$HOME",
		"https://auth.example.com/authorize?x=1&y=$",
		"https://auth.example.com/$",
	} {
		if _, err := ValidateEndpointURL(raw); err != nil {
			t.Fatalf("%q: the case must get past ValidateEndpointURL to test BrowserURL's own rule: %v", raw, err)
		}
		_, err := BrowserURL(raw)
		if err == nil || !strings.Contains(err.Error(), `contains "$", which has meaning to a shell`) {
			t.Errorf("%q: %v", raw, err)
		}
	}
	// Percent-encoded, as the flow's own parameters are, it is just data.
	for _, raw := range []string{
		"https://auth.example.com/authorize?state=%24HOME",
		"https://auth.example.com/authorize?login_hint=a%24b&x=(1)",
	} {
		if _, err := BrowserURL(raw); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}
