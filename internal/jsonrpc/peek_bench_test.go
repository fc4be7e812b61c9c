package jsonrpc

import (
	"strings"
	"testing"
)

// bigResult is a 20 MB tool result of plain text, its id last; bigQuoted is one with an escaped quote every
// 10 bytes, the worst case for stepping over a string.
var (
	bigResult = []byte(`{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"` + strings.Repeat(`abcdefghij`, 2<<20) + `"}]},"id":1}`)
	bigQuoted = []byte(`{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"` + strings.Repeat(`abcdefghi\"`, 2<<20) + `"}]},"id":1}`)
)

// BenchmarkPeekBig is Peek of a 20 MB result: what the relay reads of each message the transport parsed.
func BenchmarkPeekBig(b *testing.B) {
	b.SetBytes(int64(len(bigResult)))
	for b.Loop() {
		if k, _ := Peek(bigResult); k != KindResponse {
			b.Fatal(k)
		}
	}
}

// BenchmarkPeekQuoted is Peek of the 20 MB result full of escaped quotes.
func BenchmarkPeekQuoted(b *testing.B) {
	b.SetBytes(int64(len(bigQuoted)))
	for b.Loop() {
		if k, _ := Peek(bigQuoted); k != KindResponse {
			b.Fatal(k)
		}
	}
}

// BenchmarkParseBig is Parse of the plain 20 MB result, for comparison.
func BenchmarkParseBig(b *testing.B) {
	b.SetBytes(int64(len(bigResult)))
	for b.Loop() {
		if _, err := Parse(bigResult); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeekSmall is Peek of a small tool result.
func BenchmarkPeekSmall(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"7 agents"}],"structuredContent":{"agents":[{"id":"a","name":"A"}]}}}`)
	b.ReportAllocs()
	for b.Loop() {
		Peek(msg)
	}
}
