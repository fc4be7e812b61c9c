package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir is where the bridge keeps tokens, locks and its log, and how that was decided.
type Dir struct {
	Path    string // the directory
	FromEnv bool   // MESHAI_CONFIG_DIR named it
	// Roaming is, on Windows, the directory earlier versions used under the roaming %AppData%: MoveRoaming moves
	// it to Path once. "" elsewhere, and when MESHAI_CONFIG_DIR names the directory.
	Roaming string
}

// ResolveDir is the directory on this machine, reading the environment through getenv.
func ResolveDir(getenv func(string) string) (Dir, error) { return ResolveDirFor(runtime.GOOS, getenv) }

// ResolveDirFor is the directory as it would be on goos, so that every OS's rule can be tested on any machine:
// MESHAI_CONFIG_DIR when set, else the OS's per-user directory + /meshai-mcp-server:
//
//	windows        %LocalAppData% (os.UserCacheDir's base there): tokens, locks and a log must not roam;
//	               %AppData% only when %LocalAppData% is not defined
//	darwin, ios    $HOME/Library/Application Support
//	plan9          $home/lib
//	anything else  $XDG_CONFIG_HOME if it is absolute, else $HOME/.config
//
// Outside Windows this is os.UserConfigDir's rule.
func ResolveDirFor(goos string, getenv func(string) string) (Dir, error) {
	if d := getenv(EnvConfigDir); d != "" {
		return Dir{Path: d, FromEnv: true}, nil
	}
	base, err := userDirFor(goos, getenv)
	if err != nil {
		return Dir{}, fmt.Errorf("no config directory: %s, and %s is not set", err.Error(), EnvConfigDir)
	}
	d := Dir{Path: joinFor(goos, base, AppDir)}
	if roaming := getenv("AppData"); goos == "windows" && roaming != "" {
		if r := joinFor(goos, roaming, AppDir); r != d.Path {
			d.Roaming = r
		}
	}
	return d, nil
}

// userDirFor is the base of the bridge's directory on goos.
func userDirFor(goos string, getenv func(string) string) (string, error) {
	switch goos {
	case "windows":
		if dir := getenv("LocalAppData"); dir != "" {
			return dir, nil
		}
		if dir := getenv("AppData"); dir != "" { // a stripped environment (a service): earlier versions' place
			return dir, nil
		}
		return "", errors.New("neither %LocalAppData% nor %AppData% is defined")
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

// MoveRoaming moves the directory earlier versions kept under the roaming %AppData% to d.Path, once: when it
// exists and d.Path does not. It returns the directory to use and a line for the log ("" when there was
// nothing to move). When the move fails, the roaming directory is used where it is, so no sign-in is lost.
func MoveRoaming(d Dir) (dir, note string) {
	if d.Roaming == "" {
		return d.Path, ""
	}
	if st, err := os.Stat(d.Roaming); err != nil || !st.IsDir() {
		return d.Path, ""
	}
	if _, err := os.Lstat(d.Path); err == nil {
		return d.Path, "" // already there (moved by an earlier start, or made anew): the roaming one stays as it is
	}
	err := os.MkdirAll(filepath.Dir(d.Path), 0o700)
	if err == nil {
		err = os.Rename(d.Roaming, d.Path)
	}
	if err != nil {
		if _, serr := os.Stat(d.Path); serr == nil { // another bridge starting at the same time moved it
			return d.Path, ""
		}
		return d.Roaming, fmt.Sprintf("could not move the config directory %s to %s (%v): using it where it is", d.Roaming, d.Path, err)
	}
	return d.Path, fmt.Sprintf("moved the config directory from %s to %s: tokens, locks and the log stay on this machine (%%LocalAppData%%), not in the roaming profile", d.Roaming, d.Path)
}
