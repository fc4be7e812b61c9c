// Package textutil makes text safe to put in a message or a log line: on one line, printable, bounded, and
// without the parts of a URL that may carry a credential. It imports nothing of the project.
package textutil

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine squeezes s onto one line: runs of white space, line breaks included, become one space.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// snippetMax bounds what Snippet quotes of a body, in characters.
const snippetMax = 200

// Snippet is a short excerpt of an answer's body for a message: on one line, without control characters, at
// most 200 characters (… when cut), or "(empty body)".
func Snippet(b []byte) string {
	if s := Quote(b, snippetMax); s != "" {
		return s
	}
	return "(empty body)"
}

// Quote makes a server's words safe to quote: control characters become spaces, white space is squeezed onto
// one line, and the text is cut to max characters, ending in … when cut. Bytes that are not UTF-8 are dropped.
func Quote(b []byte, max int) string {
	var out strings.Builder
	out.Grow(min(len(b), max*utf8.UTFMax+1))
	// Reading stops at the first character past max: a body of megabytes is not read whole, and a page that
	// opens with a kilobyte of blank lines still shows its words.
	n, gap := 0, false
	for len(b) > 0 && n <= max {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size <= 1: // not UTF-8
		case unicode.IsSpace(r) || unicode.IsControl(r):
			gap = n > 0
		default:
			if gap {
				out.WriteByte(' ')
				n, gap = n+1, false
			}
			out.WriteRune(r)
			n++
		}
	}
	if n > max {
		return string([]rune(out.String())[:max-1]) + "…"
	}
	return out.String()
}

// RedactURL shows u without user info and with its query elided: either may carry a credential.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

// RedactRawURL is RedactURL for a string that may not parse. Then it is cut at the first ? or #, and what may be
// user info, from the scheme's // (or the start) to the last @, becomes …: the password stands before the @.
func RedactRawURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return RedactURL(u)
	}
	s, cut := raw, false
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s, cut = s[:i], true
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		start := 0
		if i := strings.Index(s, "//"); i >= 0 && i < at {
			start = i + 2
		}
		s = s[:start] + "…" + s[at:]
	}
	if cut {
		s += "…"
	}
	return s
}

// ScrubError is err's text with the URL of a *url.Error in it redacted (RedactRawURL): net/http's errors print
// the whole URL, query and user info included. The URL is matched as url.Error prints it, quoted (a " or \ in
// it is escaped then), and as it is.
func ScrubError(err error) string {
	text := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		safe := RedactRawURL(ue.URL)
		text = strings.ReplaceAll(text, strconv.Quote(ue.URL), strconv.Quote(safe))
		text = strings.ReplaceAll(text, ue.URL, safe)
	}
	return text
}
