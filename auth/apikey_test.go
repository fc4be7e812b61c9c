package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestAPIKey(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{"sk-abc", "sk-abc", nil},
		{"  sk-abc\n", "sk-abc", nil},
		{"", "", ErrEmptyAPIKey},
		{"   ", "", ErrEmptyAPIKey},
		{"sk-abc def", "", ErrMalformedAPIKey},
		{"sk-\x00abc", "", ErrMalformedAPIKey},
	}
	for _, tt := range tests {
		ts, err := APIKey(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%q: err = %v, want %v", tt.in, err, tt.wantErr)
			}
			if k := strings.TrimSpace(tt.in); err != nil && k != "" && strings.Contains(err.Error(), k) {
				t.Errorf("%q: the error must not echo the key", tt.in)
			}
			continue
		}
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != tt.want || tok.Type() != "Bearer" {
			t.Errorf("%q: token %+v, err %v", tt.in, tok, err)
		}
	}
}
