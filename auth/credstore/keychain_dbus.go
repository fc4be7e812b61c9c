//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package credstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// keychainReachable reports why the Secret Service cannot be reached without starting a D-Bus session: with no
// session bus, go-keyring would autolaunch one with dbus-launch, which fails headless and leaves daemons behind.
func keychainReachable() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	run := fmt.Sprintf("/run/user/%d", os.Getuid()) // where godbus looks for a systemd user bus
	for _, f := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, f)); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service")
}
