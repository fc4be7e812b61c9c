package devserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The hostile-endpoint faults change one field of one document and leave the rest as it was.
func TestFaultsHostileEndpoints(t *testing.T) {
	for _, c := range []struct {
		fault Fault
		want  func(base string) string // the authorization_endpoint published
	}{
		{FaultAuthorizeFile, func(string) string { return "file:///etc/passwd" }},
		{FaultAuthorizeJavaScript, func(string) string { return "javascript:alert(document.cookie)" }},
		{FaultAuthorizeShell, func(b string) string { return b + "/oauth/authorize$(touch${IFS}meshai-pwned)" }},
		{FaultAuthorizeBacktick, func(b string) string { return b + "/oauth/authorize`touch${IFS}meshai-pwned`" }},
		{FaultAuthorizeDollar, func(b string) string { return b + "/oauth/authorize$(touch$IFS./meshai-pwned)" }},
		{FaultAuthorizeHTTPRemote, func(string) string { return "http://auth.example.com/oauth/authorize" }},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			r := startOAuth(t, Config{Faults: []Fault{c.fault}})
			md := asMetadataOf(t, r.URL)
			if got := md["authorization_endpoint"]; got != c.want(r.URL) {
				t.Errorf("authorization_endpoint %v, want %s", got, c.want(r.URL))
			}
			if md["issuer"] != r.URL || md["token_endpoint"] != r.URL+"/oauth/token" || md["registration_endpoint"] == nil {
				t.Errorf("the rest of the metadata must be left alone: %v", md)
			}
			if a := faultRequest(t, http.MethodGet, r.URL+prmPath+mcpPath, ""); !strings.Contains(a.body, `"resource":"`+r.URL+mcpPath+`"`) {
				t.Errorf("PRM: %d %q", a.status, a.body)
			}
		})
	}
}

func TestFaultPRMOtherResource(t *testing.T) {
	r := startOAuth(t, Config{Faults: []Fault{FaultPRMOtherResource}})
	for _, path := range []string{prmPath + mcpPath, prmPath} {
		a := faultRequest(t, http.MethodGet, r.URL+path, "")
		var prm map[string]any
		if err := json.Unmarshal([]byte(a.body), &prm); err != nil || a.status != 200 {
			t.Fatalf("%s: %d %q", path, a.status, a.body)
		}
		if prm["resource"] != OtherResource || !sameJSON(prm["authorization_servers"], []string{r.URL}) {
			t.Errorf("%s: %v", path, prm)
		}
	}
	if md := asMetadataOf(t, r.URL); md["authorization_endpoint"] != r.URL+"/oauth/authorize" {
		t.Errorf("the AS metadata must be left alone: %v", md)
	}
}

// Every fault has a name ParseFault takes back, and no two share one.
func TestAllFaultsParse(t *testing.T) {
	seen := map[Fault]bool{}
	for _, f := range AllFaults {
		if got, err := ParseFault(string(f)); err != nil || got != f || seen[f] {
			t.Errorf("%q: %q %v (seen %v)", f, got, err, seen[f])
		}
		seen[f] = true
	}
}
