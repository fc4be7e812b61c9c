// Package oauth is the protocol side of signing in to an MCP server: the documents (RFC 9728 protected resource
// metadata, RFC 8414 / OpenID authorization server metadata, the WWW-Authenticate challenge), dynamic client
// registration, the authorization request with PKCE, and the token endpoint client — code exchange, refresh,
// revocation, the device authorization grant, expires_in made sane — as plain functions over an *http.Client. It
// keeps nothing and opens nothing: storing credentials is auth/credstore's, running a sign-in is auth's.
package oauth
