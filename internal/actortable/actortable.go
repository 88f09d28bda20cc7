// Package actortable is a sharded, bounded table of per-actor state for the
// detectors (behavior, inventory/recon).
//
// A Table maps actor key hashes (see ActorHash) to a Node holding the
// caller's state S. Each shard has its own mutex and a least-recently-seen
// list: a new actor in a full shard evicts the shard's least recently seen
// actor, and every Acquire lazily reaps a few actors idle for two windows
// from the tail of the list. An actor's clock (Node.Last) only moves forward.
//
// Times are Unix nanoseconds from possibly hostile input; SatSub, SatAdd and
// SatMul do int64 arithmetic that saturates instead of wrapping.
package actortable

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil"
)

const (
	// MaxShards is the shard count of a large table; small tables get fewer
	// so that every shard holds at least MinShardActors actors.
	MaxShards      = 64
	MinShardActors = 64

	// ReapPerCall bounds the idle actors dropped per Acquire.
	ReapPerCall = 2
	// IdleWindowsBeforeGap is how many windows an actor may stay idle
	// before it is reaped.
	IdleWindowsBeforeGap = 2

	kindSaltAddr    = 0x9E3779B97F4A7C15 // keeps "addr:x" apart from "principal:x"
	kindSaltFingerp = 0x3C6EF372FE94F82A
	kindSaltAnon    = 0xDAA66D2C7DDF743F
)

// Counts are a table's statistics: actors tracked now, actors evicted at
// the limit and actors reaped after idling.
type Counts struct {
	Actors, Evictions, Expired atomic.Int64
}

// Table maps actor key hashes to per-actor state S.
type Table[S any] struct {
	seed   maphash.Seed
	shards []Shard[S]
	mask   uint64
	c      *Counts
}

// Shard is one locked part of a Table. Acquire returns it locked; the
// caller unlocks it with Unlock.
type Shard[S any] struct {
	mu         sync.Mutex
	m          map[uint64]*Node[S]
	head, tail *Node[S] // most and least recently seen
	limit      int
	_          [64]byte // keeps shards' locks off each other's cache lines
}

// Node is one tracked actor.
type Node[S any] struct {
	Hash       uint64 // the actor's key hash
	Last       int64  // latest exchange time seen, Unix nanoseconds
	prev, next *Node[S]
	State      S
}

// New returns a table holding at most maxActors actors (at least one per
// shard), counting into counts.
func New[S any](maxActors int, counts *Counts) *Table[S] {
	n := 1
	for n < MaxShards && maxActors/(n*2) >= MinShardActors {
		n *= 2
	}
	t := &Table[S]{seed: maphash.MakeSeed(), shards: make([]Shard[S], n), mask: uint64(n - 1), c: counts}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*Node[S])
		t.shards[i].limit = max(maxActors/n, 1)
	}
	return t
}

// Seed is the table's hash seed, for ActorHash and the caller's own hashes.
func (t *Table[S]) Seed() maphash.Seed { return t.seed }

// Shards is the table's shard count.
func (t *Table[S]) Shards() int { return len(t.shards) }

// ActorHash hashes an actor's primary key (vigil.Actor.Key) without building
// it. Two actors share state only if their 64-bit seeded hashes collide.
func ActorHash(seed maphash.Seed, a *vigil.Actor) uint64 {
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

// Acquire locks the actor's shard and returns it with the actor, created if
// new (when create is set) and marked most recently seen; the caller unlocks
// the shard. Without create, a missing actor gives a nil node (the shard is
// still locked). The actor's clock moves to at when at is later; it never
// goes back.
func (t *Table[S]) Acquire(h uint64, at, window int64, create bool) (*Shard[S], *Node[S]) {
	sh := &t.shards[(h^h>>32)&t.mask]
	sh.mu.Lock()
	a := sh.m[h]
	if a == nil {
		if !create {
			return sh, nil
		}
		if len(sh.m) >= sh.limit {
			sh.remove(sh.tail)
			t.c.Evictions.Add(1)
			t.c.Actors.Add(-1)
		}
		a = &Node[S]{Hash: h, Last: at}
		sh.m[h] = a
		t.c.Actors.Add(1)
	} else {
		sh.unlink(a)
	}
	sh.pushFront(a)
	a.Last = max(a.Last, at)
	t.reap(sh, a.Last, window)
	return sh, a
}

// Unlock unlocks a shard returned by Acquire.
func (sh *Shard[S]) Unlock() { sh.mu.Unlock() }

// reap drops a few actors idle for IdleWindowsBeforeGap windows from the
// tail of the shard's list.
func (t *Table[S]) reap(sh *Shard[S], now, window int64) {
	cut := SatSub(now, SatMul(window, IdleWindowsBeforeGap))
	for range ReapPerCall {
		old := sh.tail
		if old == nil || old == sh.head || old.Last >= cut {
			return
		}
		sh.remove(old)
		t.c.Expired.Add(1)
		t.c.Actors.Add(-1)
	}
}

// Each calls f for every tracked actor, one shard locked at a time, and
// returns their number (tests).
func (t *Table[S]) Each(f func(n *Node[S])) int {
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

func (sh *Shard[S]) remove(a *Node[S]) {
	if a == nil {
		return
	}
	sh.unlink(a)
	delete(sh.m, a.Hash)
}

func (sh *Shard[S]) unlink(a *Node[S]) {
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

func (sh *Shard[S]) pushFront(a *Node[S]) {
	a.next = sh.head
	if sh.head != nil {
		sh.head.prev = a
	}
	sh.head = a
	if sh.tail == nil {
		sh.tail = a
	}
}

// SatSub is a-b, saturating instead of wrapping.
func SatSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	if b < 0 && a > math.MaxInt64+b {
		return math.MaxInt64
	}
	return a - b
}

// SatAdd is a+b, saturating instead of wrapping.
func SatAdd(a, b int64) int64 { return SatSub(a, -max(b, -math.MaxInt64)) }

// SatMul is a*n for n > 0, saturating at math.MaxInt64 instead of wrapping.
func SatMul(a, n int64) int64 {
	if a > 0 && a > math.MaxInt64/n {
		return math.MaxInt64
	}
	return a * n
}
