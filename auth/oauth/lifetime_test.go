package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const year = 365 * 24 * 60 * 60

func TestTokenLifetime(t *testing.T) {
	tests := []struct {
		raw      string // expires_in as sent; "" for absent
		want     int64
		wantNote string // "" for none
	}{
		{"", 0, ""},
		{"null", 0, ""},
		{"3600", 3600, ""},
		{"3600.0", 3600, ""},
		{"36e2", 3600, ""},
		{`"3600"`, 3600, ""},
		{"1", 1, ""},
		{"31536000", year, ""},
		{"0", 60, "0 is not positive: the token is taken to live 1m0s"},
		{"-0", 60, "is not positive"},
		{"-5", 60, "-5 is not positive"},
		{`"-5"`, 60, "-5 is not positive"},
		{"-1e999", 60, "is not positive"},
		{"0.5", 1, "0.5 is not whole seconds: the token is taken to live 1s"},
		{"2.01", 3, "not whole seconds"},
		{"31536001", year, "3.1536e+07 is beyond a year: the token is taken to live 8760h0m0s"},
		{"9300000000", year, "9.3e+09 is beyond a year"}, // over time.Duration's range in seconds
		{"99999999999999999999", year, "1e+20 is beyond a year"},
		{"1e999", year, "+Inf is beyond a year"},
		{`"NaN"`, 0, "is not a number"},
		{`"Infinity"`, 0, "is not a number"},
		{`"0x10"`, 0, "is not a number"},
		{`"1_000"`, 0, "is not a number"},
		{`"+5"`, 0, "is not a number"},
		{`"an hour"`, 0, "is not a number"},
		{`""`, 0, "is not a number"},
		{"true", 0, "is not a number"},
		{`{"s":1}`, 0, "is not a number"},
		{"[60]", 0, "is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, note := tokenLifetime(json.RawMessage(tt.raw))
			if got != tt.want {
				t.Errorf("lifetime %d s, want %d s", got, tt.want)
			}
			if (tt.wantNote == "") != (note == "") || !strings.Contains(note, tt.wantNote) {
				t.Errorf("note %q, want one with %q", note, tt.wantNote)
			}
		})
	}
}

// The token client sets the lifetime and the expiry from expires_in, made sane, and logs one line when it had to
// change it, naming no token.
func TestTokenClientMakesExpiresInSane(t *testing.T) {
	tests := []struct {
		expiresIn string
		want      int64 // seconds; 0: no expiry
		logs      bool
	}{
		{"10", 10, false},
		{`"10"`, 10, false},
		{"0", 60, true},
		{"-3600", 60, true},
		{"10000000000", year, true},
		{`"soon"`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.expiresIn, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				body := `{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-1","expires_in":` + tt.expiresIn + `}`
				client := &TokenClient{TokenURL: "https://as.example.com/token", ClientID: "c", Resource: "https://mcp.example.com/mcp",
					HTTP: &http.Client{Transport: canned{status: 200, ctype: "application/json", body: []byte(body)}}}
				var logged bytes.Buffer
				client.Log = slog.New(slog.NewTextHandler(&logged, nil))
				tok, err := client.Refresh(context.Background(), "rt-0")
				if err != nil {
					t.Fatal(err)
				}
				wantExpiry := time.Time{}
				if tt.want > 0 {
					wantExpiry = time.Now().Add(time.Duration(tt.want) * time.Second)
				}
				if tok.ExpiresIn != tt.want || !tok.Expiry.Equal(wantExpiry) {
					t.Errorf("lifetime %d s, expiry %v; want %d s, %v", tok.ExpiresIn, tok.Expiry, tt.want, wantExpiry)
				}
				lines := strings.Count(logged.String(), "\n")
				if (lines == 1) != tt.logs || lines > 1 {
					t.Errorf("log lines: %d, want one: %v\n%s", lines, tt.logs, logged.String())
				}
				if strings.Contains(logged.String(), "at-1") || strings.Contains(logged.String(), "rt-1") {
					t.Errorf("the log names a token: %s", logged.String())
				}
			})
		})
	}
}
