package credstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// Tokens are the tokens of one server, issuer and client, as kept in a Store.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scope        string    `json:"scope,omitempty"`
	// ExpiresIn is the lifetime in seconds the access token was issued with (expires_in, made sane); 0 when unknown,
	// as in tokens saved by earlier versions. Every process derives the token's refresh margin from it.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// String describes t without its tokens, so a stray %v cannot log one.
func (t Tokens) String() string {
	return fmt.Sprintf("Tokens{access:%s refresh:%s type:%q expiry:%s lifetime:%ds scope:%q}",
		redacted(t.AccessToken), redacted(t.RefreshToken), t.TokenType, t.Expiry.Format(time.RFC3339), t.ExpiresIn, t.Scope)
}

// GoString is String, for %#v.
func (t Tokens) GoString() string { return t.String() }

// Registration is the OAuth client the bridge registered (or was given) for one server and issuer.
type Registration struct {
	Issuer                  string    `json:"issuer"`
	ClientID                string    `json:"client_id"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method,omitempty"`
	RedirectURI             string    `json:"redirect_uri,omitempty"`
	CallbackPort            int       `json:"callback_port,omitempty"`
	RegisteredAt            time.Time `json:"registered_at,omitzero"`
}

// String describes r without its client secret.
func (r Registration) String() string {
	return fmt.Sprintf("Registration{issuer:%q client_id:%q secret:%s auth:%q redirect:%q}",
		r.Issuer, r.ClientID, redacted(r.ClientSecret), r.TokenEndpointAuthMethod, r.RedirectURI)
}

// GoString is String, for %#v.
func (r Registration) GoString() string { return r.String() }

func redacted(s string) string {
	if s == "" {
		return "none"
	}
	return "set"
}

func tokensName(key string) string       { return key + "/tokens" }
func registrationName(key string) string { return key + "/client" }

// loadTokens reads the tokens kept under key (a storeKey); ErrNotFound when there are none.
func loadTokens(ctx context.Context, s Store, key string) (*Tokens, error) {
	var t Tokens
	if err := loadJSON(ctx, s, tokensName(key), "tokens", &t); err != nil {
		return nil, err
	}
	secrets.Add(t.AccessToken, t.RefreshToken)
	return &t, nil
}

// saveTokens keeps t under key, replacing what was there.
func saveTokens(ctx context.Context, s Store, key string, t *Tokens) error {
	secrets.Add(t.AccessToken, t.RefreshToken)
	return saveJSON(ctx, s, tokensName(key), "tokens", t)
}

// loadRegistration reads the client registration kept under key; ErrNotFound when there is none.
func loadRegistration(ctx context.Context, s Store, key string) (*Registration, error) {
	var r Registration
	if err := loadJSON(ctx, s, registrationName(key), "client registration", &r); err != nil {
		return nil, err
	}
	secrets.Add(r.ClientSecret)
	return &r, nil
}

// saveRegistration keeps r under key, replacing what was there.
func saveRegistration(ctx context.Context, s Store, key string, r *Registration) error {
	return saveJSON(ctx, s, registrationName(key), "client registration", r)
}

// forgetKey deletes the tokens and the client registration kept under key.
func forgetKey(ctx context.Context, s Store, key string) error {
	return errors.Join(s.Delete(ctx, tokensName(key)), s.Delete(ctx, registrationName(key)))
}

// ErrUnreadable means a stored value is there but is not what the bridge wrote (damaged, or edited by hand); a new
// sign-in replaces it.
var ErrUnreadable = errors.New("it is damaged; a new sign-in replaces it")

func loadJSON(ctx context.Context, s Store, name, what string, v any) error {
	b, err := s.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("no saved %s (%s): %w", what, name, ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("load %s: %w", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil { // the error text would quote the content: do not wrap it
		return fmt.Errorf("the saved %s (%s in the %s store) cannot be read: %w", what, name, s.Kind(), ErrUnreadable)
	}
	return nil
}

func saveJSON(ctx context.Context, s Store, name, what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save %s: %w", what, err)
	}
	if err := s.Set(ctx, name, b); err != nil {
		return fmt.Errorf("save %s: %w", what, err)
	}
	return nil
}
