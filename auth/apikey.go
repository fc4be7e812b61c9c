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

// EnvAPIKey names the environment variable whose value is sent as the bearer token; when set, no sign-in is needed.
const EnvAPIKey = "MESHAI_API_KEY"

// APIKey returns a token source for a static API key. Surrounding whitespace (a pasted newline) is dropped;
// a key with whitespace or control characters inside is refused, because no server would accept it.
func APIKey(key string) (oauth2.TokenSource, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, errors.New(EnvAPIKey + " is empty: set it to your MeshAI API key, or unset it to sign in")
	}
	if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, errors.New(EnvAPIKey + " contains spaces or control characters: copy the key again, without quotes or line breaks")
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: key, TokenType: "Bearer"}), nil
}
