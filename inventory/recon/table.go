package recon

import (
	"math"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/actortable"
)

const (
	versionSlots  = 4
	goldenRatio64 = 0x9E3779B97F4A7C15
)

// counters are the detector's statistics.
type counters struct {
	actortable.Counts
	findings [numKinds]atomic.Int64
}

// actor is what the detector remembers of one actor, the state of its
// actortable.Node.
type actor struct {
	vers  [versionSlots]versionCount
	kinds [numKinds]*kindState
}

// versionCount tallies an actor's known successful requests to one API
// version.
type versionCount struct {
	v version
	n uint32
}

// tallyVersion counts one known successful request to version v. A full
// tally replaces its least used slot.
func (a *actor) tallyVersion(v version) {
	if !v.ok() {
		return
	}
	low := 0
	for i := range a.vers {
		s := &a.vers[i]
		if s.v == v {
			if s.n < math.MaxUint32 {
				s.n++
			}
			return
		}
		if s.n < a.vers[low].n {
			low = i
		}
	}
	a.vers[low] = versionCount{v: v, n: 1}
}

// mainVersion is the version the actor has used most, when it has used it
// at least mainVersionMinimum times.
func (a *actor) mainVersion() (version, bool) {
	best := versionCount{}
	for _, s := range a.vers {
		if s.n > best.n {
			best = s
		}
	}
	return best.v, best.n >= mainVersionMinimum
}

// dropStale frees the kind states with nothing left in the window and no
// finding to keep quiet for.
func (a *actor) dropStale(cut int64) {
	for i, k := range a.kinds {
		if k != nil && k.stale(cut) {
			a.kinds[i] = nil
		}
	}
}
