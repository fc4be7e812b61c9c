package credstore

import (
	"context"
	"errors"
	"fmt"
)

// SignInRecord is what the bridge remembers of a server between runs: the client it signed in with and that
// client's endpoints, so a restart can refresh without any discovery. Its tokens are kept apart (SaveTokens),
// since they are rewritten on every refresh.
type SignInRecord struct {
	Registration
	TokenEndpoint      string `json:"token_endpoint"`
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint   string `json:"userinfo_endpoint,omitempty"`
	// Resource is the RFC 8707 resource the grant was issued for (the server's metadata may name its origin
	// rather than the endpoint); "" in records of earlier versions, which used the endpoint's.
	Resource string `json:"resource,omitempty"`
}

// recordName is where the sign-in of the server resource is kept.
func recordName(resource string) string { return ServerKey(resource) + "/server" }

// tokensKey is where the tokens of client's sign-in to the server resource are kept.
func tokensKey(resource string, client *Registration) string {
	return storeKey(resource, client.Issuer, client.ClientID)
}

// ReadSignIn reads the sign-in kept for the server resource and its tokens. With no sign-in kept, the error wraps
// ErrNotFound; with a record that is not what the bridge wrote, ErrUnreadable. Once the record is read, rec is
// returned even when the tokens are not: tokens is nil when none are kept, and err says why they could not be read.
func ReadSignIn(ctx context.Context, s Store, resource string) (rec *SignInRecord, tokens *Tokens, err error) {
	var r SignInRecord
	if err := loadJSON(ctx, s, recordName(resource), "sign-in", &r); err != nil {
		return nil, nil, err
	}
	if r.ClientID == "" || r.TokenEndpoint == "" {
		return nil, nil, fmt.Errorf("the saved sign-in (%s in the %s store) cannot be read: %w", recordName(resource), s.Kind(), ErrUnreadable)
	}
	t, err := loadTokens(ctx, s, tokensKey(resource, &r.Registration))
	if errors.Is(err, ErrNotFound) {
		return &r, nil, nil
	}
	if err != nil {
		return &r, nil, err
	}
	return &r, t, nil
}

// SaveSignIn keeps rec as the sign-in of the server resource, replacing what was there.
func SaveSignIn(ctx context.Context, s Store, resource string, rec *SignInRecord) error {
	return saveJSON(ctx, s, recordName(resource), "sign-in", rec)
}

// SaveTokens keeps t as the tokens of client's sign-in to the server resource, replacing what was there.
func SaveTokens(ctx context.Context, s Store, resource string, client *Registration, t *Tokens) error {
	return saveTokens(ctx, s, tokensKey(resource, client), t)
}

// Forget deletes what is kept of the server resource: the tokens of the client its sign-in names, the client
// registration at that sign-in's issuer, and the sign-in itself. With no readable sign-in, only the sign-in goes.
func Forget(ctx context.Context, s Store, resource string) error {
	var errs []error
	if rec, _, _ := ReadSignIn(ctx, s, resource); rec != nil {
		errs = append(errs,
			forgetKey(ctx, s, tokensKey(resource, &rec.Registration)),
			forgetKey(ctx, s, ClientKey{Resource: resource, Issuer: rec.Issuer}.key()))
	}
	return errors.Join(append(errs, s.Delete(ctx, recordName(resource)))...)
}

// ClientKey says which client registration: the one for a server (Resource) at an authorization server (Issuer),
// registered for the browser sign-in or, kept apart, for the device grant.
type ClientKey struct {
	Resource string
	Issuer   string
	Device   bool // registered for the device authorization grant (no redirect URIs)
}

func (k ClientKey) key() string {
	issuer := k.Issuer
	if k.Device {
		issuer += "#device"
	}
	return storeKey(k.Resource, issuer, "")
}

// LoadRegistration reads the client registration kept for k; ErrNotFound when there is none.
func LoadRegistration(ctx context.Context, s Store, k ClientKey) (*Registration, error) {
	return loadRegistration(ctx, s, k.key())
}

// SaveRegistration keeps r as the client registration for k, replacing what was there.
func SaveRegistration(ctx context.Context, s Store, k ClientKey, r *Registration) error {
	return saveRegistration(ctx, s, k.key(), r)
}

// ForgetRegistration deletes the client registration kept for k.
func ForgetRegistration(ctx context.Context, s Store, k ClientKey) error {
	return s.Delete(ctx, registrationName(k.key()))
}
