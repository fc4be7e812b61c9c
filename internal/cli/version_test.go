package cli

import "testing"

func TestStampedVersion(t *testing.T) {
	for _, tc := range []struct{ name, version, module, want string }{
		{"go install @v1.2.3", "0.1.0-dev", "v1.2.3", "1.2.3"},
		{"go install of a prerelease tag", "0.1.0-dev", "v1.3.0-rc.1", "1.3.0-rc.1"},
		{"release build: -X set the version, no stamp", "1.2.3", "(devel)", "1.2.3"},
		{"-X set the version, a stamp too", "1.2.3", "v1.2.4", "1.2.3"},
		{"dev build with -buildvcs=false", "0.1.0-dev", "(devel)", "0.1.0-dev"},
		{"untagged checkout: pseudo-version", "0.1.0-dev", "v0.0.0-20261129071500-27d149a1b2c3", "0.1.0-dev"},
		{"after a tag: pseudo-version with a base", "0.1.0-dev", "v1.2.4-0.20261129071500-27d149a1b2c3", "0.1.0-dev"},
		{"prerelease base pseudo-version", "0.1.0-dev", "v1.3.0-rc.1.0.20261129071500-27d149a1b2c3", "0.1.0-dev"},
		{"dirty tree at a tag", "0.1.0-dev", "v1.2.3+dirty", "0.1.0-dev"},
		{"no module version", "0.1.0-dev", "", "0.1.0-dev"},
	} {
		if got := stampedVersion(tc.version, tc.module); got != tc.want {
			t.Errorf("%s: stampedVersion(%q, %q) = %q, want %q", tc.name, tc.version, tc.module, got, tc.want)
		}
	}
}
