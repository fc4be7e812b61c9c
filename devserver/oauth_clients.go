package devserver

import (
	"fmt"
	"slices"
)

// Client is a client the operator registered beforehand (Config.Clients), not through dynamic registration.
type Client struct {
	ID           string   // its client_id
	Secret       string   // its client_secret; "" for a public client
	AuthMethod   string   // none, client_secret_basic or client_secret_post; "" means client_secret_basic with a secret, else none
	RedirectURIs []string // matched exactly: no loopback port leeway, as servers that register clients by hand do
	Name         string
}

// checkClients reports a client of Config.Clients that cannot work.
func checkClients(clients []Client) error {
	for _, c := range clients {
		if _, err := clientAuthMethod(c); err != nil {
			return err
		}
	}
	return nil
}

// clientAuthMethod is c's token endpoint auth method, checked against its secret and redirect URIs.
func clientAuthMethod(c Client) (string, error) {
	method := c.AuthMethod
	if method == "" {
		method = "none"
		if c.Secret != "" {
			method = "client_secret_basic"
		}
	}
	switch {
	case c.ID == "":
		return "", fmt.Errorf("devserver: a pre-registered client has no ID")
	case !slices.Contains(authMethods, method):
		return "", fmt.Errorf("devserver: client %s: unsupported token_endpoint_auth_method %q", c.ID, method)
	case (method == "none") != (c.Secret == ""):
		return "", fmt.Errorf("devserver: client %s: token_endpoint_auth_method %s and a secret do not go together", c.ID, method)
	}
	for _, u := range c.RedirectURIs {
		if msg := checkRedirectURI(u); msg != "" {
			return "", fmt.Errorf("devserver: client %s: %s", c.ID, msg)
		}
	}
	return method, nil
}

// preregister adds the clients of Config.Clients (Listen has refused any that cannot work; New skips them).
func (o *oauthServer) preregister(clients []Client) {
	for _, c := range clients {
		method, err := clientAuthMethod(c)
		if err != nil {
			o.s.log.Error("oauth: pre-registered client skipped", "err", err)
			continue
		}
		o.clients[c.ID] = &oauthClient{ID: c.ID, Secret: c.Secret, Name: c.Name, AppType: "web", AuthMethod: method,
			RedirectURIs: slices.Clone(c.RedirectURIs), GrantTypes: []string{"authorization_code", "refresh_token"},
			IssuedAt: o.now(), Exact: true}
	}
}
