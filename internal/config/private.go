package config

import "fmt"

// UnsafeDirError is a config directory that other users can write to (or that belongs to another user): they
// could plant a symbolic link where the log or a token file goes, or read what the bridge keeps there.
type UnsafeDirError struct {
	Dir string // the directory
	Why string // "others can write to it (mode 0777)", "it belongs to another user (uid 1001)"
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("the config directory %s is not private: %s; another user could plant files in it (a link in place of the log, a token file)", e.Dir, e.Why)
}
