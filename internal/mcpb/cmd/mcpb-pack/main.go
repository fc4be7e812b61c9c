// Command mcpb-pack writes a directory as a reproducible MCP Bundle: scripts/build-mcpb runs it.
//
//	go run ./internal/mcpb/cmd/mcpb-pack -o OUT.mcpb -mtime UNIX-SECONDS DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/mcpb"
)

func main() {
	out := flag.String("o", "", "write the bundle to this `file` (replaced atomically)")
	mtime := flag.Int64("mtime", -1, "every entry's modification time, in Unix `seconds` (e.g. $SOURCE_DATE_EPOCH)")
	flag.Parse()
	if *out == "" || *mtime < 0 || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mcpb-pack -o OUT.mcpb -mtime UNIX-SECONDS DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, time.Unix(*mtime, 0)); err != nil {
		fmt.Fprintln(os.Stderr, "mcpb-pack:", err)
		os.Exit(1)
	}
}

// run packs dir into a temporary file beside out and renames it over out once complete.
func run(dir, out string, modified time.Time) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := mcpb.Pack(tmp, dir, modified); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
