package proxy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Table is the enforcement snapshot the proxy consults before forwarding: the
// actions in force, by actor key. It is immutable once published: Publish
// builds a new snapshot and swaps it in atomically, so Lookup takes no lock.
// The zero value is an empty table; a nil *Table enforces nothing.
type Table struct {
	snap atomic.Pointer[map[string][]vigil.Action]

	mu     sync.Mutex // serialises writers: Publish and Add
	recent []added    // actions Add put in force, for Publish to keep a while
}

// added is an action Add put in force, and when.
type added struct {
	action vigil.Action
	at     time.Time
}

// Bounds of Add's memory: Publish keeps an added action its list lacks for
// addGrace (the store write and the next poll can race), and at most
// maxRecent of them.
const (
	addGrace  = 3 * time.Second
	maxRecent = 4096
)

// NewTable returns an empty table.
func NewTable() *Table { return &Table{} }

// Publish replaces the table with actions. Actions are matched on their Key
// ("addr:203.0.113.9", "principal:jwt:alice", "fingerprint:…"); several
// actions may share a key. Expired actions may be included: Lookup ignores
// them. The slice is not kept.
func (t *Table) Publish(actions []vigil.Action) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string][]vigil.Action, len(actions))
	for _, a := range actions {
		if a.Key == "" {
			continue
		}
		m[a.Key] = append(m[a.Key], a)
	}
	// Keep what Add put in force moments ago and the list does not hold
	// yet: it was read from the store before the action was written. The
	// list may also hold the version of an action before Add escalated it
	// (same ID): the added one, the newer decision, takes its place.
	now, kept := time.Now(), t.recent[:0]
	for _, r := range t.recent {
		if now.Sub(r.at) > addGrace {
			continue
		}
		kept = append(kept, r)
		acts := m[r.action.Key] // built above: not the caller's slice
		if i := slices.IndexFunc(acts, func(x vigil.Action) bool { return x.ID == r.action.ID }); i >= 0 {
			acts[i] = r.action
		} else {
			m[r.action.Key] = append(acts, r.action)
		}
	}
	t.recent = kept
	t.snap.Store(&m)
}

// Add puts one action in force at once, without waiting for the next
// Publish: the Responder's actions then stop the actor's very next request
// rather than the requests after the next store poll. An action with the ID
// of one in the table replaces it (an escalation). Add copies the table, so
// it suits actions as they are decided (a few a second), not bulk loads.
func (t *Table) Add(a vigil.Action) {
	if t == nil || a.Key == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var old map[string][]vigil.Action
	if p := t.snap.Load(); p != nil {
		old = *p
	}
	m := make(map[string][]vigil.Action, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	var same []vigil.Action
	for _, x := range old[a.Key] {
		if x.ID != a.ID {
			same = append(same, x)
		}
	}
	m[a.Key] = append(same, a)
	t.snap.Store(&m)
	t.recent = slices.DeleteFunc(t.recent, func(r added) bool { return r.action.ID == a.ID })
	if len(t.recent) >= maxRecent {
		t.recent = slices.Delete(t.recent, 0, 1)
	}
	t.recent = append(t.recent, added{a, time.Now()})
}

// Len is the number of keys in the table.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	if m := t.snap.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// severity orders action kinds: when several actions apply, the strongest
// wins.
func severity(k vigil.ActionKind) int {
	switch k {
	case vigil.ActionBlock:
		return 5
	case vigil.ActionDecoy:
		return 4
	case vigil.ActionRateLimit:
		return 3
	case vigil.ActionTarpit:
		return 2
	case vigil.ActionMonitor:
		return 1
	}
	return 0
}

// Lookup returns the strongest action in force at now against any of the
// actor's keys (block, then decoy, then rate-limit, then tarpit, then monitor; among equal
// kinds the one that lasts longest). It does not allocate.
func (t *Table) Lookup(a vigil.Actor, now time.Time) (vigil.Action, bool) {
	if t == nil {
		return vigil.Action{}, false
	}
	mp := t.snap.Load()
	if mp == nil || len(*mp) == 0 {
		return vigil.Action{}, false
	}
	m := *mp
	var (
		best  vigil.Action
		found bool
		buf   [128]byte
	)
	for _, kind := range [...]vigil.KeyKind{vigil.KeyPrincipal, vigil.KeyAddr, vigil.KeyFingerprint} {
		var v string
		switch kind {
		case vigil.KeyPrincipal:
			v = a.Principal
		case vigil.KeyAddr:
			v = a.Addr
		case vigil.KeyFingerprint:
			v = a.Fingerprint
		}
		if v == "" {
			continue
		}
		// The key as Actor.KeyOf spells it, built without allocating
		// (the compiler does not copy for m[string(b)]).
		b := append(append(append(buf[:0], kind...), ':'), v...)
		for _, act := range m[string(b)] {
			if !act.Active(now) || severity(act.Kind) == 0 {
				continue
			}
			if !found || severity(act.Kind) > severity(best.Kind) ||
				(act.Kind == best.Kind && act.Until.After(best.Until)) {
				best, found = act, true
			}
		}
	}
	return best, found
}
