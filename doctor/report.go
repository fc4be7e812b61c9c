package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// groups are the sections of the text report, by check id prefix, in order.
var groups = []struct{ prefix, title string }{
	{"config.", "Configuration"},
	{"net.", "Reachability"},
	{"mcp.", "MCP endpoint"},
	{"oauth.register", "Client registration"},
	{"oauth.", "OAuth discovery"},
	{"creds.", "Credentials"},
	{"session.", "Authenticated session"},
	{"", "Other"},
}

// symbols mark each status in the text report.
var symbols = map[Status]string{OK: "✓", Fail: "✗", Warn: "!", Skip: "-"}

// groupOf is the section title of a check id.
func groupOf(id string) string {
	for _, g := range groups {
		if strings.HasPrefix(id, g.prefix) {
			return g.title
		}
	}
	return "Other"
}

// WriteText prints the checklist: one line per check, the fix of each failure or warning under it.
func (rep Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "meshai-mcp-server doctor: %s\n", textutil.RedactRawURL(rep.URL))
	last := ""
	for _, c := range rep.Checks {
		if g := groupOf(c.ID); g != last {
			fmt.Fprintf(&b, "\n%s\n", g)
			last = g
		}
		line := "  " + symbols[c.Status] + " " + c.Title
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		b.WriteString(line + "\n")
		if c.Fix != "" && (c.Status == Fail || c.Status == Warn) {
			fmt.Fprintf(&b, "      fix: %s\n", c.Fix)
		}
	}
	s := rep.Summary
	verdict := "all checks passed"
	switch {
	case s.Fail > 0:
		verdict = fmt.Sprintf("%d failed", s.Fail)
	case s.Warn > 0:
		verdict = "no failures"
	}
	fmt.Fprintf(&b, "\n%s: %d ok, %d warnings, %d failed, %d skipped\n", verdict, s.OK, s.Warn, s.Fail, s.Skip)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one indented JSON document.
func (rep Report) WriteJSON(w io.Writer) error {
	if rep.Checks == nil {
		rep.Checks = []Result{}
	}
	rep.URL = textutil.RedactRawURL(rep.URL)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
