package cli

import (
	"regexp"
	"runtime/debug"
	"strings"
)

var (
	// releaseTag is a module version Go stamps from a release tag: v1.2.3 or v1.2.3-rc.1, no build metadata.
	releaseTag = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	// pseudoVersion ends the way Go's pseudo-versions do: a UTC time and 12 hex digits of a commit.
	pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`)
)

// A binary that `go install .../cmd/meshai-mcp-server@v1.2.3` built (no -X flag) reports 1.2.3, the version Go
// stamped from the tag, rather than the dev default; a release build's -X value and a build from an untagged
// checkout keep theirs.
func init() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		Version = stampedVersion(Version, bi.Main.Version)
	}
}

// stampedVersion returns the module version Go stamped in the binary, without its "v", when it names a release
// tag and Version is still the dev default (a version ending in -dev); otherwise Version.
func stampedVersion(version, module string) string {
	if !strings.HasSuffix(version, "-dev") || !releaseTag.MatchString(module) || pseudoVersion.MatchString(module) {
		return version
	}
	return strings.TrimPrefix(module, "v")
}
