// Package webpage tells an HTTP answer that is a web page (a login page, a proxy's error page, a bot-protection
// challenge) from the API answer a client expected, by one rule for every part of the bridge. It states facts
// and gives no advice; it imports nothing of the project.
package webpage

import (
	"html"
	"mime"
	"net/http"
	"regexp"
	"strings"
)

// Cloudflare is the vendor name Describe gives Cloudflare's challenges and answers.
const Cloudflare = "Cloudflare"

// maxText bounds what Describe quotes of a server's words (a title, a header value).
const maxText = 80

// Page is what an HTTP answer shows of itself.
type Page struct {
	IsHTML    bool     // a web page: an HTML media type, or a body that sniffs as HTML (WHATWG MIME sniffing)
	Title     string   // the page's <title>, whitespace collapsed, at most 80 characters; "" when none
	Via       string   // the proxy or CDN whose headers the answer carries ("Cloudflare"); "" when none
	Challenge string   // the vendor of the bot-protection challenge or block page this is ("Cloudflare"); "" when it is none
	Evidence  []string // what named Via or Challenge: "cf-mitigated: challenge", "server: cloudflare", "cf-ray: …", `title "Just a moment..."`
}

// Describe reads the facts of an answer from its headers and the start of its body. A Cloudflare challenge is
// an answer marked cf-mitigated: challenge, or a web page whose title is one of Cloudflare's interstitials, or
// a web page from Cloudflare (server: cloudflare or cf-ray) that loads its challenge platform. Cloudflare's
// headers alone only set Via: every answer Cloudflare proxies has them.
func Describe(h http.Header, body []byte) Page {
	p := Page{IsHTML: IsHTML(h.Get("Content-Type"), body)}
	if p.IsHTML {
		p.Title = title(body)
	}
	mitigated := strings.EqualFold(strings.TrimSpace(h.Get("Cf-Mitigated")), "challenge")
	server := strings.EqualFold(strings.TrimSpace(h.Get("Server")), "cloudflare")
	ray := clean(h.Get("Cf-Ray"))
	interstitial := p.IsHTML && cloudflareTitle(p.Title)
	if mitigated {
		p.Evidence = append(p.Evidence, "cf-mitigated: challenge")
	}
	if server {
		p.Evidence = append(p.Evidence, "server: cloudflare")
	}
	if ray != "" {
		p.Evidence = append(p.Evidence, "cf-ray: "+ray)
	}
	if interstitial {
		p.Evidence = append(p.Evidence, `title "`+p.Title+`"`)
	}
	if server || ray != "" {
		p.Via = Cloudflare
	}
	platform := p.IsHTML && p.Via == Cloudflare && challengePlatform.Match(body)
	if mitigated || interstitial || platform {
		p.Challenge = Cloudflare
	}
	return p
}

// Why is the evidence as one phrase, e.g. "cf-mitigated: challenge, server: cloudflare"; "" when there is none.
func (p Page) Why() string { return strings.Join(p.Evidence, ", ") }

// IsHTML reports a web page: by its media type (text/html, application/xhtml+xml), or, whatever the media type
// says, by a body that sniffs as HTML.
func IsHTML(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	return strings.HasPrefix(http.DetectContentType(body), "text/html")
}

// cloudflareTitle reports the titles of Cloudflare's challenge and block pages.
func cloudflareTitle(t string) bool {
	return strings.EqualFold(t, "Just a moment...") || strings.EqualFold(t, "Just a moment…") ||
		strings.HasPrefix(t, "Attention Required! | Cloudflare")
}

// challengePlatform matches the scripts and forms of Cloudflare's challenge pages.
var challengePlatform = regexp.MustCompile(`/cdn-cgi/challenge-platform/|challenges\.cloudflare\.com|__cf_chl_`)

// titleRE finds a page's title.
var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title`)

// title returns the page's title, unescaped and cleaned, or "".
func title(body []byte) string {
	m := titleRE.FindSubmatch(body[:min(len(body), 16<<10)])
	if m == nil {
		return ""
	}
	return clean(html.UnescapeString(string(m[1])))
}

// clean makes a server's words safe to quote: one line, printable, at most maxText characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxText {
		s = string(r[:maxText-1]) + "…"
	}
	return s
}
