package recon

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil"
)

// maxShards is the shard count of a large table; small tables get fewer so
// that every shard holds a useful number of actors.
const (
	maxShards       = 64
	minShardActors  = 64
	versionSlots    = 4
	goldenRatio64   = 0x9E3779B97F4A7C15
	kindSaltAddr    = 0x9E3779B97F4A7C15 // keeps "addr:x" apart from "principal:x"
	kindSaltFingerp = 0x3C6EF372FE94F82A
	kindSaltAnon    = 0xDAA66D2C7DDF743F
)

// counters are the detector's statistics.
type counters struct {
	actors, evictions, expired atomic.Int64
	findings                   [numKinds]atomic.Int64
}

// table maps actor key hashes to actor state, in shards with their own lock
// and least-recently-seen list.
type table struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64
	c      *counters
}

type shard struct {
	mu         sync.Mutex
	m          map[uint64]*actor
	head, tail *actor // most and least recently seen
	limit      int
	_          [64]byte // keeps shards' locks off each other's cache lines
}

// actor is what the detector remembers of one actor.
type actor struct {
	hash       uint64
	last       int64 // latest exchange time seen, Unix nanoseconds
	prev, next *actor
	vers       [versionSlots]versionCount
	kinds      [numKinds]*kindState
}

// versionCount tallies an actor's known successful requests to one API
// version.
type versionCount struct {
	v version
	n uint32
}

func newTable(maxActors int, c *counters) *table {
	n := 1
	for n < maxShards && maxActors/(n*2) >= minShardActors {
		n *= 2
	}
	t := &table{seed: maphash.MakeSeed(), shards: make([]shard, n), mask: uint64(n - 1), c: c}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*actor)
		t.shards[i].limit = maxActors / n
	}
	return t
}

// actorHash hashes an actor's primary key (vigil.Actor.Key) without building
// it. Two actors share state only if their 64-bit seeded hashes collide.
func actorHash(seed maphash.Seed, a *vigil.Actor) uint64 {
	switch {
	case a.Principal != "":
		return maphash.String(seed, a.Principal)
	case a.Addr != "":
		return maphash.String(seed, a.Addr) + kindSaltAddr
	case a.Fingerprint != "":
		return maphash.String(seed, a.Fingerprint) + kindSaltFingerp
	}
	return kindSaltAnon
}

// acquire locks the actor's shard and returns it with the actor, created if
// new and marked most recently seen; the caller unlocks the shard. The
// actor's clock moves to at when at is later; it never goes back.
func (t *table) acquire(h uint64, at, window int64) (*shard, *actor) {
	sh := &t.shards[(h^h>>32)&t.mask]
	sh.mu.Lock()
	a := sh.m[h]
	if a == nil {
		if len(sh.m) >= sh.limit {
			sh.remove(sh.tail)
			t.c.evictions.Add(1)
			t.c.actors.Add(-1)
		}
		a = &actor{hash: h, last: at}
		sh.m[h] = a
		t.c.actors.Add(1)
	} else {
		sh.unlink(a)
	}
	sh.pushFront(a)
	a.last = max(a.last, at)
	t.reap(sh, a.last, window)
	return sh, a
}

// reap drops a few actors idle for idleWindowsBeforeGap windows from the
// tail of the shard's list.
func (t *table) reap(sh *shard, now, window int64) {
	cut := satSub(now, satMul(window, idleWindowsBeforeGap))
	for range reapPerCall {
		old := sh.tail
		if old == nil || old == sh.head || old.last >= cut {
			return
		}
		sh.remove(old)
		t.c.expired.Add(1)
		t.c.actors.Add(-1)
	}
}

func (sh *shard) remove(a *actor) {
	if a == nil {
		return
	}
	sh.unlink(a)
	delete(sh.m, a.hash)
}

func (sh *shard) unlink(a *actor) {
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		sh.head = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	} else {
		sh.tail = a.prev
	}
	a.prev, a.next = nil, nil
}

func (sh *shard) pushFront(a *actor) {
	a.next = sh.head
	if sh.head != nil {
		sh.head.prev = a
	}
	sh.head = a
	if sh.tail == nil {
		sh.tail = a
	}
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

// satSub and satMul are int64 arithmetic that saturates instead of
// wrapping, for times and windows from hostile input.
func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	if b < 0 && a > math.MaxInt64+b {
		return math.MaxInt64
	}
	return a - b
}

func satAdd(a, b int64) int64 { return satSub(a, -max(b, -math.MaxInt64)) }

func satMul(a, n int64) int64 {
	if a > 0 && a > math.MaxInt64/n {
		return math.MaxInt64
	}
	return a * n
}
