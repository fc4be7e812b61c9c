package timeutil

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	for _, c := range []struct {
		name     string
		cancelIn time.Duration // 0: never
		want     bool
		took     time.Duration
	}{
		{"whole wait", 0, true, time.Minute},
		{"cut short", 10 * time.Second, false, 10 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if c.cancelIn > 0 {
					time.AfterFunc(c.cancelIn, cancel)
				}
				start := time.Now()
				if got := Sleep(ctx, time.Minute); got != c.want {
					t.Errorf("Sleep = %v, want %v", got, c.want)
				}
				if took := time.Since(start); took != c.took {
					t.Errorf("Sleep took %v (fake clock), want %v", took, c.took)
				}
			})
		})
	}
}
