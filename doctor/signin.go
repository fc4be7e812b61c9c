package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// checkDeviceGrant judges --device-code: the server must offer the device authorization grant (RFC 8628). A
// configured client that has no loopback redirect is judged with its client (configuredClientCheck).
func (r *runner) checkDeviceGrant(context.Context) {
	const id, title = "oauth.device", "Device sign-in (--device-code)"
	switch {
	case !r.opts.DeviceCode:
		return
	case r.oauthSkip() != "":
		r.skip(id, title, r.oauthSkip())
	case r.meta == nil:
		r.skip(id, title, "no usable authorization server metadata")
	case r.opts.Client != nil && len(r.opts.Client.NoLoopback) > 0:
		r.skip(id, title, "judged with the configured client (see Client registration above)")
	case r.meta.DeviceAuthorizationEndpoint != "":
		r.add(Result{ID: id, Title: title, Status: OK, Detail: "the server offers the device grant at " + r.meta.DeviceAuthorizationEndpoint +
			": the bridge shows a code on stderr (and in its sign-in tool) to enter on any device"})
	default:
		r.add(Result{ID: id, Title: title, Status: Fail, Detail: "--device-code is set, but the server offers no device_authorization_endpoint: the bridge's sign-in fails",
			Fix: "drop --device-code to sign in with a browser"})
	}
}

// usesMetadataDocument reports whether the bridge's client_id is the client ID metadata document given.
func (r *runner) usesMetadataDocument() bool {
	return r.opts.Client == nil && r.opts.ClientMetadataURL != "" && r.meta != nil && r.meta.ClientIDMetadataDocumentSupported
}

// metadataDocument is what checkMetadataDocument reads of a client ID metadata document.
type metadataDocument struct {
	ClientID                string   `json:"client_id"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// checkMetadataDocument fetches the client ID metadata document the bridge will use as its client_id and
// checks what the server will: it names itself as client_id and lists the redirect URI the sign-in sends.
func (r *runner) checkMetadataDocument(ctx context.Context) {
	const id, title = "oauth.client-metadata", "Client metadata document"
	if !r.usesMetadataDocument() {
		return
	}
	doc, redirect := r.opts.ClientMetadataURL, r.redirectURI()
	r.timed(func() Result {
		res := Result{ID: id, Title: title}
		sctx, cancel := r.step(ctx)
		defer cancel()
		md, err := fetchMetadataDocument(sctx, r.client(), doc)
		switch {
		case err != nil:
			res.Status, res.Detail = Fail, textutil.OneLine(err.Error())
			res.Fix = "serve the client's metadata document as JSON at " + doc + ", or give --client-metadata-url the URL where it is"
		case md.ClientID != doc:
			res.Status, res.Detail = Fail, fmt.Sprintf("the document at %s says client_id %q: a server accepts only a document whose client_id is its own URL", doc, md.ClientID)
			res.Fix = "set client_id in the document to " + doc + ", exactly"
		case !listsRedirect(md.RedirectURIs, redirect):
			res.Status, res.Detail = Fail, fmt.Sprintf("the document's redirect_uris (%s) do not include %s, the redirect URI the bridge's sign-in sends: the server refuses the sign-in",
				strings.Join(md.RedirectURIs, ", "), redirect)
			res.Fix = "add " + redirect + " to the document's redirect_uris"
		case md.TokenEndpointAuthMethod != "" && md.TokenEndpointAuthMethod != oauth.AuthNone:
			res.Status, res.Detail = Warn, fmt.Sprintf("the document says token_endpoint_auth_method %s; the bridge signs in as a public client (none) with it", md.TokenEndpointAuthMethod)
			res.Fix = "set token_endpoint_auth_method in the document to none"
		default:
			res.Status, res.Detail = OK, fmt.Sprintf("%s names itself as client_id and lists %s", doc, redirect)
		}
		return res
	})
}

// fetchMetadataDocument reads a client ID metadata document: JSON, at most 64 KiB.
func fetchMetadataDocument(ctx context.Context, hc *http.Client, doc string) (*metadataDocument, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return nil, fmt.Errorf("--client-metadata-url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the client metadata document: %s", textutil.ScrubError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read the client metadata document at %s: %w", doc, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the client metadata document at %s answered HTTP %d", doc, resp.StatusCode)
	}
	var md metadataDocument
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("the client metadata document at %s is not a JSON object of client metadata: %s", doc, textutil.OneLine(err.Error()))
	}
	return &md, nil
}

// listsRedirect reports whether uris holds redirect, or the same loopback URI without a port (RFC 8252 §7.3: a
// server lets a loopback redirect use any port).
func listsRedirect(uris []string, redirect string) bool {
	if slices.Contains(uris, redirect) {
		return true
	}
	want, err := url.Parse(redirect)
	if err != nil {
		return false
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err == nil && u.Port() == "" && u.Scheme == want.Scheme && u.Hostname() == want.Hostname() && u.EscapedPath() == want.EscapedPath() {
			return true
		}
	}
	return false
}
