package behavior

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil"
)

const (
	maxShards       = 64
	minShardActors  = 64
	kindSaltAddr    = 0x9E3779B97F4A7C15 // keeps "addr:x" apart from "principal:x"
	kindSaltFingerp = 0x3C6EF372FE94F82A
	kindSaltAnon    = 0xDAA66D2C7DDF743F
)

// counters are a detector's statistics.
type counters struct {
	actors, evictions, expired, suppressed atomic.Int64
	findings                               [2]atomic.Int64 // by the detector's own kind index
}

func (c *counters) stats(ids ...string) Stats {
	s := Stats{
		Actors:     c.actors.Load(),
		Evictions:  c.evictions.Load(),
		Expired:    c.expired.Load(),
		Suppressed: c.suppressed.Load(),
		Findings:   make(map[string]int64, len(ids)),
	}
	for i, id := range ids {
		s.Findings[id] = c.findings[i].Load()
	}
	return s
}

// table maps actor key hashes to per-actor state S, in shards with their own
// lock and least-recently-seen list. All three detectors use it.
type table[S any] struct {
	seed   maphash.Seed
	shards []shard[S]
	mask   uint64
	c      *counters
}

type shard[S any] struct {
	mu         sync.Mutex
	m          map[uint64]*node[S]
	head, tail *node[S] // most and least recently seen
	limit      int
	_          [64]byte // keeps shards' locks off each other's cache lines
}

// node is one tracked actor.
type node[S any] struct {
	hash       uint64
	last       int64 // latest exchange time seen, Unix nanoseconds
	prev, next *node[S]
	s          S
}

func newTable[S any](maxActors int, c *counters) *table[S] {
	n := 1
	for n < maxShards && maxActors/(n*2) >= minShardActors {
		n *= 2
	}
	t := &table[S]{seed: maphash.MakeSeed(), shards: make([]shard[S], n), mask: uint64(n - 1), c: c}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*node[S])
		t.shards[i].limit = max(maxActors/n, 1)
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
// new (when create is set) and marked most recently seen; the caller unlocks
// the shard. Without create, a missing actor gives a nil node (the shard is
// still locked). The actor's clock moves to at when at is later; it never
// goes back.
func (t *table[S]) acquire(h uint64, at, window int64, create bool) (*shard[S], *node[S]) {
	sh := &t.shards[(h^h>>32)&t.mask]
	sh.mu.Lock()
	a := sh.m[h]
	if a == nil {
		if !create {
			return sh, nil
		}
		if len(sh.m) >= sh.limit {
			sh.remove(sh.tail)
			t.c.evictions.Add(1)
			t.c.actors.Add(-1)
		}
		a = &node[S]{hash: h, last: at}
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
func (t *table[S]) reap(sh *shard[S], now, window int64) {
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

// each calls f for every tracked actor, one shard locked at a time (tests).
func (t *table[S]) each(f func(n *node[S])) int {
	total := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, n := range sh.m {
			f(n)
			total++
		}
		sh.mu.Unlock()
	}
	return total
}

func (sh *shard[S]) remove(a *node[S]) {
	if a == nil {
		return
	}
	sh.unlink(a)
	delete(sh.m, a.hash)
}

func (sh *shard[S]) unlink(a *node[S]) {
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

func (sh *shard[S]) pushFront(a *node[S]) {
	a.next = sh.head
	if sh.head != nil {
		sh.head.prev = a
	}
	sh.head = a
	if sh.tail == nil {
		sh.tail = a
	}
}

// exchangeTime is the exchange's time in Unix nanoseconds, 0 when unset.
func exchangeTime(x *vigil.Exchange) int64 {
	if x.Time.IsZero() {
		return 0
	}
	return x.Time.UnixNano()
}

// quiet is the suppression rule shared by all kinds: a finding fired at
// fired (when hasFired) keeps the kind quiet until a window has passed.
func quiet(hasFired bool, fired, now, window int64) bool {
	return hasFired && now < satAdd(fired, window)
}

// satSub, satAdd and satMul are int64 arithmetic that saturates instead of
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
