package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
	"github.com/meshailabs-org/meshai-mcp-server/internal/webpage"
)

// Token endpoint client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthNone     = "none"
	AuthBasic    = "client_secret_basic"
	AuthPost     = "client_secret_post"
	maxTokenBody = 1 << 20
)

// TokenClient talks to one authorization server's token endpoint as one registered client, sending the RFC 8707
// resource on every request, which x/oauth2's refresh does not do.
type TokenClient struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	AuthMethod   string // AuthNone (default), AuthBasic or AuthPost
	Resource     string // the canonical MCP server URI
	HTTP         *http.Client
	Log          *slog.Logger // optional: where an expires_in made sane is reported, one line each
}

// TokenError is an OAuth error answer from the token endpoint (RFC 6749 §5.2).
type TokenError struct {
	Status      int
	Code        string // invalid_grant, invalid_client, temporarily_unavailable, ...
	Description string
	Challenge   string // the vendor ("Cloudflare") when the answer was a bot-protection challenge page, not JSON
}

// Error is the refusal in the server's words, scrubbed of every secret the process holds.
func (e *TokenError) Error() string { return secrets.Scrub(e.text()) }

func (e *TokenError) text() string {
	if e.Status == http.StatusTooManyRequests { // whatever its code, not a refusal of the grant
		said := ""
		if e.Code != "" {
			said = " (" + ErrorText(e.Code, e.Description) + ")"
		}
		return "the token endpoint is rate limiting (429)" + said + ": try again later"
	}
	if e.Code == "" && e.Description != "" {
		return fmt.Sprintf("the token endpoint answered HTTP %d with %s", e.Status, e.Description)
	}
	if e.Code == "" {
		return fmt.Sprintf("the token endpoint answered HTTP %d", e.Status)
	}
	return "the token endpoint refused: " + ErrorText(e.Code, e.Description)
}

// IsInvalidGrant reports whether err means the grant is gone (revoked, expired, or a refresh token reused): only
// a new sign-in helps.
func IsInvalidGrant(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == "invalid_grant"
}

// IsInvalidClient reports whether err means the registration is no longer known: register again.
func IsInvalidClient(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && (te.Code == "invalid_client" || te.Code == "unauthorized_client")
}

// Exchange redeems an authorization code with its PKCE verifier.
func (c *TokenClient) Exchange(ctx context.Context, code, verifier, redirectURI string) (*oauth2.Token, error) {
	secrets.Add(code, verifier)
	return c.post(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirectURI},
	}, "")
}

// Refresh trades a refresh token for new tokens. When the answer carries no refresh token the old one stays.
func (c *TokenClient) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	if refreshToken == "" {
		return nil, errors.New("no refresh token: sign in again")
	}
	secrets.Add(refreshToken)
	return c.post(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, refreshToken)
}

func (c *TokenClient) post(ctx context.Context, form url.Values, oldRefresh string) (*oauth2.Token, error) {
	resp, body, err := c.send(ctx, form)
	if err != nil {
		return nil, err
	}
	tok, err := parseTokenResponse(resp, body, oldRefresh)
	if err != nil {
		return nil, err
	}
	return c.withLifetime(tok, body), nil
}

// send POSTs form to the token endpoint with the resource and the client's authentication, and reads the answer.
func (c *TokenClient) send(ctx context.Context, form url.Values) (*http.Response, []byte, error) {
	return c.sendTo(ctx, "token endpoint", c.TokenURL, form)
}

// sendTo POSTs form to endpoint (named what in errors) with the resource and the client's authentication, and
// reads the answer. Nothing of the form appears in its errors.
func (c *TokenClient) sendTo(ctx context.Context, what, endpoint string, form url.Values) (*http.Response, []byte, error) {
	secrets.Add(c.ClientSecret)
	if c.Resource != "" {
		form.Set("resource", c.Resource)
	}
	method := c.AuthMethod
	if method == "" {
		method = AuthNone
	}
	switch method {
	case AuthBasic: // the id travels in the Authorization header only
	case AuthNone:
		form.Set("client_id", c.ClientID)
	case AuthPost:
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	default:
		return nil, nil, fmt.Errorf("token endpoint auth method %q is not supported; register again", method)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("%s request: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == AuthBasic {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := orDefault(c.HTTP).Do(req)
	if rerr := rateLimited(what, err); rerr != nil {
		return nil, nil, rerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", what, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", what, endpoint, err)
	}
	return resp, body, nil
}

// tokenJSON is the RFC 6749 §5.1 answer, with the §5.2 error fields; expires_in is read by withLifetime.
type tokenJSON struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func parseTokenResponse(resp *http.Response, body []byte, oldRefresh string) (*oauth2.Token, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var tj tokenJSON
	jsonErr := json.Unmarshal(body, &tj)
	page := webpage.Describe(resp.Header, body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || tj.Error != "" {
		if jsonErr == nil && tj.Error != "" {
			return nil, &TokenError{Status: resp.StatusCode, Code: tj.Error, Description: tj.ErrorDescription}
		}
		if page.Challenge != "" {
			return nil, &TokenError{Status: resp.StatusCode, Challenge: page.Challenge, Description: "a " + page.Challenge + " challenge page (" + page.Why() + "), not JSON"}
		}
		if page.IsHTML {
			return nil, &TokenError{Status: resp.StatusCode, Description: "an HTML page instead of JSON (a proxy or bot protection?)"}
		}
		return nil, &TokenError{Status: resp.StatusCode}
	}
	if jsonErr != nil && page.Challenge != "" {
		return nil, &TokenError{Status: resp.StatusCode, Challenge: page.Challenge, Description: "something other than JSON: a " + page.Challenge + " challenge page (" + page.Why() + ")"}
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("the token endpoint answered something other than JSON (%s); is a proxy in between?", mt)
	}
	if tj.AccessToken == "" {
		return nil, errors.New("the token endpoint answered without an access token")
	}
	if tj.TokenType != "" && !strings.EqualFold(tj.TokenType, "bearer") {
		return nil, errors.New("the token endpoint issued a token of another type than Bearer (DPoP or a proprietary type); only Bearer tokens are supported")
	}
	secrets.Add(tj.AccessToken, tj.RefreshToken)
	tok := &oauth2.Token{AccessToken: tj.AccessToken, TokenType: "Bearer", RefreshToken: tj.RefreshToken}
	if tok.RefreshToken == "" {
		tok.RefreshToken = oldRefresh
	}
	if tj.Scope != "" {
		tok = tok.WithExtra(map[string]any{"scope": tj.Scope})
	}
	return tok, nil
}

// Revoke asks the server to revoke a token (RFC 7009); TokenURL is the revocation endpoint here.
func (c *TokenClient) Revoke(ctx context.Context, token string) error {
	secrets.Add(token)
	resp, body, err := c.send(ctx, url.Values{"token": {token}})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		_, err := parseTokenResponse(resp, body, "")
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}
