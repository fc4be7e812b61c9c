// Package timeutil waits in ways that a context can cut short. It imports nothing of the project.
package timeutil

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends; it reports whether the whole wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
