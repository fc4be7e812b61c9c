package auth

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// CommandError says why a browser command line cannot be split into a program and its arguments.
type CommandError struct {
	Command string // the command line as given
	Reason  string // what is wrong with it, e.g. "reached EOF without closing quote `'`"
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("command %q: %s", e.Command, e.Reason)
}

// SplitCommand splits a command line into a program and its arguments the way a POSIX shell splits a simple
// command: single and double quotes, $'…' and backslashes quote, and quote removal is done. Nothing is expanded
// and no shell runs: rather than pass a word on differently from a shell, a word a shell would expand ($VAR,
// $(…), `…`, $((…)), a leading ~, {a,b}) is a *CommandError, as are an operator (;, |, &&, >) and an unterminated
// quote. Glob characters (* ? [) are passed on as they are. An empty or blank line splits into no words.
func SplitCommand(line string) ([]string, error) {
	var argv []string
	for w, err := range syntax.NewParser().WordsSeq(strings.NewReader(line)) {
		if err != nil {
			return nil, &CommandError{Command: line, Reason: parseReason(err)}
		}
		if exp := expansion(w); exp != "" {
			return nil, &CommandError{Command: line, Reason: exp + " would need a shell to expand it"}
		}
		// With no expansion in the word and a Config without environment or file system, Fields only removes
		// quotes and backslashes: the word stays one field.
		fields, err := expand.Fields(nil, w)
		if err != nil {
			return nil, &CommandError{Command: line, Reason: err.Error()}
		}
		argv = append(argv, fields...)
	}
	return argv, nil
}

// parseReason turns the parser's "1:5: reached EOF without closing quote `'`" into the part after the position.
func parseReason(err error) string {
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return pe.Text
	}
	return err.Error()
}

// expansion returns the source text of the first expansion in w ("$HOME", "$(date)", "~", "{a,b}"), or "" when
// there is none.
func expansion(w *syntax.Word) string {
	if len(w.Parts) > 0 {
		if lit, ok := w.Parts[0].(*syntax.Lit); ok && strings.HasPrefix(lit.Value, "~") {
			return "~"
		}
	}
	split := *w // SplitBraces replaces the Parts of the word it is given
	syntax.SplitBraces(&split)
	var found syntax.Node
	syntax.Walk(&split, func(n syntax.Node) bool {
		if found != nil {
			return false
		}
		switch n.(type) {
		case *syntax.ParamExp, *syntax.CmdSubst, *syntax.ArithmExp, *syntax.ProcSubst, *syntax.ExtGlob:
			found = n
		case *syntax.BraceExp:
			found = w // printed whole: "x{1..3}"
		}
		return found == nil
	})
	if found == nil {
		return ""
	}
	return printed(found)
}

// printed is the shell source of n.
func printed(n syntax.Node) string {
	var b strings.Builder
	if err := syntax.NewPrinter().Print(&b, n); err != nil {
		return "an expansion"
	}
	return b.String()
}

// browserArgv is the argv that opens url with command: the command's words, then the URL as the last argument.
func browserArgv(command, url string) ([]string, error) {
	args, err := SplitCommand(command)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, &CommandError{Command: command, Reason: "it names no program"}
	}
	return append(args, url), nil
}
