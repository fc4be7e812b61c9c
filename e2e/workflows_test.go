package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	usesLine   = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*))?$`)
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$`)
	versionTag = regexp.MustCompile(`^v\d+(?:\.\d+){0,2}\b`)
	dockerUses = regexp.MustCompile(`^docker://[^@\s]+@sha256:[0-9a-f]{64}$`)
	jobKey     = regexp.MustCompile(`^  ([A-Za-z0-9_-]+):\s*$`)
)

// workflowProblems lists what breaks the house rules for a GitHub Actions workflow: every `uses:` outside this
// repository pinned to a 40-hex commit with the version it is in a comment (a tag can be moved to other code;
// a SHA cannot), a top-level `permissions:`, and a `permissions:` on every job. It reads lines, which is enough
// for the block style these files are written in; actionlint (in scripts/test) checks the YAML itself.
func workflowProblems(text string) []string {
	var probs []string
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") // a Windows checkout may have CRLF
	topPermissions, inJobs := false, false
	job, jobPermissions := "", false
	endJob := func() {
		if job != "" && !jobPermissions {
			probs = append(probs, "job "+job+" has no permissions: of its own")
		}
		job, jobPermissions = "", false
	}
	for i, line := range lines {
		n := i + 1
		if m := usesLine.FindStringSubmatch(line); m != nil {
			ref, comment := m[1], strings.TrimSpace(m[2])
			switch {
			case strings.HasPrefix(ref, "./"):
			case strings.HasPrefix(ref, "docker://"):
				if !dockerUses.MatchString(ref) {
					probs = append(probs, lineProblem(n, ref, "a docker image must be pinned by @sha256:<digest>"))
				}
			case !pinnedUses.MatchString(ref):
				probs = append(probs, lineProblem(n, ref, "not pinned to a 40-hex commit SHA"))
			case !versionTag.MatchString(comment):
				probs = append(probs, lineProblem(n, ref, "no `# vX.Y.Z` comment saying which release the SHA is"))
			}
		}
		switch {
		case strings.HasPrefix(line, "permissions:"):
			topPermissions = true
		case strings.HasPrefix(line, "jobs:"):
			inJobs = true
		case inJobs && line != "" && line[0] != ' ' && line[0] != '#':
			endJob()
			inJobs = false
		case inJobs && jobKey.MatchString(line):
			endJob()
			job = jobKey.FindStringSubmatch(line)[1]
		case job != "" && strings.HasPrefix(line, "    permissions:"):
			jobPermissions = true
		}
	}
	endJob()
	if !topPermissions {
		probs = append(probs, "no top-level permissions: (write permissions: {} and grant each job its own)")
	}
	return probs
}

func lineProblem(n int, ref, why string) string {
	return "line " + strconv.Itoa(n) + ": uses: " + ref + ": " + why
}

func TestWorkflowProblems(t *testing.T) {
	const sha = "3d3c42e5aac5ba805825da76410c181273ba90b1"
	head := "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n    steps:\n"
	for _, tc := range []struct {
		name, text string
		want       []string // substrings, one per problem
	}{
		{"pinned with its version", head + "      - uses: actions/checkout@" + sha + " # v7.0.1\n", nil},
		{"a path inside the action's repository", head + "      - uses: github/codeql-action/init@" + sha + " # v4.1\n", nil},
		{"this repository's own workflow", "permissions: {}\njobs:\n  t:\n    uses: ./.github/workflows/ci.yml\n    permissions:\n      contents: read\n", nil},
		{"docker by digest", head + "      - uses: docker://alpine@sha256:" + strings.Repeat("ab", 32) + "\n", nil},
		{"a tag", head + "      - uses: actions/checkout@v7\n", []string{"line 9: uses: actions/checkout@v7: not pinned"}},
		{"a branch", head + "      - uses: actions/checkout@main # v7.0.1\n", []string{"not pinned"}},
		{"a short SHA", head + "      - uses: actions/checkout@3d3c42e # v7.0.1\n", []string{"not pinned"}},
		{"an uppercase SHA", head + "      - uses: actions/checkout@" + strings.ToUpper(sha) + " # v7.0.1\n", []string{"not pinned"}},
		{"no version comment", head + "      - uses: actions/checkout@" + sha + "\n", []string{"no `# vX.Y.Z` comment"}},
		{"a docker tag", head + "      - uses: docker://alpine:3\n", []string{"@sha256"}},
		{"a job without permissions", "permissions: {}\njobs:\n  a:\n    runs-on: x\n    permissions: {}\n  b:\n    runs-on: x\n", []string{"job b has no permissions"}},
		{"no top-level permissions", "on: push\njobs:\n  a:\n    permissions: {}\n", []string{"no top-level permissions"}},
		{"a step's env named permissions is not the job's", "permissions: {}\njobs:\n  a:\n    steps:\n      - env:\n          permissions: x\n", []string{"job a has no permissions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := workflowProblems(tc.text)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q does not say %q", got[i], w)
				}
			}
		})
	}
}

// Every workflow of this repository follows the rules: third-party actions pinned to a commit, least privilege.
func TestWorkflowsArePinnedAndLeastPrivilege(t *testing.T) {
	files, err := filepath.Glob("../.github/workflows/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		names[filepath.Base(f)] = true
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "uses:") {
			t.Errorf("%s: no uses: line at all, so this test checks nothing there", f)
		}
		for _, p := range workflowProblems(string(b)) {
			t.Errorf("%s: %s", f, p)
		}
	}
	for _, want := range []string{"ci.yml", "release.yml"} {
		if !names[want] {
			t.Errorf(".github/workflows/%s is missing (found %v)", want, files)
		}
	}
}
