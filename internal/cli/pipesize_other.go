//go:build !linux

package cli

import "os"

// growPipe leaves f as it is: only Linux lets a process size a pipe's buffer (macOS grows its own).
func growPipe(*os.File) {}
