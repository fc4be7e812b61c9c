package secrets

import (
	"bytes"
	"strings"
	"testing"
)

// reset forgets every value, for a test of its own.
func reset(t *testing.T) {
	t.Helper()
	mu.Lock()
	kept.Store(nil)
	mu.Unlock()
	t.Cleanup(func() { mu.Lock(); kept.Store(nil); mu.Unlock() })
}

func TestScrub(t *testing.T) {
	reset(t)
	if got := Scrub("nothing kept yet: rt-0123456789"); got != "nothing kept yet: rt-0123456789" {
		t.Fatalf("Scrub with nothing kept changed the text: %q", got)
	}
	Add("rt-0123456789", "short", "", "a+b/c=d-verifier")
	for _, c := range []struct{ in, want string }{
		{"invalid_grant (refresh token rt-0123456789 was revoked)", "invalid_grant (refresh token [redacted] was revoked)"},
		{"twice rt-0123456789 rt-0123456789", "twice [redacted] [redacted]"},
		{"a short word stays short", "a short word stays short"},
		{"verifier a+b/c=d-verifier echoed", "verifier [redacted] echoed"},
		{"form-encoded a%2Bb%2Fc%3Dd-verifier echoed", "form-encoded [redacted] echoed"},
		{"no secret here", "no secret here"},
	} {
		if got := Scrub(c.in); got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := string(ScrubBytes([]byte(c.in))); got != c.want {
			t.Errorf("ScrubBytes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A message without a secret is passed on as it is, not copied.
func TestScrubBytesNoCopy(t *testing.T) {
	reset(t)
	Add("access-token-0123456789")
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)
	if got := ScrubBytes(msg); &got[0] != &msg[0] {
		t.Error("a message without a secret was copied")
	}
}

// A value is found at every alignment, at the start and at the end of a message.
func TestScrubBytesEveryOffset(t *testing.T) {
	reset(t)
	const secret = "s3cr3t-0123456789"
	Add(secret)
	for pad := range 9 {
		for _, msg := range []string{strings.Repeat("a", pad) + secret, secret + strings.Repeat("b", pad), strings.Repeat("c", pad) + secret + "d"} {
			if got := string(ScrubBytes([]byte(msg))); strings.Contains(got, secret) {
				t.Errorf("ScrubBytes(%q) = %q", msg, got)
			}
		}
	}
}

func TestAddBounded(t *testing.T) {
	reset(t)
	for i := range maxKept + 10 {
		Add(strings.Repeat("x", 8) + string(rune('A'+i%26)) + strings.Repeat("y", i))
	}
	if n := len(values()); n != maxKept {
		t.Fatalf("%d values kept, want %d", n, maxKept)
	}
	Add(string(values()[0])) // a value kept already is not added twice
	if n := len(values()); n != maxKept {
		t.Fatalf("%d values kept after adding one again, want %d", n, maxKept)
	}
}

func TestWriter(t *testing.T) {
	reset(t)
	Add("api-key-0123456789")
	var buf bytes.Buffer
	line := []byte("level=INFO msg=upstream www_authenticate=\"Bearer error_description=api-key-0123456789\"\n")
	n, err := Writer(&buf).Write(line)
	if err != nil || n != len(line) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line))
	}
	if strings.Contains(buf.String(), "api-key-0123456789") || !strings.Contains(buf.String(), Redacted) {
		t.Errorf("written: %q", buf.String())
	}
}

func BenchmarkScrubBytes20MB(b *testing.B) {
	mu.Lock()
	kept.Store(nil)
	mu.Unlock()
	for i := range 8 {
		Add(strings.Repeat("tok", 10) + string(rune('a'+i)) + "-secret-value")
	}
	msg := bytes.Repeat([]byte(`{"type":"text","text":"lorem ipsum dolor sit amet"},`), 20<<20/50)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		ScrubBytes(msg)
	}
}
