package textutil

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"  a \n\tb\r\n  c  ":     "a b c",
		"no change":              "no change",
		"line one\nline two\n\n": "line one line two",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "(empty body)"},
		{"white space only", []byte(" \n\t "), "(empty body)"},
		{"plain", []byte("bad gateway"), "bad gateway"},
		{"lines squeezed", []byte("<html>\n  <body>denied</body>\n</html>"), "<html> <body>denied</body> </html>"},
		{"control characters", []byte("a\x00b\x1bc\x7fd\u0085e"), "a b c d e"},
		{"cut at 200", []byte(long), strings.Repeat("x", 199) + "…"},
		{"exactly 200", []byte(long[:200]), long[:200]},
		{"not UTF-8", []byte("ok\xff\xfe!"), "ok!"},
		{"multibyte cut on a character", []byte(strings.Repeat("é", 250)), strings.Repeat("é", 199) + "…"},
		{"a kilobyte of blank lines first", []byte(strings.Repeat("\n", 1000) + "<p>denied</p>"), "<p>denied</p>"},
		{"cut after a long gap", []byte(strings.Repeat(" \t", 1000) + long), strings.Repeat("x", 199) + "…"},
		{"200 and a trailing gap", []byte(long[:200] + strings.Repeat(" ", 1000)), long[:200]},
		{"200 and one more word", []byte(long[:200] + "\n y"), long[:199] + "…"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Snippet(c.in); got != c.want {
				t.Errorf("Snippet(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// FuzzQuote holds Quote to its definition on the whole input: control characters to spaces, fields joined by
// one space, cut to max characters; it must read no further than it needs to get there.
func FuzzQuote(f *testing.F) {
	for _, seed := range []string{"", "a b", "a\x00b\u0085c", "ok\xff\xfe!", strings.Repeat(" ", 900) + "x", strings.Repeat("é ", 30)} {
		f.Add([]byte(seed), 20)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 300 {
			return
		}
		want := OneLine(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(string(b), "")))
		if r := []rune(want); len(r) > max {
			want = string(r[:max-1]) + "…"
		}
		if got := Quote(b, max); got != want {
			t.Errorf("Quote(%q, %d) = %q, want %q", b, max, got, want)
		}
	})
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://u:p@h.example/mcp?key=secret#frag": "https://h.example/mcp?…",
		"https://h.example/mcp":                     "https://h.example/mcp",
		"http://[::1]:8080/mcp?x=1":                 "http://[::1]:8080/mcp?…",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
		if got := RedactRawURL(raw); got != want {
			t.Errorf("RedactRawURL(%q) = %q, want %q", raw, got, want)
		}
	}
	// Strings that do not parse: the password stands before the @, the query after the ?.
	for raw, want := range map[string]string{
		"%zz?key=secret":                            "%zz…",
		"%zz-user:secret@h.example":                 "…@h.example",
		"https://user:secret@h.example:bad/mcp":     "https://…@h.example:bad/mcp",
		"https://user:se%zz@h.example/mcp":          "https://…@h.example/mcp",
		"https://user:p@secret@h.example:bad/mcp":   "https://…@h.example:bad/mcp",
		"https://user:secret@h.example:bad/?k=v@x":  "https://…@h.example:bad/…",
		"https://h.example/%zz#access_token=secret": "https://h.example/%zz…",
		"https://h.example:bad/mcp?key=secret#frag": "https://h.example:bad/mcp…",
		"%zz-nothing-to-hide":                       "%zz-nothing-to-hide",
	} {
		got := RedactRawURL(raw)
		if got != want {
			t.Errorf("RedactRawURL(%q) = %q, want %q", raw, got, want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("RedactRawURL(%q) shows a credential: %q", raw, got)
		}
	}
}

func TestScrubError(t *testing.T) {
	ue := &url.Error{Op: "Post", URL: "https://u:pw@h.example/mcp?key=secret", Err: errors.New("EOF")}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"url.Error", ue, `Post "https://h.example/mcp?…": EOF`},
		{"wrapped", fmt.Errorf("initialize: %w", ue), `initialize: Post "https://h.example/mcp?…": EOF`},
		{"no URL in it", errors.New("plain"), "plain"},
		{"quote in the query", &url.Error{Op: "Get", URL: `https://h.example/mcp?key="secret`, Err: errors.New("EOF")},
			`Get "https://h.example/mcp?…": EOF`},
		{"backslash in the query", &url.Error{Op: "Get", URL: `https://h.example/mcp?key=a\secret`, Err: errors.New("EOF")},
			`Get "https://h.example/mcp?…": EOF`},
		{"does not parse", &url.Error{Op: "parse", URL: "https://user:secret@h.example:bad/mcp", Err: errors.New(`invalid port ":bad" after host`)},
			`parse "https://…@h.example:bad/mcp": invalid port ":bad" after host`},
		{"control character", &url.Error{Op: "parse", URL: "https://h.example/mcp?key=\x7fsecret", Err: errors.New("invalid control character in URL")},
			`parse "https://h.example/mcp…": invalid control character in URL`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ScrubError(c.err)
			if got != c.want {
				t.Errorf("ScrubError = %q, want %q", got, c.want)
			}
			if strings.Contains(got, "secret") || strings.Contains(got, "pw") {
				t.Errorf("a credential shows: %q", got)
			}
		})
	}
	// Errors as net/http's Client makes them, from a transport that fails and from URLs that do not parse.
	hc := &http.Client{Transport: failing{}}
	for raw, want := range map[string]string{
		"http://user:pw@127.0.0.1:1/mcp?key=secret":   "127.0.0.1:1/mcp?…",
		`http://127.0.0.1:1/mcp?key="secret`:          "127.0.0.1:1/mcp?…",
		`http://127.0.0.1:1/mcp?key=\secret`:          "127.0.0.1:1/mcp?…",
		"http://127.0.0.1:1/mcp?key=\x7fsecret":       "127.0.0.1:1/mcp…",
		"http://user:pw@127.0.0.1:bad/mcp?key=secret": "…@127.0.0.1:bad/mcp…",
	} {
		_, err := hc.Get(raw)
		if err == nil {
			t.Fatalf("Get(%q) did not fail", raw)
		}
		if got := ScrubError(err); strings.Contains(got, "secret") || strings.Contains(got, "pw") || !strings.Contains(got, want) {
			t.Errorf("ScrubError(%v) = %q, want it to show %q", err, got, want)
		}
	}
}

// failing is a transport that never answers.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}
