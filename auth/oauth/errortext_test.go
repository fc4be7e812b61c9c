package oauth

import "testing"

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"one secret, twice", "code c-1 and c-1 again", []string{"c-1"}, "code [redacted] and [redacted] again"},
		{"several secrets", "state s-9 for code c-1", []string{"s-9", "c-1"}, "state [redacted] for code [redacted]"},
		{"an empty secret is no secret", "nothing to hide", []string{""}, "nothing to hide"},
		{"no secrets", "as it was", nil, "as it was"},
	} {
		if got := Redact(tc.in, tc.secrets...); got != tc.want {
			t.Errorf("%s: Redact(%q, %q) = %q, want %q", tc.name, tc.in, tc.secrets, got, tc.want)
		}
	}
}
