//go:build !unix

package cli

import "io"

// pollableStdio leaves stdio as it is where pipes have no non-blocking mode to switch to.
func pollableStdio(in io.Reader, out io.Writer) (io.Reader, io.Writer) { return in, out }
