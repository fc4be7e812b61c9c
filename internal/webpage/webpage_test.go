package webpage

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/devserver"
)

// hdr builds a header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

const challengePage = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body></body></html>`

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		name   string
		h      http.Header
		body   string
		want   Page
		wantEv []string // the evidence, in order
	}{
		{name: "JSON", h: hdr("Content-Type", "application/json"), body: `{"error":"invalid_grant"}`},
		{name: "empty", h: hdr()},
		{name: "plain text", h: hdr("Content-Type", "text/plain"), body: "Bad Gateway"},
		{name: "XML is not a web page", h: hdr("Content-Type", "application/xml"), body: `<?xml version="1.0"?><error/>`},
		{name: "HTML by media type", h: hdr("Content-Type", "text/html; charset=utf-8"), body: "Sign in",
			want: Page{IsHTML: true}},
		{name: "XHTML", h: hdr("Content-Type", "application/xhtml+xml"), body: "<html><title>x</title></html>",
			want: Page{IsHTML: true, Title: "x"}},
		{name: "HTML behind a JSON media type", h: hdr("Content-Type", "application/json"), body: "\n <html><head><TITLE>Log in</TITLE></head></html>",
			want: Page{IsHTML: true, Title: "Log in"}},
		{name: "HTML without a media type", h: hdr(), body: "<!doctype html><body>hi</body>", want: Page{IsHTML: true}},
		{name: "title cleaned and unescaped", h: hdr("Content-Type", "text/html"), body: "<title>\n  Sign\tin &amp; \x07go  </title>",
			want: Page{IsHTML: true, Title: "Sign in & go"}},
		{name: "long title cut", h: hdr("Content-Type", "text/html"), body: "<title>" + strings.Repeat("a", 200) + "</title>",
			want: Page{IsHTML: true, Title: strings.Repeat("a", 79) + "…"}},
		{name: "Cloudflare challenge, every marker",
			h:      hdr("Content-Type", "text/html; charset=UTF-8", "Cf-Mitigated", "challenge", "Server", "cloudflare", "Cf-Ray", "8f00-AMS"),
			body:   challengePage,
			want:   Page{IsHTML: true, Title: "Just a moment...", Via: Cloudflare, Challenge: Cloudflare},
			wantEv: []string{"cf-mitigated: challenge", "server: cloudflare", "cf-ray: 8f00-AMS", `title "Just a moment..."`}},
		{name: "cf-mitigated alone", h: hdr("Cf-Mitigated", "Challenge"), body: "",
			want: Page{Challenge: Cloudflare}, wantEv: []string{"cf-mitigated: challenge"}},
		{name: "the interstitial's title alone (no headers known)", h: hdr("Content-Type", "text/html"), body: challengePage,
			want: Page{IsHTML: true, Title: "Just a moment...", Challenge: Cloudflare}, wantEv: []string{`title "Just a moment..."`}},
		{name: "Cloudflare's block page", h: hdr("Content-Type", "text/html", "Server", "cloudflare"),
			body:   "<title>Attention Required! | Cloudflare</title>",
			want:   Page{IsHTML: true, Title: "Attention Required! | Cloudflare", Via: Cloudflare, Challenge: Cloudflare},
			wantEv: []string{"server: cloudflare", `title "Attention Required! | Cloudflare"`}},
		{name: "a page from Cloudflare loading its challenge platform", h: hdr("Content-Type", "text/html", "Cf-Ray", "1-X"),
			body: `<html><title>One more step</title><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></html>`,
			want: Page{IsHTML: true, Title: "One more step", Via: Cloudflare, Challenge: Cloudflare}, wantEv: []string{"cf-ray: 1-X"}},
		{name: "JSON through Cloudflare is no challenge", h: hdr("Content-Type", "application/json", "Server", "cloudflare", "Cf-Ray", "2-Y"),
			body: `{"error":"invalid_client"}`, want: Page{Via: Cloudflare}, wantEv: []string{"server: cloudflare", "cf-ray: 2-Y"}},
		{name: "the origin's login page through Cloudflare is no challenge", h: hdr("Content-Type", "text/html", "Server", "cloudflare"),
			body: "<title>Sign in</title>", want: Page{IsHTML: true, Title: "Sign in", Via: Cloudflare}, wantEv: []string{"server: cloudflare"}},
		{name: "a hostile cf-ray is quoted safely", h: hdr("Cf-Ray", "a\x1b[31mb"+strings.Repeat("c", 100)),
			want: Page{Via: Cloudflare}, wantEv: []string{"cf-ray: a [31mb" + strings.Repeat("c", 72) + "…"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Describe(c.h, []byte(c.body))
			c.want.Evidence = c.wantEv
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Describe = %+v\nwant       %+v", got, c.want)
			}
			if why := (Page{Evidence: c.wantEv}).Why(); why != strings.Join(c.wantEv, ", ") {
				t.Errorf("Why = %q", why)
			}
		})
	}
}

// The reference server's fault pages are described as what they imitate.
func TestDescribeReferenceServerFaults(t *testing.T) {
	for _, c := range []struct {
		fault     devserver.Fault
		method    string
		path      string
		challenge string
		html      bool
	}{
		{devserver.FaultBotChallenge, http.MethodPost, "/v1/mcp", Cloudflare, true},
		{devserver.FaultCloudflareToken, http.MethodPost, "/oauth/token", Cloudflare, true},
		{devserver.FaultPRMHTML, http.MethodGet, "/.well-known/oauth-protected-resource", "", true},
		{devserver.FaultHTML401, http.MethodPost, "/v1/mcp", "", true},
		{devserver.FaultRateLimitToken, http.MethodPost, "/oauth/token", "", false},
		{devserver.FaultExchangeInvalidGrant, http.MethodPost, "/oauth/token", "", false},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			r, err := devserver.Listen("127.0.0.1:0", devserver.Config{OAuth: true, Faults: []devserver.Fault{c.fault}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			req, _ := http.NewRequest(c.method, r.URL+c.path, strings.NewReader("grant_type=authorization_code"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := Describe(resp.Header, body)
			if p.Challenge != c.challenge || p.IsHTML != c.html {
				t.Errorf("%d %q: %+v, want challenge %q, HTML %v", resp.StatusCode, body, p, c.challenge, c.html)
			}
		})
	}
}
