package clientconfig

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is where a client's files are: the OS and the user's directories, passed in so that every OS's paths can
// be tested on any machine.
type Env struct {
	OS           string // runtime.GOOS of the machine
	Home         string // the home directory ($HOME; %USERPROFILE% on Windows)
	AppData      string // %APPDATA% (Windows)
	LocalAppData string // %LOCALAPPDATA% (Windows: where MSIX packages keep their files)
	// ClaudeConfigDir is $CLAUDE_CONFIG_DIR: Claude Code's directory, and the home of its .claude.json, when set.
	ClaudeConfigDir string
	XDGConfigHome   string // $XDG_CONFIG_HOME (Linux; "" for $HOME/.config)
	// LookPath finds a command (Claude Code's claude); nil for exec.LookPath.
	LookPath func(name string) (string, error)
	// Glob lists the paths that match a pattern (Claude Desktop's MSIX package); nil for filepath.Glob.
	Glob func(pattern string) ([]string, error)
}

// glob is e.Glob, or filepath.Glob.
func (e Env) glob(pattern string) ([]string, error) {
	if e.Glob != nil {
		return e.Glob(pattern)
	}
	return filepath.Glob(pattern)
}

// join joins like filepath.Join would on e.OS, so that a Windows path is written with backslashes in tests on
// Linux too.
func (e Env) join(base string, elem ...string) string {
	switch {
	case e.OS == runtime.GOOS:
		return filepath.Join(append([]string{base}, elem...)...)
	case e.OS == "windows":
		return strings.TrimRight(base, `\/`) + `\` + strings.Join(elem, `\`)
	}
	return path.Join(append([]string{base}, elem...)...)
}

// home is the home directory, or an error that names the variable to set.
func (e Env) home() (string, error) {
	if e.Home == "" {
		if e.OS == "windows" {
			return "", errors.New("%USERPROFILE% is not set")
		}
		return "", errors.New("$HOME is not set")
	}
	return e.Home, nil
}

// appConfigDir is the path app (a directory, and names under it) where an Electron app (Claude Desktop, VS
// Code) keeps its files on e.OS: Electron's
// app.getPath("appData") — ~/Library/Application Support on macOS, %APPDATA% on Windows, $XDG_CONFIG_HOME or
// ~/.config on Linux.
func (e Env) appConfigDir(app ...string) (string, error) {
	switch e.OS {
	case "windows":
		if e.AppData == "" {
			return "", errors.New("%APPDATA% is not set")
		}
		return e.join(e.AppData, app...), nil
	case "darwin":
		home, err := e.home()
		if err != nil {
			return "", err
		}
		return e.join(home, append([]string{"Library", "Application Support"}, app...)...), nil
	}
	if e.XDGConfigHome != "" && path.IsAbs(e.XDGConfigHome) {
		return e.join(e.XDGConfigHome, app...), nil
	}
	home, err := e.home()
	if err != nil {
		return "", err
	}
	return e.join(home, append([]string{".config"}, app...)...), nil
}

// inHome is a path under the home directory, the same on every OS (~/.cursor, ~/.codeium, ~/.claude.json).
func (e Env) inHome(elem ...string) (string, error) {
	home, err := e.home()
	if err != nil {
		return "", err
	}
	return e.join(home, elem...), nil
}

// EnvFor is the Env of a machine running goos, read from its environment variables through getenv: %USERPROFILE%
// and %APPDATA% on Windows, $HOME and $XDG_CONFIG_HOME elsewhere; $CLAUDE_CONFIG_DIR everywhere.
func EnvFor(goos string, getenv func(string) string) Env {
	env := Env{OS: goos, Home: getenv("HOME"), XDGConfigHome: getenv("XDG_CONFIG_HOME"), ClaudeConfigDir: getenv("CLAUDE_CONFIG_DIR")}
	if goos == "windows" {
		env.Home, env.AppData, env.LocalAppData, env.XDGConfigHome = getenv("USERPROFILE"), getenv("APPDATA"), getenv("LOCALAPPDATA"), ""
	}
	return env
}

// claudeDesktopDir is Claude Desktop's directory. On Windows the app has been an MSIX package since early 2026
// (the Store build and claude.ai's installer alike): Windows shows it a private copy of %APPDATA%, under
// %LOCALAPPDATA%\Packages\Claude_<publisher id>\LocalCache\Roaming, and it never reads %APPDATA%\Claude
// (anthropics/claude-code#26073, #25579). That directory is used when the package is there; %APPDATA%\Claude
// for the older installer, and elsewhere.
func (e Env) claudeDesktopDir() (string, error) {
	if e.OS == "windows" && e.LocalAppData != "" {
		pkgs, _ := e.glob(e.join(e.LocalAppData, "Packages", "Claude_*"))
		var dirs, withFile []string
		for _, p := range pkgs {
			dir := e.join(p, "LocalCache", "Roaming", "Claude")
			dirs = append(dirs, dir)
			if m, _ := e.glob(e.join(dir, "claude_desktop_config.json")); len(m) > 0 {
				withFile = append(withFile, dir)
			}
		}
		switch {
		case len(dirs) == 1:
			return dirs[0], nil
		case len(withFile) == 1:
			return withFile[0], nil
		case len(dirs) > 1:
			return "", fmt.Errorf("found several Claude Desktop packages (%s) and cannot tell which one runs: add the entry by hand to the claude_desktop_config.json of the one you use", strings.Join(pkgs, ", "))
		}
	}
	return e.appConfigDir("Claude")
}

// claudeCodeDir is Claude Code's directory, and the file that holds its user-scope servers: ~/.claude and
// ~/.claude.json, or $CLAUDE_CONFIG_DIR and the .claude.json in it (anthropics/claude-code#48448).
func (e Env) claudeCodeDir() (dir, file string, err error) {
	if e.ClaudeConfigDir != "" {
		return e.ClaudeConfigDir, e.join(e.ClaudeConfigDir, ".claude.json"), nil
	}
	if dir, err = e.inHome(".claude"); err != nil {
		return "", "", err
	}
	file, err = e.inHome(".claude.json")
	return dir, file, err
}
