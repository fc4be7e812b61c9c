package auth

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzLoopbackCallback sends the loopback redirect arbitrary query strings. Properties: no panic; a code is
// accepted only with this sign-in's exact state and, when the server promised it, its exact iss; the page shown
// never echoes the code nor any markup from the query.
func FuzzLoopbackCallback(f *testing.F) {
	for _, q := range []string{
		"state=s1&code=c0de-value&iss=https%3A%2F%2Fas.example.com",
		"state=s1&code=c0de-value",
		"state=s2&code=x",
		"state=s1&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"state=s1&state=s1&code=a&code=b",
		"state=s1&iss=https%3A%2F%2Fevil.example&code=c0de-value",
		"%zz", "state=s1&code=%3Cb%3E",
	} {
		f.Add(q, true)
	}
	f.Fuzz(func(t *testing.T, rawQuery string, issRequired bool) {
		l := &Loopback{result: make(chan callbackResult, 1), outcome: make(chan error, 1), closing: make(chan struct{})}
		l.outcome <- nil // the page of a code is answered at once, as after a redeemed code
		l.Expect("s1", "https://as.example.com", issRequired)
		req := httptest.NewRequest("GET", "http://127.0.0.1:1/callback", nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		l.handle(rec, req)
		q, _ := url.ParseQuery(rawQuery)
		body := rec.Body.String()
		if strings.Contains(strings.ToLower(body), "<script") {
			t.Fatalf("the page echoes markup: %q", body)
		}
		select {
		case r := <-l.result:
			if r.err != nil {
				return
			}
			if q.Get("state") != "s1" || r.cb.Code == "" || r.cb.Code != q.Get("code") {
				t.Fatalf("accepted %+v for query %q", r.cb, rawQuery)
			}
			iss, has := q["iss"]
			if (has && (len(iss) != 1 || iss[0] != "https://as.example.com")) || (!has && issRequired) {
				t.Fatalf("accepted a response with iss %v (required %v)", iss, issRequired)
			}
			if len(r.cb.Code) >= 12 && strings.Contains(body, r.cb.Code) {
				t.Fatalf("the page echoes the code: %q", body)
			}
		default:
		}
	})
}
