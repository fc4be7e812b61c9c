package auth

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The loopback listener answers only to its own loopback names on its own port: a request naming another Host
// (a rebound DNS name of a web page, another port) gets a 400 and never ends the wait, even with the right state;
// the real redirect still gets through afterwards.
func TestLoopbackChecksHost(t *testing.T) {
	l, err := ListenLoopback(nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Expect("s1", "", false)
	port := strconv.Itoa(l.Port())
	q := url.Values{"state": {"s1"}, "code": {"stolen"}}
	for _, c := range []struct {
		host string
		ok   bool
	}{
		{"evil.example:" + port, false},
		{"evil.example", false},
		{"127.0.0.1", false},          // no port
		{"127.0.0.1:1" + port, false}, // another port
		{"localhost.evil.example:" + port, false},
		{"127.0.0.1:" + port, true},
		{"LOCALHOST:" + port, true},
		{"[::1]:" + port, true},
	} {
		req, _ := http.NewRequest(http.MethodGet, l.RedirectURI()+"?"+q.Encode(), nil)
		req.Host = c.host
		if c.ok {
			req.URL.RawQuery = url.Values{"state": {"not-ours"}}.Encode() // reaches the handler, which finds it stale
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wrongHost := strings.Contains(string(body), "answers only to 127.0.0.1, localhost and [::1]")
		if resp.StatusCode != http.StatusBadRequest || wrongHost == c.ok {
			t.Errorf("Host %q: %d %q; want 400 and the host refused: %v", c.host, resp.StatusCode, body, !c.ok)
		}
	}
	pageDone := getAsync(t, l.RedirectURI(), url.Values{"state": {"s1"}, "code": {"good"}})
	cb, err := l.Wait(context.Background())
	if err != nil || cb.Code != "good" {
		t.Fatalf("got %+v %v: the wrong-host requests must not have ended the wait", cb, err)
	}
	l.Finish(nil)
	if p := <-pageDone; p.status != http.StatusOK {
		t.Fatalf("the real redirect: %d %s", p.status, p.body)
	}
}
