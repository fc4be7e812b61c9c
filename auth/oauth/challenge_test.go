package oauth

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{"bearer with params", []string{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{
				"resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", "scope": "files:read files:write"}}}},
		{"case-insensitive names, token values", []string{`bEaReR Error=insufficient_scope, SCOPE="a b"`},
			[]Challenge{{Scheme: "bEaReR", Params: map[string]string{"error": "insufficient_scope", "scope": "a b"}}}},
		{"several schemes in one value", []string{`Basic realm="simple", Bearer realm="x", error="invalid_token"`},
			[]Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "simple"}},
				{Scheme: "Bearer", Params: map[string]string{"realm": "x", "error": "invalid_token"}}}},
		{"RFC 9110 example", []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]Challenge{{Scheme: "Newauth", Params: map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
				{Scheme: "Basic", Params: map[string]string{"realm": "simple"}}}},
		{"commas and equals inside quotes", []string{`Bearer error_description="a, b=c, Basic d", scope="s"`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": "a, b=c, Basic d", "scope": "s"}}}},
		{"token68", []string{`Negotiate abc+/def==, Bearer`},
			[]Challenge{{Scheme: "Negotiate", Token68: "abc+/def=="}, {Scheme: "Bearer"}}},
		{"several field values", []string{`Basic realm="r"`, `Bearer scope="x"`},
			[]Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "r"}}, {Scheme: "Bearer", Params: map[string]string{"scope": "x"}}}},
		{"BWS around = and empty list elements", []string{` , Bearer  scope = "x" ,, error = invalid_token ,`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "x", "error": "invalid_token"}}}},
		{"first of a repeated param wins", []string{`Bearer scope="a", scope="b"`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a"}}}},
		{"unterminated quote runs to the end", []string{`Bearer scope="a b`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a b"}}}},
		{"garbage is skipped", []string{`=x, "q", Bearer scope=s junk, error=e`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "s", "error": "e"}}}},
		{"empty", []string{"", "  ,  "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseWWWAuthenticate(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestFindBearer(t *testing.T) {
	cs := ParseWWWAuthenticate([]string{`Basic realm="r", Bearer error="insufficient_scope", scope="mcp:basic mcp:write", resource_metadata="https://h/prm", error_description="need \"write\""`})
	b := FindBearer(cs)
	if b == nil {
		t.Fatal("no Bearer challenge found")
	}
	if b.ErrorCode() != "insufficient_scope" || b.Scope() != "mcp:basic mcp:write" || b.ResourceMetadata() != "https://h/prm" || b.ErrorDescription() != `need "write"` {
		t.Errorf("got %+v", b.Params)
	}
	if FindBearer(ParseWWWAuthenticate([]string{`Basic realm="r"`})) != nil {
		t.Error("found a Bearer challenge where there is none")
	}
	var none *Challenge
	if none.Scope() != "" || none.ResourceMetadata() != "" {
		t.Error("a nil challenge has parameters")
	}
}

// FuzzParseWWWAuthenticate checks that any input parses without panicking into well-formed challenges, and
// that any value, quoted with escapes, comes back intact next to other challenges.
func FuzzParseWWWAuthenticate(f *testing.F) {
	seeds := [][2]string{
		{`Bearer resource_metadata="https://h/x", scope="a b"`, "mcp:basic mcp:write"},
		{`Basic realm="a\"b", Negotiate abc==`, `say "hi", \ bye`},
		{`,,=" \`, ","},
		{`Bearer x=`, ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		cs := ParseWWWAuthenticate([]string{header, header})
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("challenge without a scheme from %q", header)
			}
			for k := range c.Params {
				if k == "" {
					t.Fatalf("empty parameter name from %q", header)
				}
			}
		}
		_ = FindBearer(cs).Scope()

		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value)
		rt := ParseWWWAuthenticate([]string{`Basic realm="x, Bearer scope=y", Bearer error=insufficient_scope, scope="` + q + `", Other abc==`})
		b := FindBearer(rt)
		if len(rt) != 3 || b == nil || b.Scope() != value || b.ErrorCode() != "insufficient_scope" || rt[2].Token68 != "abc==" {
			t.Fatalf("value %q did not round-trip: %#v", value, rt)
		}
	})
}
