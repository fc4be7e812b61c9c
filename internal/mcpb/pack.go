// Package mcpb writes MCP Bundles (.mcpb: a zip archive with manifest.json at its root, the format of
// @anthropic-ai/mcpb) byte for byte reproducibly: the same directory and time give the same archive.
package mcpb

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// dosEpoch is the earliest time a zip's MS-DOS date field can hold; earlier times are clamped to it.
var dosEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack writes the regular files under dir to w as a zip archive: entries in byte order of their slash-separated
// path, no directory entries, every entry modified at the given time (UTC), mode 0755 for a file with any
// execute bit and 0644 otherwise, deflated at the best compression. A symlink or other special file is an error,
// as is a directory without manifest.json.
func Pack(w io.Writer, dir string, modified time.Time) error {
	root := os.DirFS(dir)
	if _, err := fs.Stat(root, "manifest.json"); err != nil {
		return fmt.Errorf("mcpb: %s has no manifest.json: %w", dir, err)
	}
	files, err := regularFiles(root)
	if err != nil {
		return fmt.Errorf("mcpb: %s: %w", dir, err)
	}
	modified = modified.UTC()
	if modified.Before(dosEpoch) {
		modified = dosEpoch
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, f := range files {
		if err := addFile(zw, root, f, modified); err != nil {
			return fmt.Errorf("mcpb: %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("mcpb: finish the archive: %w", err)
	}
	return nil
}

// file is one entry to pack: its slash-separated path and its mode.
type file struct {
	name string
	mode fs.FileMode
}

// regularFiles lists the files under root sorted by path, refusing anything that is not a regular file.
func regularFiles(root fs.FS) ([]file, error) {
	var files []file
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (%s): a bundle holds files only", p, d.Type())
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, file{name: p, mode: mode})
		return nil
	})
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	return files, err
}

// addFile copies one file into the archive under a header that depends on nothing but its path and mode.
func addFile(zw *zip.Writer, root fs.FS, f file, modified time.Time) error {
	h := &zip.FileHeader{Name: path.Clean(f.name), Method: zip.Deflate, Modified: modified}
	h.SetMode(f.mode)
	dst, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	src, err := root.Open(f.name)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(dst, src)
	return err
}
