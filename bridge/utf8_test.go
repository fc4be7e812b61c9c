package bridge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// BenchmarkValidUTF8Big is the replacement in a 20 MB message with one byte that is not UTF-8.
func BenchmarkValidUTF8Big(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("abcdéfghi", 2<<20) + "\xff" + `"}]}}`)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, n := validUTF8(msg); n != 1 {
			b.Fatal(n)
		}
	}
}

// validUTF8 agrees with a rune-by-rune replacement wherever the bad bytes fall, 4 KiB boundaries included.
func TestValidUTF8Boundaries(t *testing.T) {
	for _, at := range []int{0, 1, 4094, 4095, 4096, 4097, 8191, 9000} {
		for _, bad := range []string{"\xff", "\xe2\x9c", "é"[:1]} {
			in := []byte(strings.Repeat("é", at/2) + strings.Repeat("a", at%2) + bad + strings.Repeat("✓", 3000))
			got, n := validUTF8(in)
			want := strings.ToValidUTF8(string(in), "\uFFFD")
			if len(bad) == 2 { // a cut sequence is two bytes, two replacements, where ToValidUTF8 puts one
				want = strings.Replace(want, "\uFFFD", "\uFFFD\uFFFD", 1)
			}
			if string(got) != want || n != len(bad) {
				t.Errorf("bad %q at %d: %d replaced, output differs: %v", bad, at, n, string(got) != want)
			}
		}
	}
}

// BenchmarkUTF8ValidBig is utf8.Valid of the same message: the check every message pays, for comparison.
func BenchmarkUTF8ValidBig(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("abcdéfghi", 2<<20) + "\xff" + `"}]}}`)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		utf8.Valid(msg)
	}
}
