package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module       = "github.com/meshailabs-org/meshai-mcp-server"
	importsBegin = "<!-- go list imports: begin (generated: UPDATE_README=1 go test ./e2e/ -run Architecture) -->"
	importsEnd   = "<!-- go list imports: end -->"
)

// importEdges lists, per package of the module (tests excluded), the module's packages it imports, from go list.
func importEdges(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	edges := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), "|")
		pkg = strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		var own []string
		for _, imp := range strings.Fields(imports) {
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
				own = append(own, rest)
			}
		}
		edges[pkg] = own
	}
	return edges
}

// renderEdges is the README's list of import edges.
func renderEdges(edges map[string][]string) string {
	var pkgs []string
	for p := range edges {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	var b strings.Builder
	b.WriteString("```text\n")
	for _, p := range pkgs {
		deps := "(nothing of this module)"
		if len(edges[p]) > 0 {
			deps = strings.Join(edges[p], ", ")
		}
		fmt.Fprintf(&b, "%-28s → %s\n", p, deps)
	}
	b.WriteString("```\n")
	return b.String()
}

// README's architecture section shows the import edges go list reports, and the arrows point down: nothing
// imports cmd or internal/cli, auth imports no other room of the house, bridge and remote know nothing of auth,
// and inside auth the protocol (auth/oauth) and the store (auth/credstore) import neither the sign-in nor each other.
func TestArchitectureMatchesGoList(t *testing.T) {
	edges := importEdges(t)
	forbidden := map[string][]string{
		"auth":   {"bridge", "remote", "doctor", "internal/cli", "devserver", "internal/jsonrpc"},
		"bridge": {"remote", "auth", "doctor", "internal/cli", "devserver"},
		"remote": {"auth", "bridge", "doctor", "internal/cli", "devserver"},
		"doctor": {"bridge", "internal/cli", "devserver"},
	}
	for pkg, deps := range edges {
		for _, d := range deps {
			if d == "internal/cli" && !strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(d, "cmd/") {
				t.Errorf("%s imports %s: nothing but a binary imports the command layer", pkg, d)
			}
			room := strings.Split(pkg, "/")[0]
			if slices.Contains(forbidden[room], d) || slices.Contains(forbidden[room], strings.Split(d, "/")[0]) && strings.Split(d, "/")[0] != room {
				t.Errorf("%s imports %s, against the house's arrows", pkg, d)
			}
		}
	}
	// The leaf packages import nothing of the project but each other: every room and every layer may import them.
	leaves := []string{"internal/ratelimit", "internal/webpage", "internal/textutil", "internal/netutil", "internal/timeutil", "internal/config", "internal/secrets"}
	for _, leaf := range leaves {
		deps, ok := edges[leaf]
		if !ok {
			t.Errorf("go list has no %s: update the leaves", leaf)
		}
		for _, d := range deps {
			if !slices.Contains(leaves, d) {
				t.Errorf("%s is listed as a leaf, but imports %s", leaf, d)
			}
		}
	}
	for pkg, deps := range edges {
		for _, d := range deps {
			if (pkg == "auth" || strings.HasPrefix(pkg, "auth/")) && !strings.HasPrefix(d, "auth/") && !slices.Contains(leaves, d) {
				t.Errorf("%s imports %s: auth imports no other room of the house, only its own packages and the leaves", pkg, d)
			}
		}
	}
	for _, layer := range []string{"auth/oauth", "auth/credstore"} {
		deps, ok := edges[layer]
		if !ok {
			t.Errorf("go list has no %s: update the layers' rule", layer)
		}
		for _, d := range deps {
			if !slices.Contains(leaves, d) {
				t.Errorf("%s imports %s: auth's lower layers import no other room, not auth, and not each other", layer, d)
			}
		}
	}
	readme := filepath.Join("..", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(b, []byte(importsBegin)), bytes.Index(b, []byte(importsEnd))
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the generated block between %q and %q", importsBegin, importsEnd)
	}
	want := renderEdges(edges)
	got := string(b[i+len(importsBegin)+1 : j])
	if got == want {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		nb := append(append(append([]byte{}, b[:i+len(importsBegin)+1]...), want...), b[j:]...)
		if err := os.WriteFile(readme, nb, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md's import edges rewritten")
		return
	}
	t.Errorf("README.md's import edges differ from go list; run UPDATE_README=1 go test ./e2e/ -run Architecture\nREADME:\n%s\ngo list:\n%s", got, want)
}
