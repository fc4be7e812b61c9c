package oauth

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Bounds on the lifetime a token endpoint states (expires_in).
const (
	// notPositiveLifetime is what expires_in 0 or below is taken for. Taken literally, such a token would be expired
	// on arrival and every call would refresh it again, forever; taken as unknown, a token the server does mean to be
	// short-lived would be used until refused. 60 s keeps it fresh with one refresh every 40 s (a third of it early).
	notPositiveLifetime = 60
	// maxLifetime is one year: anything longer is taken for that, and time.Duration(secs)*time.Second overflows
	// above about 9.2e9 s.
	maxLifetime = 365 * 24 * 60 * 60
)

// tokenLifetime reads expires_in (RFC 6749 §5.1, RECOMMENDED: the access token's lifetime in seconds) and makes it
// sane. Absent or null gives 0, a lifetime not stated: the token is used until the server refuses it. A number in a
// string ("3600", as some servers send) is read as the number. Otherwise, note says in one sentence what was made of
// a value that could not be taken as it is:
//   - not a number (other text, NaN, true, an object): 0, as if absent;
//   - 0 or negative: notPositiveLifetime;
//   - not whole seconds: rounded up to whole seconds;
//   - above a year, up to 1e999: one year.
func tokenLifetime(raw json.RawMessage) (secs int64, note string) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, ""
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, notANumber
		}
		s = strings.TrimSpace(str)
	}
	// JSON's number grammar, stricter than ParseFloat's: no NaN, Inf, hex, underscores or leading '+'.
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || !json.Valid([]byte(s)) {
		return 0, notANumber
	}
	f, _ := strconv.ParseFloat(s, 64) // valid by now; out of range gives ±Inf or 0, handled below
	switch {
	case f <= 0:
		return notPositiveLifetime, fmt.Sprintf("the token endpoint's expires_in %s is not positive: the token is taken to live %s",
			shortNumber(f), time.Duration(notPositiveLifetime)*time.Second)
	case f > maxLifetime:
		return maxLifetime, fmt.Sprintf("the token endpoint's expires_in %s is beyond a year: the token is taken to live %s",
			shortNumber(f), time.Duration(maxLifetime)*time.Second)
	case f != math.Trunc(f):
		secs = int64(math.Ceil(f))
		return secs, fmt.Sprintf("the token endpoint's expires_in %s is not whole seconds: the token is taken to live %s",
			shortNumber(f), time.Duration(secs)*time.Second)
	}
	return int64(f), ""
}

const notANumber = "the token endpoint's expires_in is not a number: the token's lifetime is unknown, and it is used until refused"

// shortNumber prints f compactly: the server's digits may be many.
func shortNumber(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// withLifetime sets tok's lifetime (ExpiresIn) and Expiry from the token endpoint's answer body, reporting to c.Log
// an expires_in it had to make sane. The lifetime travels with the token into the store, so every process
// derives the same refresh margin from it (see auth.Source).
func (c *TokenClient) withLifetime(tok *oauth2.Token, body []byte) *oauth2.Token {
	var v struct {
		ExpiresIn json.RawMessage `json:"expires_in"`
	}
	_ = json.Unmarshal(body, &v) // the body was read as JSON already
	secs, note := tokenLifetime(v.ExpiresIn)
	if note != "" && c.Log != nil {
		c.Log.Warn(note)
	}
	tok.ExpiresIn, tok.Expiry = secs, time.Time{}
	if secs > 0 {
		tok.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	return tok
}

// Lifetime is the lifetime tok was issued with (its ExpiresIn, as set by a TokenClient); 0 when unknown (no
// expires_in, or tokens saved by an earlier version).
func Lifetime(tok *oauth2.Token) time.Duration {
	if tok == nil || tok.ExpiresIn <= 0 || tok.Expiry.IsZero() {
		return 0
	}
	return time.Duration(min(tok.ExpiresIn, maxLifetime)) * time.Second
}
