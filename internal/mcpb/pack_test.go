package mcpb

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tree writes files (path -> content; a path ending in "*" is executable, the star dropped) under a new dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	return dir
}

func pack(t *testing.T, dir string, modified time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Pack(&b, dir, modified); err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return b.Bytes()
}

func TestPackEntries(t *testing.T) {
	dir := tree(t, map[string]string{
		"manifest.json":                `{"name":"x"}`,
		"icon.png":                     "png",
		"server/a-b":                   "1",
		"server/a/b*":                  "2",
		"server/linux-x64/run*":        strings.Repeat("binary ", 1000),
		"server/win32-x64/run.exe":     "exe",
		"server/meshai-mcp-server.sh*": "#!/bin/sh\n",
		"LICENSE":                      "MIT",
	})
	when := time.Date(2026, 11, 29, 6, 30, 15, 0, time.FixedZone("X", 5*3600))
	b := pack(t, dir, when)
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode fs.FileMode
	}{
		{"LICENSE", 0o644}, {"icon.png", 0o644}, {"manifest.json", 0o644}, {"server/a-b", 0o644}, {"server/a/b", 0o755},
		{"server/linux-x64/run", 0o755}, {"server/meshai-mcp-server.sh", 0o755}, {"server/win32-x64/run.exe", 0o644},
	}
	if len(r.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(r.File), len(want))
	}
	for i, f := range r.File {
		w := want[i]
		if f.Name != w.name || f.Mode() != w.mode {
			t.Errorf("entry %d: %s %v, want %s %v", i, f.Name, f.Mode(), w.name, w.mode)
		}
		if f.ExternalAttrs>>16&0o777 != uint32(w.mode) { // what @anthropic-ai/mcpb's unpack reads
			t.Errorf("%s: external attributes %o, want the mode %o in the upper 16 bits", f.Name, f.ExternalAttrs, w.mode)
		}
		if !f.Modified.Equal(when) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, when)
		}
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		src, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if !bytes.Equal(got, src) {
			t.Errorf("%s: content differs from the file", f.Name)
		}
	}
}

func TestPackIsReproducible(t *testing.T) {
	files := map[string]string{"manifest.json": "{}", "server/run*": "bin", "icon.png": "png"}
	when := time.Unix(1795933838, 0)
	a := pack(t, tree(t, files), when)
	// Another directory, written in another order at another time, with other file times, the time in another zone.
	dir := tree(t, files)
	for _, p := range []string{"manifest.json", "server/run", "icon.png"} {
		if err := os.Chtimes(filepath.Join(dir, p), time.Unix(1, 0), time.Unix(2, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if b := pack(t, dir, when.In(time.FixedZone("Y", -7*3600))); !bytes.Equal(a, b) {
		t.Fatal("the same files and time gave two different archives")
	}
	if c := pack(t, dir, when.Add(2*time.Second)); bytes.Equal(a, c) {
		t.Fatal("another time gave the same archive: the time is not in it")
	}
}

func TestPackClampsToTheDOSEpoch(t *testing.T) {
	dir := tree(t, map[string]string{"manifest.json": "{}"})
	for _, when := range []time.Time{time.Unix(0, 0), dosEpoch} {
		b := pack(t, dir, when)
		r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.File[0].Modified; !got.Equal(dosEpoch) {
			t.Errorf("time %v packed as %v, want %v", when, got, dosEpoch)
		}
	}
}

func TestPackRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"no manifest", func(t *testing.T) string { return tree(t, map[string]string{"icon.png": "x"}) }, "no manifest.json"},
		{"a symlink", func(t *testing.T) string {
			dir := tree(t, map[string]string{"manifest.json": "{}"})
			if err := os.Symlink("manifest.json", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "link is not a regular file"},
		{"no directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent") }, "no manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Pack(io.Discard, tt.setup(t), time.Unix(0, 0))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pack: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
