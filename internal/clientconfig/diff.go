package clientconfig

import (
	"fmt"
	"strings"
)

// lineDiff is the change from a to b as a unified diff of one hunk, for dry runs: the lines that differ, with up
// to three lines of context. Only the differing middle is compared line by line, so a large file (Claude Code's
// ~/.claude.json) with a small change costs little.
func lineDiff(name string, a, b []byte) string {
	x, y := splitLines(string(a)), splitLines(string(b))
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	ctx := 3
	from, toX, toY := max(pre-ctx, 0), min(len(x)-suf+ctx, len(x)), min(len(y)-suf+ctx, len(y))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s (new)\n@@ -%d,%d +%d,%d @@\n", name, name, from+1, toX-from, from+1, toY-from)
	for _, l := range x[from:pre] {
		out.WriteString(" " + l + "\n")
	}
	for _, op := range lcsDiff(x[pre:len(x)-suf], y[pre:len(y)-suf]) {
		out.WriteString(op + "\n")
	}
	for _, l := range x[len(x)-suf : toX] {
		out.WriteString(" " + l + "\n")
	}
	return out.String()
}

// lcsDiff is the line diff of x and y by their longest common subsequence: lines prefixed " ", "-" or "+".
func lcsDiff(x, y []string) []string {
	n, m := len(x), len(y)
	t := make([][]int, n+1)
	for i := range t {
		t[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var ops []string
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			ops = append(ops, " "+x[i])
			i, j = i+1, j+1
		case t[i+1][j] >= t[i][j+1]:
			ops = append(ops, "-"+x[i])
			i++
		default:
			ops = append(ops, "+"+y[j])
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, "-"+x[i])
	}
	for ; j < m; j++ {
		ops = append(ops, "+"+y[j])
	}
	return ops
}

// splitLines splits s into lines without their newlines.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
