package cli

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestConfigDirFor(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		want    string
		wantErr string // a substring of the error; "" = no error
	}{
		{"override wins on windows", "windows", map[string]string{EnvConfigDir: `D:\meshai`, "AppData": `C:\Users\ann\AppData\Roaming`}, `D:\meshai`, ""},
		{"override wins on darwin", "darwin", map[string]string{EnvConfigDir: "/srv/meshai", "HOME": "/Users/ann"}, "/srv/meshai", ""},
		{"override wins on linux", "linux", map[string]string{EnvConfigDir: "/srv/meshai", "XDG_CONFIG_HOME": "/x"}, "/srv/meshai", ""},

		{"windows AppData", "windows", map[string]string{"AppData": `C:\Users\ann\AppData\Roaming`, "HOME": "/ignored"}, `C:\Users\ann\AppData\Roaming\meshai-mcp-server`, ""},
		{"windows AppData with trailing separator", "windows", map[string]string{"AppData": `C:\Users\ann\AppData\Roaming\`}, `C:\Users\ann\AppData\Roaming\meshai-mcp-server`, ""},
		{"windows ignores XDG and HOME", "windows", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": `C:\Users\ann`}, "", "%AppData% is not defined"},
		{"windows without AppData", "windows", map[string]string{}, "", "%AppData% is not defined"},

		{"darwin", "darwin", map[string]string{"HOME": "/Users/ann"}, "/Users/ann/Library/Application Support/meshai-mcp-server", ""},
		{"darwin ignores XDG_CONFIG_HOME", "darwin", map[string]string{"HOME": "/Users/ann", "XDG_CONFIG_HOME": "/x"}, "/Users/ann/Library/Application Support/meshai-mcp-server", ""},
		{"darwin without HOME", "darwin", map[string]string{}, "", "$HOME is not defined"},

		{"linux XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "/home/ann/cfg", "HOME": "/home/ann"}, "/home/ann/cfg/meshai-mcp-server", ""},
		{"linux HOME", "linux", map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/meshai-mcp-server", ""},
		{"linux relative XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "cfg", "HOME": "/home/ann"}, "", "relative"},
		{"linux nothing set", "linux", map[string]string{}, "", "neither $XDG_CONFIG_HOME nor $HOME"},
		{"freebsd follows XDG", "freebsd", map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/meshai-mcp-server", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configDirFor(tt.goos, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), EnvConfigDir) {
					t.Fatalf("configDirFor(%s) = %q, %v; want an error with %q naming %s", tt.goos, got, err, tt.wantErr, EnvConfigDir)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("configDirFor(%s) = %q, %v; want %q", tt.goos, got, err, tt.want)
			}
		})
	}
}

// On this machine configDir agrees with os.UserConfigDir, which configDirFor mirrors.
func TestConfigDirMatchesUserConfigDir(t *testing.T) {
	base, err := os.UserConfigDir()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no user config dir on CI: %v", err)
		}
		t.Skipf("no user config dir here: %v", err)
	}
	got, err := configDir(func(k string) string {
		if k == EnvConfigDir {
			return ""
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := joinFor(runtime.GOOS, base, "meshai-mcp-server"); got != want {
		t.Fatalf("configDir = %q, want %q", got, want)
	}
}
