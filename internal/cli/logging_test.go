package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The log file rotates by size while the bridge runs, keeping logBackups old files: it never grows unbounded.
func TestLogRotatesBySize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", LogFileName)
	r, err := openRotating(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 99) + "\n"
	for i := 0; i < 100; i++ {
		if _, err := fmt.Fprint(r, line); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over the 1000-byte cap", filepath.Base(p), st.Size())
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third backup was kept: %v", err)
	}
}

// Two bridges appending to one log file: a rotation by one is noticed by the other, which reopens rather than
// rotating the fresh file again.
func TestLogRotationAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFileName)
	a, _ := openRotating(path, 1000, 2)
	b, _ := openRotating(path, 1000, 2)
	defer a.Close()
	defer b.Close()
	line := strings.Repeat("y", 99) + "\n"
	for i := 0; i < 12; i++ {
		fmt.Fprint(a, line)
	}
	fmt.Fprint(b, strings.Repeat("z", 950)+"\n") // b still believes the file is small until its write overflows
	for i := 0; i < 5; i++ {
		fmt.Fprint(b, line)
	}
	if _, err := os.Stat(path + ".2"); !os.IsNotExist(err) {
		t.Errorf("the file was rotated twice for one overflow")
	}
}

// A config directory moved at start is said once, on stderr and in the log file in its new place.
func TestOpenConfigLogSaysTheMove(t *testing.T) {
	for _, c := range []struct {
		name, note string
	}{
		{"moved", "moved the config directory from R to L"},
		{"nothing moved", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var stderr strings.Builder
			log, closeLog := openConfigLog(Config{ConfigDir: dir, dirNote: c.note}, &stderr)
			log.Info("started")
			closeLog()
			file, err := os.ReadFile(filepath.Join(dir, LogFileName))
			if err != nil {
				t.Fatal(err)
			}
			for where, text := range map[string]string{"stderr": stderr.String(), "the log file": string(file)} {
				if got := strings.Count(text, "moved the config directory"); got != min(len(c.note), 1) {
					t.Errorf("%s says the move %d times:\n%s", where, got, text)
				}
				if !strings.Contains(text, "started") {
					t.Errorf("%s lost the next line:\n%s", where, text)
				}
			}
		})
	}
}
