package ratelimit

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 3, 4, 250e6, time.UTC)
	tests := []struct {
		name, h string
		want    time.Duration
		ok      bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"seconds with spaces", " 7 ", 7 * time.Second, true},
		{"zero", "0", 0, true},
		{"IMF-fixdate", "Wed, 04 Mar 2026 12:03:49 GMT", 44*time.Second + 750*time.Millisecond, true},
		{"RFC 850 date", "Wednesday, 04-Mar-26 12:04:04 GMT", 59*time.Second + 750*time.Millisecond, true},
		{"asctime date", "Wed Mar  4 12:03:14 2026", 9*time.Second + 750*time.Millisecond, true},
		{"past date", "Wed, 21 Oct 2015 07:28:00 GMT", 0, true},
		{"too many seconds", "99999999999999999999999", maxDelay, true},
		{"a year and more", "40000000", maxDelay, true},
		{"absent", "", 0, false},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"garbage", "soon", 0, false},
		{"date without zone", "2026-03-04 12:05:00", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.h, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	at := time.Date(2026, 3, 4, 12, 3, 4, 0, time.UTC)
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"429", Error{Endpoint: "https://as.example/token", Status: 429, Wait: 45 * time.Second, Until: at.Add(45 * time.Second)},
			"https://as.example/token is rate limiting (429): it asks to wait 45s (until 12:03:49 UTC)"},
		{"503", Error{Endpoint: "https://mcp.example/mcp", Status: 503, Wait: 2 * time.Minute, Until: at.Add(2 * time.Minute)},
			"https://mcp.example/mcp is unavailable (503): it asks to wait 2m0s (until 12:05:04 UTC)"},
		{"part of a second is rounded up, never down", Error{Endpoint: "https://a/b", Status: 429, Wait: 44*time.Second + time.Millisecond,
			Until: at.Add(44*time.Second + time.Millisecond)}, "it asks to wait 45s (until 12:03:49 UTC)"},
		{"a day away shows the date", Error{Endpoint: "https://a/b", Status: 429, Wait: 26 * time.Hour, Until: at.Add(26 * time.Hour)},
			"it asks to wait 26h0m0s (until 2026-03-05 14:03:04 UTC)"},
		{"another zone is shown in UTC", Error{Endpoint: "https://a/b", Status: 429, Wait: time.Minute,
			Until: at.Add(time.Minute).In(time.FixedZone("X", 3600))}, "(until 12:04:04 UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); !strings.HasSuffix(got, tt.want) || !strings.HasPrefix(got, tt.err.Endpoint+" ") {
				t.Errorf("Error() = %q; want it to end in %q", got, tt.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pw@AS.Example:8443/oauth/token?client_id=x&secret=y#f", "https://as.example:8443/oauth/token"},
		{"HTTP://localhost", "http://localhost/"},
		{"https://h/a%2Fb", "https://h/a%2Fb"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Endpoint(u); got != tt.want {
			t.Errorf("Endpoint(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
