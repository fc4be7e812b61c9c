package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/webpage"
)

// Limits on every discovery request: a metadata document is small, and a server that stalls must not hang
// the bridge.
const (
	maxMetadataBytes = 1 << 20
	discoveryTimeout = 15 * time.Second
)

// metadataStatus is the outcome of one metadata GET that did not fail outright.
type metadataStatus int

const (
	metadataFound metadataStatus = iota
	metadataAbsent
)

// firstMetadata fetches the candidate URLs in order into a new T and returns the first document present, after
// check (given its URL) accepts it; a location that answers 4xx is skipped. found is false when none was there.
func firstMetadata[T any](ctx context.Context, hc *http.Client, candidates []string, localServer bool, check func(url string, doc *T) error) (doc *T, found bool, err error) {
	for _, c := range candidates {
		doc = new(T)
		st, _, err := fetchMetadata(ctx, hc, c, nil, doc, localServer)
		if err != nil {
			return nil, false, err
		}
		if st == metadataAbsent {
			continue
		}
		if err := check(c, doc); err != nil {
			return nil, true, err
		}
		return doc, true, nil
	}
	return nil, false, nil
}

// fetchMetadata GETs url and decodes its JSON into v. A 4xx answer is metadataAbsent (the caller may try the
// next well-known location), except a 429 and a bot-protection challenge, which is a *ChallengeError whatever
// its status; anything else that is not a JSON 200 is an error that names url and says why.
func fetchMetadata(ctx context.Context, hc *http.Client, url string, header http.Header, v any, localServer bool) (metadataStatus, int, error) {
	hc = httpsOnlyRedirects(hc, localServer)
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("metadata URL %s: %w", url, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if rerr := rateLimited("metadata URL", err); rerr != nil {
		return 0, http.StatusTooManyRequests, rerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("fetch metadata from %s: %w; check the server URL and the network", url, err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	page := webpage.Describe(resp.Header, body)
	if page.Challenge != "" { // not an absent document: the real one may be behind it
		return 0, resp.StatusCode, &ChallengeError{URL: url, Status: resp.StatusCode, Vendor: page.Challenge, Evidence: page.Why()}
	}
	if resp.StatusCode == http.StatusTooManyRequests { // not an absence: the next location would only be refused too
		return 0, resp.StatusCode, tooManyRequests("metadata URL", url, resp.Header)
	}
	if resp.StatusCode >= 400 && resp.StatusCode <= 499 {
		return metadataAbsent, resp.StatusCode, nil
	}
	if resp.StatusCode != http.StatusOK {
		return 0, resp.StatusCode, fmt.Errorf("metadata at %s answered HTTP %d; the server may be down, try again later", url, resp.StatusCode)
	}
	if readErr != nil {
		return 0, resp.StatusCode, fmt.Errorf("read metadata from %s: %w", url, readErr)
	}
	if len(body) > maxMetadataBytes {
		return 0, resp.StatusCode, fmt.Errorf("metadata at %s is larger than %d bytes: that is not a metadata document; check the server URL", url, maxMetadataBytes)
	}
	if page.IsHTML {
		return 0, resp.StatusCode, fmt.Errorf("metadata at %s answered with an HTML page, not JSON: a login page or bot protection is in front of it; ask the server's operator", url)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, resp.StatusCode, fmt.Errorf("metadata at %s is not the expected JSON object (%v); ask the server's operator", url, err)
	}
	return metadataFound, resp.StatusCode, nil
}

// httpsOnlyRedirects returns a copy of hc (or of the default client) that refuses to follow a redirect to a
// URL ValidateEndpointURL refuses, such as plain http to another host, so a document cannot be swapped on an
// unprotected hop, nor, when the MCP server is not local, one CheckServerNamedURL refuses. The caller's own
// redirect policy still applies after that check.
func httpsOnlyRedirects(hc *http.Client, localServer bool) *http.Client {
	hc = orDefault(hc)
	c := *hc
	c.CheckRedirect = checkingRedirects(hc.CheckRedirect, func(req *http.Request, via []*http.Request) error {
		if _, err := ValidateEndpointURL(req.URL.String()); err != nil {
			return fmt.Errorf("refusing a redirect to %s: %w", req.URL.Redacted(), err)
		}
		return CheckServerNamedURL("a redirect from "+textRedacted(via[len(via)-1].URL), "Location", req.URL, localServer)
	})
	return &c
}

// ChallengeError is an answer that was a bot-protection challenge page where JSON was expected: a browser check
// no API client can pass.
type ChallengeError struct {
	URL      string // what was fetched
	Status   int    // the HTTP status of the page
	Vendor   string // whose challenge: "Cloudflare"
	Evidence string // what identified it, e.g. "cf-mitigated: challenge, server: cloudflare"
}

func (e *ChallengeError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d with a %s challenge page (%s), not JSON", e.URL, e.Status, e.Vendor, e.Evidence)
}
