package cli

import (
	"net/http"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// publicHeaders are headers whose values are no secret: kept out of the secrets, so that their values (such as
// "application/json") are never blanked in what the server sends.
var publicHeaders = map[string]bool{"Accept": true, "Accept-Language": true, "Content-Type": true, "User-Agent": true,
	"Mcp-Protocol-Version": true, "Cache-Control": true}

// addSecrets hands the secrets the user gave to the secrets package: the client secret and the values of
// --header / --header-file (for "Scheme credentials" the credentials alone too, as a server may echo only them).
func addSecrets(cfg Config) {
	secrets.Add(cfg.ClientSecret)
	for name, vs := range cfg.Header {
		if publicHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		for _, v := range vs {
			secrets.Add(v)
			if _, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
				secrets.Add(strings.TrimSpace(cred))
			}
		}
	}
}
