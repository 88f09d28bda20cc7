package recon

import "github.com/vigilsec/vigil/internal/actortable"

// kind numbers the finding kinds.
type kind uint8

const (
	kindProbe kind = iota
	kindWordlist
	kindSpec
	kindVersion
	numKinds
)

// kinds describes each finding kind.
var kinds = [numKinds]struct {
	id    string
	title string
	conf  float64
}{
	kindProbe:    {DetectorProbe, "Shadow API probing: a burst of unknown endpoints", 0.7},
	kindWordlist: {DetectorWordlist, "Shadow API probing: well-known sensitive paths", 0.85},
	kindSpec:     {DetectorSpecHunting, "Shadow API probing: hunting for API description files", 0.6},
	kindVersion:  {DetectorVersionRolling, "Shadow API probing: API version rolling", 0.8},
}

// Entry flags.
const (
	flagMiss    uint8 = 1 << iota // answered 404, 405, 410 or 501, or no answer
	flagSuccess                   // answered 2xx
	flagBody                      // answered 2xx with a body
	flagUnknown                   // Known said no
)

// entry is one distinct key an actor hit within the window.
type entry struct {
	key   uint64 // what makes it distinct
	group uint64 // version rolling: the versionless template
	at    int64
	ver   version
	flags uint8
}

// example is a path kept as evidence.
type example struct {
	at     int64
	path   string // at most MaxPathBytes, sanitized
	status int
	flags  uint8
	ver    version
}

// kindState is one actor's state for one finding kind. Entries are in time
// order, oldest first.
type kindState struct {
	ents     []entry
	examples []example
	fired    int64 // time of the last finding
	hasFired bool
}

// quiet reports whether a finding of this kind fired less than a window
// before now.
func (k *kindState) quiet(now, window int64) bool {
	return k.hasFired && now < actortable.SatAdd(k.fired, window)
}

// stale reports whether nothing is left in the window and no finding is
// recent enough to keep quiet for (cut is now minus the window).
func (k *kindState) stale(cut int64) bool {
	if k.hasFired && k.fired >= cut {
		return false
	}
	return len(k.ents) == 0 || k.ents[len(k.ents)-1].at < cut
}

// prune forgets entries and examples older than cut.
func (k *kindState) prune(cut int64) {
	i := 0
	for i < len(k.ents) && k.ents[i].at < cut {
		i++
	}
	if i > 0 {
		k.ents = append(k.ents[:0], k.ents[i:]...)
	}
	j := 0
	for j < len(k.examples) && k.examples[j].at < cut {
		j++
	}
	if j > 0 {
		n := copy(k.examples, k.examples[j:])
		clear(k.examples[n:])
		k.examples = k.examples[:n]
	}
}

// add records e, refreshing its time when its key is already there, and
// reports whether the key is new. Beyond MaxRemembered keys the oldest goes.
func (k *kindState) add(e entry) bool {
	for i := range k.ents {
		if k.ents[i].key == e.key {
			e.flags |= k.ents[i].flags
			k.ents = append(k.ents[:i], k.ents[i+1:]...)
			k.ents = append(k.ents, e)
			return false
		}
	}
	if len(k.ents) >= MaxRemembered {
		k.ents = append(k.ents[:0], k.ents[1:]...)
	}
	k.ents = append(k.ents, e)
	return true
}

// remember keeps path as an example, dropping the oldest beyond
// MaxEvidence.
func (k *kindState) remember(at int64, path string, status int, flags uint8, ver version) {
	if len(k.examples) >= MaxEvidence {
		n := copy(k.examples, k.examples[1:])
		k.examples = k.examples[:n]
	}
	k.examples = append(k.examples, example{at: at, path: cutPath(path), status: status, flags: flags, ver: ver})
}

// fire marks a finding at now and forgets the entries it consumed.
func (k *kindState) fire(now int64) {
	k.fired, k.hasFired = now, true
	k.ents = k.ents[:0]
	clear(k.examples)
	k.examples = k.examples[:0]
}

// state returns the actor's state for kind, pruned to the window, creating
// it when missing.
func (a *actor) state(kd kind, now, window int64) *kindState {
	k := a.kinds[kd]
	if k == nil {
		k = &kindState{}
		a.kinds[kd] = k
	}
	k.prune(actortable.SatSub(now, window))
	return k
}
