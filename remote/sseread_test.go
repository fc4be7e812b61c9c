package remote

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	sse "github.com/tmaxmax/go-sse"

	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
)

// event is one dispatched event as a test compares it.
type event struct{ typ, data, last string }

// readAll reads every event of in with the bridge's reader, one byte at a time when bytewise, and returns them with
// the error that ended the stream (nil at its end).
func readAll(in []byte, max int, bytewise bool) ([]event, error) {
	var r io.Reader = bytes.NewReader(in)
	if bytewise {
		r = iotest.OneByteReader(r)
	}
	buf := membudget.NewBuffer(nil, max)
	sr := newSSEReader(r, buf, max)
	defer sr.close()
	var evs []event
	for {
		typ, err := sr.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		if buf.Err() != nil {
			evs = append(evs, event{typ, "<dropped>", sr.last})
			continue
		}
		evs = append(evs, event{typ, string(buf.Bytes()), sr.last})
	}
}

// goSSE reads in with go-sse, the reference: what the bridge read with before.
func goSSE(in []byte) ([]event, error) {
	var evs []event
	for ev, err := range sse.Read(bytes.NewReader(in), nil) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, event{ev.Type, ev.Data, ev.LastEventID})
	}
	return evs, nil
}

func TestSSEReader(t *testing.T) {
	big := strings.Repeat("x", 300<<10)
	tests := []struct {
		name string
		in   string
		max  int
		want []event
	}{
		{"one message", "id: 1\ndata: {\"a\":1}\n\n", 0, []event{{"", `{"a":1}`, "1"}}},
		{"CR, LF and CRLF line ends", "data: a\rdata: b\r\ndata: c\n\r\n", 0, []event{{"", "a\nb\nc", ""}}},
		{"a byte order mark, comments, retry, an unknown field", "\xef\xbb\xbf: hi\nretry: 5\nfoo: bar\nevent: endpoint\ndata: /m\n\n", 0,
			[]event{{"endpoint", "/m", ""}}},
		{"the id persists; an empty id clears it; an id with NUL is ignored", "id: a\ndata: 1\n\ndata: 2\n\nid\ndata: 3\n\nid: b\x00\ndata: 4\n\n", 0,
			[]event{{"", "1", "a"}, {"", "2", "a"}, {"", "3", ""}, {"", "4", ""}}},
		{"an id only: no data", "id: 7\n\n", 0, []event{{"", "", "7"}}},
		{"no space after the colon; a field without one", "data:x\ndata\n\n", 0, []event{{"", "x\n", ""}}},
		{"an event not ended is not dispatched", "data: 1\n\ndata: 2\n", 0, []event{{"", "1", ""}}},
		{"a large event", "data: " + big + "\n\n", 0, []event{{"", big, ""}}},
		{"an event over the limit is dropped, the next read", "data: " + big + "\n\nid: n\ndata: small\n\n", 128 << 10,
			[]event{{"", "<dropped>", ""}, {"", "small", "n"}}},
	}
	for _, tt := range tests {
		for _, bytewise := range []bool{false, true} {
			got, err := readAll([]byte(tt.in), tt.max, bytewise)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("%s (bytewise %v): got %.200v, %v; want %.200v", tt.name, bytewise, got, err, tt.want)
			}
		}
	}
}

// An event that goes on past four times the limit ends the stream at once, with the limit's error.
func TestSSEReaderEndlessEvent(t *testing.T) {
	in := "data: " + strings.Repeat("x", 1<<20)
	_, err := readAll([]byte(in), 64<<10, false)
	var tl *membudget.TooLarge
	if !errors.As(err, &tl) || tl.Size <= 4*64<<10 || tl.Size > 1<<20 {
		t.Fatalf("err = %v", err)
	}
}

// FuzzSSEReader holds the bridge's SSE reader to go-sse on any input: the same events, types, data and ids, read
// whole or a byte at a time. Oversized events must be dropped whole and never stop the events after them.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
		"event: message\r\ndata: a\r\ndata: b\r\n\r\n",
		"\xef\xbb\xbf: c\n\nretry: 1\nid:\ndata:\n\n",
		"data\ndata:\ndata: \n\n\r\r\n\n",
		"id: a\x00b\ndata: x\n\nid: c\rdata: y\r\r",
		"data: " + strings.Repeat("y", 5000) + "\n\ndata: after\n\n",
		"event\nevent: \nid\n\n:\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := goSSE(in)
		got, err := readAll(in, 0, false)
		if err != nil {
			t.Fatalf("error %v on %q", err, in)
		}
		if werr == nil && !slices.Equal(got, want) {
			t.Fatalf("on %q:\n got %q\nwant %q", in, got, want)
		}
		if byByte, _ := readAll(in, 0, true); !slices.Equal(byByte, got) {
			t.Fatalf("a byte at a time, on %q:\n got %q\nwant %q", in, byByte, got)
		}
		limited, err := readAll(in, 1024, false)
		if err != nil && !errors.As(err, new(*membudget.TooLarge)) {
			t.Fatalf("limited: %v", err)
		}
		if err == nil && len(limited) != len(got) {
			t.Fatalf("with a limit, %d events instead of %d on %q", len(limited), len(got), in)
		}
		for i, ev := range limited {
			if ev.data != "<dropped>" && ev != got[i] || ev.data == "<dropped>" && len(got[i].data) <= 1024 {
				t.Fatalf("with a limit, event %d is %q, without %q", i, ev, got[i])
			}
		}
	})
}
