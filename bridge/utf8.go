package bridge

import "unicode/utf8"

// validUTF8 returns msg with each byte that is not part of a UTF-8 sequence replaced with U+FFFD, as
// encoding/json does, and how many were replaced. Inside a JSON string the replacement is valid JSON; JSON's
// own syntax is ASCII, so nothing else can hold such a byte in a message that was JSON before. Valid stretches
// are checked with utf8.Valid, 4 KiB at a time, and copied whole.
func validUTF8(msg []byte) ([]byte, int) {
	out := make([]byte, 0, len(msg)+16)
	n, start := 0, 0
	for i := 0; i < len(msg); {
		if end := i + 4096; end <= len(msg) && utf8.Valid(msg[i:end]) { // i starts a rune, and so does end
			i = end
			continue
		}
		if msg[i] < utf8.RuneSelf {
			i++
			continue
		}
		if _, size := utf8.DecodeRune(msg[i:]); size > 1 {
			i += size
			continue
		}
		out = append(append(out, msg[start:i]...), "\uFFFD"...)
		n++
		i++
		start = i
	}
	return append(out, msg[start:]...), n
}
