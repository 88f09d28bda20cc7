package proxy

import (
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
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{} }

// Publish replaces the table with actions. Actions are matched on their Key
// ("addr:203.0.113.9", "principal:jwt:alice", "fingerprint:…"); several
// actions may share a key. Expired actions may be included: Lookup ignores
// them. The slice is not kept.
func (t *Table) Publish(actions []vigil.Action) {
	m := make(map[string][]vigil.Action, len(actions))
	for _, a := range actions {
		if a.Key == "" {
			continue
		}
		m[a.Key] = append(m[a.Key], a)
	}
	t.snap.Store(&m)
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
// actor's keys (block, then rate-limit, then tarpit, then monitor; among equal
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
