package auth

import (
	"strings"
	"testing"
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
		if u.Scheme != "https" && !(u.Scheme == "http" && loopbackHostname(u.Hostname())) {
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
