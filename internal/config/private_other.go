//go:build !unix

package config

// CheckPrivate accepts every directory where permissions are not Unix modes (Windows: the default ACLs of
// %LocalAppData% are the user's own; the log file is still opened without following links).
func CheckPrivate(dir string) error { return nil }
