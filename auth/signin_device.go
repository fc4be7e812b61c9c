package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/auth/credstore"
	"github.com/meshailabs-org/meshai-mcp-server/auth/oauth"
)

// deviceSignIn signs in with the device authorization grant (RFC 8628): the user enters a code shown on stderr
// on any device with a browser, while the bridge polls the token endpoint. No port is bound.
func (s *SignIn) deviceSignIn(ctx context.Context, meta *oauth.ServerMetadata, resource string, scopes []string) error {
	if meta.DeviceAuthorizationEndpoint == "" {
		return &NoDeviceGrantError{Issuer: meta.Issuer}
	}
	reg, err := s.deviceRegistration(ctx, meta, resource, scopes)
	if err != nil {
		return err
	}
	tc := s.tokenClient(meta, reg, resource)
	s.logf("signing in with a device code", "issuer", meta.Issuer, "scopes", strings.Join(scopes, " "))
	defer s.setAuthURL("")
	tok, err := oauth.RunDeviceFlow(ctx, tc, meta.DeviceAuthorizationEndpoint, scopes, resource, func(d oauth.DeviceCode) {
		fmt.Fprintln(s.stderr(), "meshai-mcp-server:", d.Instructions())
		link := d.VerificationURIComplete
		if link == "" {
			link = d.VerificationURI + " (code " + d.UserCode + ")"
		}
		s.setAuthURL(link)
	})
	if err != nil {
		return fmt.Errorf("device sign-in: %w", err)
	}
	return s.signedIn(ctx, meta, reg, resource, tok, scopes)
}

// deviceRegistration returns the client for the device grant: pre-registered, the one registered for it before,
// or a new dynamic registration without redirect URIs.
func (s *SignIn) deviceRegistration(ctx context.Context, meta *oauth.ServerMetadata, resource string, scopes []string) (*credstore.Registration, error) {
	if s.ClientID != "" {
		return &credstore.Registration{Issuer: meta.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret, TokenEndpointAuthMethod: s.clientAuthMethod(meta)}, nil
	}
	key := credstore.ClientKey{Resource: resource, Issuer: meta.Issuer, Device: true}
	reg, _ := credstore.LoadRegistration(ctx, s.Store, key)
	reg, err := s.dropForgottenClient(ctx, reg, key)
	if err != nil {
		return nil, err
	}
	if reg != nil && reg.Issuer == meta.Issuer {
		return reg, nil
	}
	if meta.RegistrationEndpoint == "" {
		return nil, &NoRegistrationError{Issuer: meta.Issuer, Device: true}
	}
	dc, err := oauth.RegisterClient(ctx, s.clientFor(meta.RegistrationEndpoint), meta.RegistrationEndpoint, oauth.DeviceClient(strings.Join(scopes, " "), s.Version))
	if err != nil {
		return nil, err
	}
	reg = &credstore.Registration{Issuer: meta.Issuer, ClientID: dc.ClientID, ClientSecret: dc.ClientSecret,
		TokenEndpointAuthMethod: dc.AuthMethod, RegisteredAt: time.Now()}
	if err := credstore.SaveRegistration(ctx, s.Store, key, reg); err != nil {
		return nil, fmt.Errorf("save the registration: %w", err)
	}
	return reg, nil
}

// setAuthURL publishes the link the user must open while signing in ("" once the browser step is over).
func (s *SignIn) setAuthURL(u string) {
	s.life.update(func(st *State) {
		if st.Phase == SigningIn {
			st.URL = u
			if u == "" {
				st.RedirectURI = ""
			}
		}
	})
}
