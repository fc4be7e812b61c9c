package remote

import (
	"net/http"
	"strings"
	"testing"
)

// The debug log names every header but shows only values that cannot be secrets.
func TestRedactHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer sk-secret-token")
	h.Set("X-Api-Key", "key-123")
	h.Set("Mcp-Session-Id", "session-abc")
	h.Set("Cookie", "sid=xyz")
	h.Set("Content-Type", "application/json")
	h.Set("Mcp-Protocol-Version", "2025-11-25")
	got := redactHeaders(h)
	for _, secret := range []string{"sk-secret-token", "key-123", "session-abc", "sid=xyz"} {
		if strings.Contains(got, secret) {
			t.Errorf("debug headers show %q: %s", secret, got)
		}
	}
	for _, want := range []string{"Authorization: [redacted]", "X-Api-Key: [redacted]", "Content-Type: application/json", "Mcp-Protocol-Version: 2025-11-25"} {
		if !strings.Contains(got, want) {
			t.Errorf("debug headers lack %q: %s", want, got)
		}
	}
}
