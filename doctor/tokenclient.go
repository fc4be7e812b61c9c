package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
	"github.com/meshailabs-org/meshai-mcp-server/internal/textutil"
)

// probeClientID is the client_id of the control probe: no server ever registered it.
const probeClientID = "meshai-doctor-probe-no-such-client"

// probeClientSecret is the control probe's client secret, for an auth method that sends one.
const probeClientSecret = "meshai-doctor-probe-not-a-secret"

// probeCode and probeVerifier are the authorization code and PKCE verifier of the configured client's probe: no
// server ever issued the code, and the verifier has the length and alphabet RFC 7636 §4.1 asks for.
const (
	probeCode     = "meshai-doctor-probe-not-a-code"
	probeVerifier = "meshai-doctor-probe-verifier-0123456789-abcdefghijklmnop"
)

// probeAsClient redeems a made-up authorization code as the configured client, with its auth method and the
// sign-in's redirect URI, through the bridge's own token client: the request the sign-in ends with, which spends
// nothing (a refresh would, and a refresh grant some clients are not allowed). RFC 6749 §5.2 has a server refuse
// bad client credentials with invalid_client and a grant it never issued with invalid_grant; a server that
// authenticates the client first (most do, the reference server too) so answers invalid_grant only to a client
// whose credentials it accepted. Where the answer is invalid_grant, a second request as a client_id no server
// registered tells whether the server judged the client at all.
func (r *runner) probeAsClient(ctx context.Context, res Result, endpoint, where string) Result {
	c := r.opts.Client
	method := r.authMethod()
	ex, err := r.redeemAs(ctx, endpoint, c.ID, c.Secret, method)
	if ex == nil {
		res.Status = Fail
		res.Detail, res.Fix = transportProblem(parsed(endpoint), err)
		return res
	}
	if res = judgeToken(res, where, ex); res.Status != OK {
		return res
	}
	who := fmt.Sprintf("client_id %s (%s, %s)", c.ID, method, c.From)
	code, desc := oauthError(ex.body)
	said := quoteOAuthError(code, desc)
	switch code {
	case "invalid_client":
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s refused %s with %s (HTTP %d): the server does not accept this client's credentials — a wrong client secret, client_id or token_endpoint_auth_method", where, who, said, ex.status)
		res.Fix = "correct the client_secret, client_id or token_endpoint_auth_method given (" + c.From + ") to the client's registration at the server"
	case "unauthorized_client": // RFC 6749 §5.2: an authenticated client not allowed this grant
		if r.opts.DeviceCode {
			res.Status = OK
			res.Detail = fmt.Sprintf("%s answered %s as %s to an authorization code: the client may not use the code grant, as a device-grant client (--device-code) may not; this probe cannot tell more", where, said, who)
			return res
		}
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s accepted %s but answered %s: the client may not use the authorization_code grant the browser sign-in ends with", where, who, said)
		res.Fix = "ask the server's operator to allow the authorization_code grant for client_id " + c.ID
	case "invalid_grant":
		res.Status = OK
		res.Detail = fmt.Sprintf("%s accepted the credentials of %s and refused only the made-up authorization code (%s)", where, who, said)
		if control, _ := r.redeemAs(ctx, endpoint, probeClientID, probeClientSecret, method); control != nil {
			if cc, _ := oauthError(control.body); cc == "invalid_grant" {
				res.Detail = fmt.Sprintf("%s answered %s as %s, but also as a client_id no server registered: it judges the grant before the client, so this probe cannot tell whether it accepts the client's credentials (the first sign-in will)", where, said, who)
			}
		}
	default:
		res.Status = OK
		res.Detail = fmt.Sprintf("%s answered %s as %s, in JSON as clients expect; that answer does not say whether it accepts the client's credentials (the first sign-in will)", where, said, who)
	}
	return res
}

// redeemAs posts the made-up authorization code to endpoint as client id with secret and method, and returns the
// answer as it came; nil and the error when none came.
func (r *runner) redeemAs(ctx context.Context, endpoint, id, secret, method string) (*exchange, error) {
	sctx, cancel := r.step(ctx)
	defer cancel()
	hc := *r.namedClient()
	rec := &recorder{base: hc.Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	hc.Transport = rec
	tc := &oauth.TokenClient{TokenURL: endpoint, ClientID: id, ClientSecret: secret, AuthMethod: method,
		Resource: oauth.CanonicalResource(r.u), HTTP: &hc}
	_, err := tc.Exchange(sctx, probeCode, probeVerifier, r.redirectURI())
	return rec.last, err
}

// recorder keeps the last answer that passed through it, for the checks to judge as it came.
type recorder struct {
	base http.RoundTripper
	last *exchange
}

// RoundTrip sends req and keeps the start of the answer, handing on the same bytes.
func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.last = &exchange{status: resp.StatusCode, header: resp.Header, body: body}
	return resp, nil
}

// oauthError reads an RFC 6749 §5.2 error answer: its code and description, "" when it is none.
func oauthError(body []byte) (code, desc string) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error, e.Description
}

// quoteOAuthError quotes an OAuth error code and its description, on one line, short, and without any secret the
// process holds (a server may echo the client secret back).
func quoteOAuthError(code, desc string) string {
	s := fmt.Sprintf("%q", clip(textutil.OneLine(code), 60))
	if desc != "" {
		s += fmt.Sprintf(" (%s)", textutil.Quote([]byte(desc), 120))
	}
	return secrets.Scrub(s)
}
