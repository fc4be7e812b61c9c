package bench

import (
	"testing"
	"time"
)

func TestPairedRatio(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name string
		a, b []time.Duration
		want float64
	}{
		{"odd count: the middle ratio", ms(110, 300, 120), ms(100, 100, 100), 1.2},
		{"even count: the mean of the middle two", ms(100, 120, 140, 500), ms(100, 100, 100, 100), 1.3},
		{"a slow pair moves both sides alike", ms(110, 1100, 110), ms(100, 1000, 100), 1.1},
		{"pairs without a direct time are left out", ms(120, 999), ms(100, 0), 1.2},
		{"nothing measured", nil, nil, 0},
		{"lengths differ: the pairs there are", ms(150, 200, 7), ms(100, 100), 1.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PairedRatio(tc.a, tc.b); got < tc.want-1e-9 || got > tc.want+1e-9 {
				t.Errorf("PairedRatio = %v, want %v", got, tc.want)
			}
		})
	}
}
