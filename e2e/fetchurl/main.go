// Command fetchurl is the "browser" of the sign-in tests: it fetches the URL it is given and follows redirects,
// which against an auto-approving authorization server ends at the bridge's loopback callback.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fetchurl URL")
		os.Exit(2)
	}
	resp, err := http.Get(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetchurl:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "fetchurl: HTTP", resp.StatusCode)
		os.Exit(1)
	}
}
