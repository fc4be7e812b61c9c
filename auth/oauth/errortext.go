package oauth

import (
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// ErrorText is an OAuth error code and description (RFC 6749 §5.2), the server's words shortened and stripped of
// anything unprintable, for an error message.
func ErrorText(code, desc string) string {
	if desc == "" {
		return CleanText(code, 64)
	}
	return CleanText(code, 64) + " (" + CleanText(desc, 200) + ")"
}

// CleanText is s, text a server sent, scrubbed of every secret the process holds (secrets.Scrub, before it is
// cut, so that half a secret never remains), without unprintable characters and cut to n runes.
func CleanText(s string, n int) string {
	s = secrets.Scrub(s)
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r != 0x7f {
			out = append(out, r)
		}
	}
	if len(out) > n {
		out = append(out[:n], '…')
	}
	return string(out)
}

// Redact replaces each non-empty secret in s with "[redacted]": a server that echoes a code, a state or a device
// code back in its error must not put it in a message or a log line.
func Redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
