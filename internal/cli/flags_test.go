package cli

import (
	"bufio"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/doctor"
	"github.com/meshailabs-org/meshai-mcp-server/internal/config"
)

// realFlags returns the flags of the command line, from the flag sets the commands parse with: those of serving
// (with login, status and logout), those of doctor, those of install (uninstall's are a part of them), and all of
// them; -h and -help are the flag package's own.
func realFlags() (serving, doctoring, installing, all map[string]bool) {
	set := func(fs *flag.FlagSet) map[string]bool {
		flags := map[string]bool{"h": true, "help": true}
		fs.VisitAll(func(f *flag.Flag) { flags[f.Name], all[f.Name] = true, true })
		return flags
	}
	all = map[string]bool{"h": true, "help": true}
	var (
		cfg  Config
		a    serveArgs
		opts doctor.Options
		dc   Config
		js   bool
	)
	serving = set(serveFlagSet(&cfg, &a, func(string) string { return "" }, io.Discard))
	doctoring = set(doctorFlagSet(&opts, &dc, &js, func(string) string { return "" }, io.Discard))
	installing = set(installFlagSet(&installOptions{}, true, io.Discard))
	return serving, doctoring, installing, all
}

// realCommands are the commands the usage lists (login, status, …).
func realCommands(t *testing.T) map[string]bool {
	t.Helper()
	var help strings.Builder
	if _, err := parseServe([]string{"-h"}, func(string) string { return "" }, &help); err == nil {
		t.Fatal("-h did not print the usage")
	}
	cmds := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  meshai-mcp-server ([a-z]+)`).FindAllStringSubmatch(help.String(), -1) {
		cmds[m[1]] = true
	}
	if !cmds["login"] || !cmds["doctor"] {
		t.Fatalf("the commands were not read from the usage: %v\n%s", cmds, help.String())
	}
	return cmds
}

var (
	namedFlag    = regexp.MustCompile(`(?:^|[^-\w])--([a-z][a-z0-9-]*)`)
	cutFlag      = regexp.MustCompile(`(?:^|[^-\w])--$`) // a literal whose flag name is added at run time
	namedCommand = regexp.MustCompile("`meshai-mcp-server ([a-z]+)([^`]*)")
	namedVar     = regexp.MustCompile(`\bMESHAI_[A-Z_]+\b`)
)

// Every flag, command and MESHAI_ variable that a message of the shipped binary names exists: each string
// literal and comment of every package meshai-mcp-server is built from (auth, remote, bridge, doctor,
// internal/…, not devserver or the demo, which have flags of their own) is read, and each --flag in it must be in
// the real flag sets (the quoted command's own, in a quoted `meshai-mcp-server <command> …`), each command in
// the usage, each MESHAI_ name in internal/config.
func TestMessagesNameRealFlags(t *testing.T) {
	serving, doctoring, installing, flags := realFlags()
	cmds := realCommands(t)
	root, module := moduleRoot(t)
	pkgs := binaryPackages(t, root, module, module+"/cmd/meshai-mcp-server")
	for _, want := range []string{"auth", "remote", "bridge", "doctor", "internal/cli", "internal/config"} {
		if !slices.Contains(pkgs, want) {
			t.Fatalf("the walk missed %s: %v", want, pkgs)
		}
	}
	checked := 0
	for _, dir := range pkgs {
		for _, f := range parseDir(t, filepath.Join(root, dir), parser.ParseComments) {
			where := func(p token.Pos) string {
				pos := f.fset.Position(p)
				return filepath.ToSlash(filepath.Join(dir, filepath.Base(pos.Filename))) + ":" + strconv.Itoa(pos.Line)
			}
			check := func(p token.Pos, text string) {
				for _, m := range namedFlag.FindAllStringSubmatch(text, -1) {
					checked++
					if !flags[m[1]] {
						t.Errorf("%s names --%s, which is no flag of meshai-mcp-server: %q", where(p), m[1], text)
					}
				}
				if cutFlag.MatchString(text) && text != "--" { // "--" alone ends the options of a command run
					t.Errorf("%s builds a flag name at run time: name the flag whole, so that this test can check it: %q", where(p), text)
				}
				for _, m := range namedCommand.FindAllStringSubmatch(text, -1) {
					if !cmds[m[1]] {
						t.Errorf("%s names `meshai-mcp-server %s`, which is no command: %q", where(p), m[1], text)
					}
					own := serving
					switch m[1] {
					case "doctor":
						own = doctoring
					case "install", "uninstall":
						own = installing
					}
					for _, f := range namedFlag.FindAllStringSubmatch(m[2], -1) {
						if !own[f[1]] {
							t.Errorf("%s quotes `meshai-mcp-server %s` with --%s, which that command does not take: %q", where(p), m[1], f[1], text)
						}
					}
				}
				for _, v := range namedVar.FindAllString(text, -1) {
					if !slices.Contains(config.Env, v) {
						t.Errorf("%s names %s, which the bridge does not read (internal/config): %q", where(p), v, text)
					}
				}
			}
			ast.Inspect(f.file, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						check(lit.Pos(), s)
					}
				}
				return true
			})
			for _, cg := range f.file.Comments {
				check(cg.Pos(), cg.Text())
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d flags named in %d packages: the walk checked too little", checked, len(pkgs))
	}
}

// parsedFile is one parsed source file.
type parsedFile struct {
	fset *token.FileSet
	file *ast.File
}

// parseDir parses the non-test .go files of dir, whatever their build constraints.
func parseDir(t *testing.T, dir string, mode parser.Mode) []parsedFile {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []parsedFile
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, mode)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, parsedFile{fset, f})
	}
	return files
}

// binaryPackages returns the directories (relative to root) of the module's packages that main imports, itself
// included, following imports in every file whatever its build constraints.
func binaryPackages(t *testing.T, root, module, main string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(pkg string) {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if seen[rel] {
			return
		}
		seen[rel] = true
		for _, f := range parseDir(t, filepath.Join(root, rel), parser.ImportsOnly) {
			for _, imp := range f.file.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == module || strings.HasPrefix(p, module+"/") {
					walk(p)
				}
			}
		}
	}
	walk(main)
	pkgs := make([]string, 0, len(seen))
	for p := range seen {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	return pkgs
}

// moduleRoot finds go.mod above the test's directory and returns its directory and module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("no module line in %s/go.mod", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
