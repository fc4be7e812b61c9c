//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openLogFile opens the log file for appending, creating it 0600, without following a symbolic link in its place:
// one planted there by another user would otherwise have the bridge append to a file of their choosing.
func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("the log file %s is a symbolic link: refusing to follow it (delete it; the bridge makes a new file)", path)
	}
	return f, err
}
