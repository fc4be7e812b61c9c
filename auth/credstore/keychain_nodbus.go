//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package credstore

// keychainReachable has nothing to check here: macOS and Windows keychains need no session bus.
func keychainReachable() error { return nil }
