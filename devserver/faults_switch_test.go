package devserver

import (
	"net/http"
	"sync"
	"testing"
)

// prmStatus and asStatus are what the PRM and AS metadata URLs answer now.
func prmStatus(t *testing.T, base string) int {
	return faultRequest(t, http.MethodGet, base+prmPath+mcpPath, "").status
}

func asStatus(t *testing.T, base string) int {
	return faultRequest(t, http.MethodGet, base+asMetadataPath, "").status
}

// SetFaults replaces the set in force on a running server: Config.Faults is only the first set.
func TestSetFaultsReplacesTheSetWhileRunning(t *testing.T) {
	r := startOAuth(t, Config{Faults: []Fault{FaultNoPRM}})
	steps := []struct {
		name          string
		set           []Fault // the faults SetFaults is given when change is set
		change        bool
		wantPRM, want int // PRM and AS metadata statuses afterwards
	}{
		{name: "configured", wantPRM: 404, want: 200},
		{name: "replaced", change: true, set: []Fault{FaultNoASMetadata}, wantPRM: 200, want: 404},
		{name: "two at once", change: true, set: []Fault{FaultNoPRM, FaultNoASMetadata}, wantPRM: 404, want: 404},
		{name: "cleared", change: true, wantPRM: 200, want: 200},
		{name: "set again", change: true, set: []Fault{FaultNoPRM}, wantPRM: 404, want: 200},
	}
	for _, st := range steps {
		if st.change {
			r.SetFaults(st.set...)
		}
		if got := prmStatus(t, r.URL); got != st.wantPRM {
			t.Errorf("%s: PRM %d, want %d", st.name, got, st.wantPRM)
		}
		if got := asStatus(t, r.URL); got != st.want {
			t.Errorf("%s: AS metadata %d, want %d", st.name, got, st.want)
		}
	}
}

// The server keeps its own copy: changing the caller's slice afterwards changes nothing.
func TestSetFaultsCopiesTheSlice(t *testing.T) {
	r := startOAuth(t, Config{})
	set := []Fault{FaultNoPRM}
	r.SetFaults(set...)
	set[0] = FaultNoASMetadata
	if got, gotAS := prmStatus(t, r.URL), asStatus(t, r.URL); got != 404 || gotAS != 200 {
		t.Errorf("PRM %d, AS metadata %d: want the no-prm fault as it was set", got, gotAS)
	}
}

// Switching faults while requests are in flight is safe (run with -race) and the last set wins.
func TestSetFaultsWhileServing(t *testing.T) {
	r := startOAuth(t, Config{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if got := prmStatus(t, r.URL); got != 200 && got != 404 {
					t.Errorf("PRM %d", got)
				}
			}
		})
	}
	for i := range 40 {
		if i%2 == 0 {
			r.SetFaults(FaultNoPRM)
		} else {
			r.SetFaults()
		}
	}
	wg.Wait()
	if got := prmStatus(t, r.URL); got != 200 {
		t.Errorf("after the last SetFaults(): PRM %d, want 200", got)
	}
}
