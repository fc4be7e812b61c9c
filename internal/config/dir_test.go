package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestResolveDirFor(t *testing.T) {
	const (
		local   = `C:\Users\ann\AppData\Local`
		roaming = `C:\Users\ann\AppData\Roaming`
	)
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		want    Dir
		wantErr string // a substring of the error; "" = no error
	}{
		{"override wins on windows", "windows", map[string]string{EnvConfigDir: `D:\meshai`, "LocalAppData": local, "AppData": roaming}, Dir{Path: `D:\meshai`, FromEnv: true}, ""},
		{"override wins on darwin", "darwin", map[string]string{EnvConfigDir: "/srv/meshai", "HOME": "/Users/ann"}, Dir{Path: "/srv/meshai", FromEnv: true}, ""},
		{"override wins on linux", "linux", map[string]string{EnvConfigDir: "/srv/meshai", "XDG_CONFIG_HOME": "/x"}, Dir{Path: "/srv/meshai", FromEnv: true}, ""},

		{"windows LocalAppData, roaming one to move", "windows", map[string]string{"LocalAppData": local, "AppData": roaming, "HOME": "/ignored"},
			Dir{Path: local + `\meshai-mcp-server`, Roaming: roaming + `\meshai-mcp-server`}, ""},
		{"windows trailing separator", "windows", map[string]string{"LocalAppData": local + `\`}, Dir{Path: local + `\meshai-mcp-server`}, ""},
		{"windows without AppData", "windows", map[string]string{"LocalAppData": local}, Dir{Path: local + `\meshai-mcp-server`}, ""},
		{"windows without LocalAppData keeps AppData", "windows", map[string]string{"AppData": roaming}, Dir{Path: roaming + `\meshai-mcp-server`}, ""},
		{"windows ignores XDG and HOME", "windows", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": `C:\Users\ann`}, Dir{}, "neither %LocalAppData% nor %AppData%"},

		{"darwin", "darwin", map[string]string{"HOME": "/Users/ann"}, Dir{Path: "/Users/ann/Library/Application Support/meshai-mcp-server"}, ""},
		{"darwin ignores XDG and AppData", "darwin", map[string]string{"HOME": "/Users/ann", "XDG_CONFIG_HOME": "/x", "AppData": roaming},
			Dir{Path: "/Users/ann/Library/Application Support/meshai-mcp-server"}, ""},
		{"darwin without HOME", "darwin", map[string]string{}, Dir{}, "$HOME is not defined"},

		{"linux XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "/home/ann/cfg", "HOME": "/home/ann"}, Dir{Path: "/home/ann/cfg/meshai-mcp-server"}, ""},
		{"linux HOME", "linux", map[string]string{"HOME": "/home/ann"}, Dir{Path: "/home/ann/.config/meshai-mcp-server"}, ""},
		{"linux ignores AppData", "linux", map[string]string{"HOME": "/home/ann", "AppData": "/a"}, Dir{Path: "/home/ann/.config/meshai-mcp-server"}, ""},
		{"linux relative XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "cfg", "HOME": "/home/ann"}, Dir{}, "relative"},
		{"linux nothing set", "linux", map[string]string{}, Dir{}, "neither $XDG_CONFIG_HOME nor $HOME"},
		{"freebsd follows XDG", "freebsd", map[string]string{"HOME": "/home/ann"}, Dir{Path: "/home/ann/.config/meshai-mcp-server"}, ""},
		{"plan9", "plan9", map[string]string{"home": "/usr/ann"}, Dir{Path: "/usr/ann/lib/meshai-mcp-server"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveDirFor(tt.goos, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), EnvConfigDir) {
					t.Fatalf("ResolveDirFor(%s) = %+v, %v; want an error with %q naming %s", tt.goos, got, err, tt.wantErr, EnvConfigDir)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveDirFor(%s) = %+v, %v; want %+v", tt.goos, got, err, tt.want)
			}
		})
	}
}

// On this machine the rule agrees with the Go function it mirrors: os.UserCacheDir's base on Windows,
// os.UserConfigDir elsewhere.
func TestResolveDirMatchesOS(t *testing.T) {
	base, err := os.UserConfigDir()
	if runtime.GOOS == "windows" {
		base = os.Getenv("LocalAppData")
	}
	if err != nil || base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("no user directory on CI: %v", err)
		}
		t.Skipf("no user directory here: %v", err)
	}
	got, err := ResolveDir(func(k string) string {
		if k == EnvConfigDir {
			return ""
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, AppDir); got.Path != want {
		t.Fatalf("ResolveDir = %q, want %q", got.Path, want)
	}
}

func TestMoveRoaming(t *testing.T) {
	for _, c := range []struct {
		name      string
		roaming   bool   // the roaming directory exists, holding tokens/x
		local     bool   // the new directory exists already
		blockBase bool   // the new directory's parent is a file: the move fails
		wantDir   string // "local" or "roaming"
		wantNote  string
		moved     bool
	}{
		{"moved once", true, false, false, "local", "moved the config directory from", true},
		{"nothing to move", false, false, false, "local", "", false},
		{"both exist: the new one wins, the old one stays", true, true, false, "local", "", false},
		{"move fails: the roaming one is used", true, false, true, "roaming", "could not move the config directory", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			d := Dir{Path: filepath.Join(tmp, "Local", AppDir), Roaming: filepath.Join(tmp, "Roaming", AppDir)}
			if c.roaming {
				mustWrite(t, filepath.Join(d.Roaming, "tokens", "x"), "token")
			}
			if c.local {
				mustWrite(t, filepath.Join(d.Path, "meshai-mcp-server.log"), "log")
			}
			if c.blockBase {
				mustWrite(t, filepath.Join(tmp, "Local"), "a file where a directory should be")
			}
			dir, note := MoveRoaming(d)
			want := map[string]string{"local": d.Path, "roaming": d.Roaming}[c.wantDir]
			if dir != want || !strings.Contains(note, c.wantNote) || (c.wantNote == "") != (note == "") {
				t.Fatalf("MoveRoaming = %q, %q; want %q and a note with %q", dir, note, want, c.wantNote)
			}
			_, errNew := os.Stat(filepath.Join(d.Path, "tokens", "x"))
			_, errOld := os.Stat(d.Roaming)
			if c.moved && (errNew != nil || !os.IsNotExist(errOld)) {
				t.Errorf("the tokens were not moved: new %v, old %v", errNew, errOld)
			}
			if !c.moved && c.roaming && errOld != nil {
				t.Errorf("the roaming directory is gone although nothing was moved: %v", errOld)
			}
			// A second start finds nothing more to do.
			if dir2, note2 := MoveRoaming(d); c.moved && (dir2 != d.Path || note2 != "") {
				t.Errorf("second MoveRoaming = %q, %q; want %q and no note", dir2, note2, d.Path)
			}
		})
	}
	if dir, note := MoveRoaming(Dir{Path: "/p"}); dir != "/p" || note != "" {
		t.Errorf("MoveRoaming without a roaming dir = %q, %q", dir, note)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
