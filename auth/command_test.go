package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want []string
	}{
		{"empty", "", nil},
		{"blank", " \t ", nil},
		{"one word", "firefox", []string{"firefox"}},
		{"spaces and tabs between words", "  open \t -a   Safari ", []string{"open", "-a", "Safari"}},
		{"the issue's example", `sh -c 'sleep 8; exec curl "$0"'`, []string{"sh", "-c", `sleep 8; exec curl "$0"`}},
		{"double quotes keep spaces", `"/Applications/Google Chrome.app/x" --new-window`, []string{"/Applications/Google Chrome.app/x", "--new-window"}},
		{"backslash escapes a space", `/opt/my\ browser/bin --incognito`, []string{"/opt/my browser/bin", "--incognito"}},
		{"backslash escapes in double quotes", `sh -c "exec curl \"\$0\""`, []string{"sh", "-c", `exec curl "$0"`}},
		{"backslash before a quote outside quotes", `echo \'x\"`, []string{"echo", `'x"`}},
		{"quotes join a word", `a'b c'"d e"f`, []string{"ab cd ef"}},
		{"empty quoted argument kept", `cmd '' ""`, []string{"cmd", "", ""}},
		{"ANSI-C quoting", `printf $'a\tb'`, []string{"printf", "a\tb"}},
		{"quoted or inner tilde stays", `'~/bin/open' a~b "~"`, []string{"~/bin/open", "a~b", "~"}},
		{"quoted braces stay", `open '{a,b}' {} {a}`, []string{"open", "{a,b}", "{}", "{a}"}},
		{"glob characters stay", `open *.html a?[b]`, []string{"open", "*.html", "a?[b]"}},
		{"dollar in single quotes stays", `sh -c 'echo $HOME $(id)'`, []string{"sh", "-c", "echo $HOME $(id)"}},
		{"newline separates words", "open\n--new", []string{"open", "--new"}},
		{"Windows path with escaped backslashes", `C:\\Program\ Files\\b.exe`, []string{`C:\Program Files\b.exe`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCommand(tc.line)
			if err != nil {
				t.Fatalf("SplitCommand(%q): %v", tc.line, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SplitCommand(%q) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestSplitCommandRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		reason string // part of CommandError.Reason
	}{
		{"unterminated single quote", `sh -c 'sleep 8`, "reached EOF without closing quote `'`"},
		{"unterminated double quote", `open "a b`, "reached EOF without closing quote `\"`"},
		{"the issue's example, quotes lost", `sh -c 'sleep 8; exec curl "$0"`, "without closing quote"},
		{"variable", `$BROWSER --new`, "$BROWSER would need a shell"},
		{"variable in double quotes", `open "$HOME/x"`, "$HOME would need a shell"},
		{"braced variable", `open ${X:-y}`, "${X:-y} would need a shell"},
		{"command substitution", `open $(which firefox)`, "$(which firefox) would need a shell"},
		{"backquotes", "open `which firefox`", "would need a shell"},
		{"arithmetic", `open $((1+2))`, "$((1 + 2)) would need a shell"},
		{"tilde", `~/bin/open`, "~ would need a shell"},
		{"tilde user", `~root/open`, "~ would need a shell"},
		{"brace expansion", `open {a,b}`, "{a,b} would need a shell"},
		{"sequence expansion", `open x{1..3}`, "x{1..3} would need a shell"},
		{"semicolon", `sleep 1; open`, "not a valid word"},
		{"pipe", `echo | open`, "not a valid word"},
		{"and", `true && open`, "not a valid word"},
		{"redirection", `open >/dev/null`, "not a valid word"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCommand(tc.line)
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("SplitCommand(%q) = %q, %v; want a *CommandError", tc.line, got, err)
			}
			if ce.Command != tc.line || !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("SplitCommand(%q): %#v, want the line and a reason holding %q", tc.line, ce, tc.reason)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.line)) {
				t.Errorf("the error %q does not quote the command", err)
			}
		})
	}
}

func TestBrowserArgvAppendsTheURL(t *testing.T) {
	const u = "https://auth.example.com/authorize?state=a%20b&x=(id);ls*"
	got, err := browserArgv(`sh -c 'exec curl "$0"'`, u)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sh", "-c", `exec curl "$0"`, u}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := browserArgv("   ", u); err == nil || !strings.Contains(err.Error(), "names no program") {
		t.Errorf("a blank command: %v, want an error saying it names no program", err)
	}
}
