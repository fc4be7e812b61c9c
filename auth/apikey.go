// Package auth makes the bearer tokens the bridge sends upstream: an API key, or the OAuth sign-in — SignIn, which
// finds the server's authorization server, registers, runs the loopback or device flow and keeps the lifecycle, and
// Source, which refreshes across processes. It stands on auth/oauth (the protocol: documents, registration, the
// token endpoint) and auth/credstore (what is kept: keychain or files, the lock). Other packages see only
// oauth2.TokenSource.
package auth

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
)

// ErrEmptyAPIKey: the API key is empty, or white space only.
var ErrEmptyAPIKey = errors.New("the API key is empty")

// ErrMalformedAPIKey: the API key has white space or control characters inside, which no server would accept.
var ErrMalformedAPIKey = errors.New("the API key contains spaces or control characters")

// APIKey returns a token source for a static API key. Surrounding whitespace (a pasted newline) is dropped;
// a key with whitespace or control characters inside is refused (ErrMalformedAPIKey), because no server would
// accept it, and so is an empty one (ErrEmptyAPIKey).
func APIKey(key string) (oauth2.TokenSource, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, ErrEmptyAPIKey
	}
	if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, ErrMalformedAPIKey
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: key, TokenType: "Bearer"}), nil
}
