package cli

import (
	"errors"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// configDir is MESHAI_CONFIG_DIR, else the OS user config directory + /meshai-mcp-server.
func configDir(getenv func(string) string) (string, error) {
	return configDirFor(runtime.GOOS, getenv)
}

// configDirFor is configDir as it would be on goos, so that every OS's rules can be tested on any machine.
// Without MESHAI_CONFIG_DIR it follows os.UserConfigDir, reading the environment through getenv:
//
//	windows        %AppData%
//	darwin, ios    $HOME/Library/Application Support
//	plan9          $home/lib
//	anything else  $XDG_CONFIG_HOME if it is absolute, else $HOME/.config
func configDirFor(goos string, getenv func(string) string) (string, error) {
	if d := getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	base, err := userConfigDirFor(goos, getenv)
	if err != nil {
		return "", errors.New("no config directory: " + err.Error() + "; set " + EnvConfigDir)
	}
	return joinFor(goos, base, "meshai-mcp-server"), nil
}

// userConfigDirFor mirrors os.UserConfigDir on goos (Go 1.26).
func userConfigDirFor(goos string, getenv func(string) string) (string, error) {
	switch goos {
	case "windows":
		if dir := getenv("AppData"); dir != "" {
			return dir, nil
		}
		return "", errors.New("%AppData% is not defined")
	case "darwin", "ios":
		if home := getenv("HOME"); home != "" {
			return home + "/Library/Application Support", nil
		}
		return "", errors.New("$HOME is not defined")
	case "plan9":
		if home := getenv("home"); home != "" {
			return home + "/lib", nil
		}
		return "", errors.New("$home is not defined")
	}
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		if !path.IsAbs(dir) {
			return "", errors.New("path in $XDG_CONFIG_HOME is relative")
		}
		return dir, nil
	}
	if home := getenv("HOME"); home != "" {
		return home + "/.config", nil
	}
	return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME are defined")
}

// joinFor joins like filepath.Join would on goos: on this machine's own OS it is filepath.Join; for another OS
// (in tests) backslashes for windows, path.Join for the rest.
func joinFor(goos, base, elem string) string {
	if goos == runtime.GOOS {
		return filepath.Join(base, elem)
	}
	if goos == "windows" {
		return strings.TrimRight(base, `\/`) + `\` + elem
	}
	return path.Join(base, elem)
}
