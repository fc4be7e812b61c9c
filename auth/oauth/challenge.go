package oauth

import "strings"

// Challenge is one authentication challenge from a WWW-Authenticate header (RFC 9110 §11.6.1): a scheme with
// either a token68 or named parameters. Parameter names are lowercased; values are unquoted.
type Challenge struct {
	Scheme  string            // as sent; compare with strings.EqualFold
	Token68 string            // set when the challenge carries a token68 instead of parameters
	Params  map[string]string // lowercased names; the first occurrence of a repeated name wins
}

// Param returns the named parameter (case-insensitive), or "" when absent.
func (c *Challenge) Param(name string) string {
	if c == nil {
		return ""
	}
	return c.Params[strings.ToLower(name)]
}

// ResourceMetadata returns the RFC 9728 resource_metadata parameter: the URL of the protected resource metadata.
func (c *Challenge) ResourceMetadata() string { return c.Param("resource_metadata") }

// Scope returns the RFC 6750 scope parameter: the scopes the request needs, space-separated.
func (c *Challenge) Scope() string { return c.Param("scope") }

// ErrorCode returns the RFC 6750 error parameter, e.g. invalid_token or insufficient_scope.
func (c *Challenge) ErrorCode() string { return c.Param("error") }

// ErrorDescription returns the RFC 6750 error_description parameter.
func (c *Challenge) ErrorDescription() string { return c.Param("error_description") }

// FindBearer returns the first Bearer challenge in cs, or nil when there is none.
func FindBearer(cs []Challenge) *Challenge {
	for i := range cs {
		if strings.EqualFold(cs[i].Scheme, "Bearer") {
			return &cs[i]
		}
	}
	return nil
}

// ParseWWWAuthenticate parses every WWW-Authenticate field value into its challenges. It is lenient: a
// malformed part is skipped up to the next comma, and it never panics, whatever the input.
func ParseWWWAuthenticate(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := challengeParser{s: v}
		out = append(out, p.all()...)
	}
	return out
}

type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) all() []Challenge {
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.i >= len(p.s) {
			return out
		}
		scheme := p.token()
		if scheme == "" || (p.i < len(p.s) && p.s[p.i] == '=') {
			p.skipToComma() // not a scheme: garbage, or a parameter without a challenge
			continue
		}
		c := Challenge{Scheme: scheme}
		p.skipOWS()
		if p.i < len(p.s) && p.s[p.i] != ',' {
			if t, ok := p.token68(); ok {
				c.Token68 = t
			} else {
				c.Params = p.params()
			}
		}
		out = append(out, c)
	}
}

// params reads auth-params until the list ends or the next element is a new challenge's scheme.
func (p *challengeParser) params() map[string]string {
	m := map[string]string{}
	for {
		p.skipListSeparators()
		start := p.i
		name := p.token()
		if name == "" {
			if p.i >= len(p.s) {
				return m
			}
			p.skipToComma()
			continue
		}
		p.skipOWS()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			p.i = start // a token without "=": the scheme of the next challenge
			return m
		}
		p.i++
		p.skipOWS()
		var val string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			val = p.quoted()
		} else {
			val = p.token()
		}
		key := strings.ToLower(name)
		if _, dup := m[key]; !dup {
			m[key] = val
		}
		p.skipOWS()
		if p.i < len(p.s) && p.s[p.i] != ',' {
			p.skipToComma() // junk after the value
		}
	}
}

// token68 reads a token68 when it is the whole rest of this list element; otherwise it leaves the position.
func (p *challengeParser) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return "", false
	}
	t := p.s[p.i:j]
	p.i = k
	return t, true
}

// quoted reads a quoted-string starting at '"', undoing quoted-pairs. An unterminated string runs to the end.
func (p *challengeParser) quoted() string {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch ch := p.s[p.i]; ch {
		case '"':
			p.i++
			return b.String()
		case '\\':
			if p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func (p *challengeParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *challengeParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipListSeparators() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// skipToComma moves past the rest of a malformed element, stepping over quoted strings.
func (p *challengeParser) skipToComma() {
	for p.i < len(p.s) && p.s[p.i] != ',' {
		if p.s[p.i] == '"' {
			p.quoted()
			continue
		}
		p.i++
	}
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
