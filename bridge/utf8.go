package bridge

import "unicode/utf8"

// validUTF8 returns msg with each byte that is not part of a UTF-8 sequence replaced with U+FFFD, as
// encoding/json does, and how many were replaced. Inside a JSON string the replacement is valid JSON; JSON's
// own syntax is ASCII, so nothing else can hold such a byte in a message that was JSON before.
func validUTF8(msg []byte) ([]byte, int) {
	out := make([]byte, 0, len(msg)+len(msg)/8)
	n := 0
	for len(msg) > 0 {
		r, size := utf8.DecodeRune(msg)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
			n++
		} else {
			out = append(out, msg[:size]...)
		}
		msg = msg[size:]
	}
	return out, n
}
