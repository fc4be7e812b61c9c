package auth

import (
	"strings"
	"testing"
)

func TestAPIKey(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"sk-abc", "sk-abc", ""},
		{"  sk-abc\n", "sk-abc", ""},
		{"", "", "is empty"},
		{"   ", "", "is empty"},
		{"sk-abc def", "", "spaces or control characters"},
		{"sk-\x00abc", "", "spaces or control characters"},
	}
	for _, tt := range tests {
		ts, err := APIKey(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.wantErr)
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
