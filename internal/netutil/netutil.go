// Package netutil holds the small facts about hosts and addresses that several parts of the bridge decide the
// same way. It imports nothing of the project.
package netutil

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
)

// HostPort is u's host and port, with the scheme's default port (443 for https, else 80) when u names none.
// IPv6 literals keep their brackets.
func HostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if strings.EqualFold(u.Scheme, "https") {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// IsLoopback reports whether host (a URL's Hostname, without brackets) is localhost or a loopback IP literal.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsTimeout reports a timeout of any kind: a net.Error that says so, or a context deadline.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
