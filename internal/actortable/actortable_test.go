package actortable

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/vigilsec/vigil"
)

const second = int64(1e9)

// check verifies every shard's map and list agree and respect the limit,
// and that the counters match.
func check[S any](t *testing.T, tb *Table[S], c *Counts) int {
	t.Helper()
	total := 0
	for i := range tb.shards {
		sh := &tb.shards[i]
		sh.mu.Lock()
		listed := 0
		var prev *Node[S]
		for n := sh.head; n != nil; n = n.next {
			if n.prev != prev || sh.m[n.Hash] != n {
				t.Errorf("shard %d: broken list at %x", i, n.Hash)
			}
			prev = n
			listed++
		}
		if prev != sh.tail || listed != len(sh.m) || len(sh.m) > sh.limit {
			t.Errorf("shard %d: %d listed, %d in map, limit %d", i, listed, len(sh.m), sh.limit)
		}
		total += listed
		sh.mu.Unlock()
	}
	if int64(total) != c.Actors.Load() {
		t.Errorf("%d actors, counted %d", total, c.Actors.Load())
	}
	return total
}

func TestShards(t *testing.T) {
	for _, tc := range []struct{ max, shards int }{{0, 1}, {1, 1}, {127, 1}, {128, 2}, {10_000, 64}, {1 << 20, MaxShards}} {
		if n := New[int](tc.max, &Counts{}).Shards(); n != tc.shards {
			t.Errorf("New(%d): %d shards, want %d", tc.max, n, tc.shards)
		}
	}
}

func TestEvictionAtLimit(t *testing.T) {
	var c Counts
	tb := New[int](3, &c)
	for h := uint64(1); h <= 3; h++ {
		sh, n := tb.Acquire(h, 0, second, true)
		n.State = int(h)
		sh.Unlock()
	}
	sh, _ := tb.Acquire(1, 0, second, true) // 1 is now most recently seen
	sh.Unlock()
	sh, _ = tb.Acquire(4, 0, second, true) // evicts 2, the least recently seen
	sh.Unlock()
	if c.Evictions.Load() != 1 || c.Actors.Load() != 3 || c.Expired.Load() != 0 {
		t.Fatalf("evictions %d actors %d expired %d", c.Evictions.Load(), c.Actors.Load(), c.Expired.Load())
	}
	seen := map[uint64]int{}
	tb.Each(func(n *Node[int]) { seen[n.Hash] = n.State })
	if _, ok := seen[2]; ok || seen[1] != 1 || seen[3] != 3 || len(seen) != 3 {
		t.Errorf("after eviction: %v", seen)
	}
	sh, n := tb.Acquire(2, 0, second, false)
	sh.Unlock()
	if n != nil {
		t.Errorf("evicted actor found without create")
	}
	if c.Actors.Load() != 3 {
		t.Errorf("lookup without create changed the count: %d", c.Actors.Load())
	}
	check(t, tb, &c)
}

func TestReapAfterTwoIdleWindows(t *testing.T) {
	var c Counts
	tb := New[int](100, &c)
	sh, _ := tb.Acquire(1, 0, second, true)
	sh.Unlock()
	sh, _ = tb.Acquire(2, 2*second, second, true) // idle exactly two windows: kept
	sh.Unlock()
	if c.Expired.Load() != 0 || c.Actors.Load() != 2 {
		t.Fatalf("reaped too early: expired %d actors %d", c.Expired.Load(), c.Actors.Load())
	}
	sh, _ = tb.Acquire(3, 2*second+1, second, true) // 1 is now past two windows
	sh.Unlock()
	if c.Expired.Load() != 1 || c.Actors.Load() != 2 {
		t.Fatalf("expired %d actors %d, want 1 and 2", c.Expired.Load(), c.Actors.Load())
	}
	sh, n := tb.Acquire(1, 0, second, false)
	sh.Unlock()
	if n != nil {
		t.Errorf("idle actor not reaped")
	}
	// At most ReapPerCall per call, and never the actor just seen.
	for h := uint64(10); h < 20; h++ {
		sh, _ := tb.Acquire(h, 10*second, second, true)
		sh.Unlock()
	}
	sh, _ = tb.Acquire(99, 100*second, second, true)
	sh.Unlock()
	if got := c.Expired.Load(); got != 1+2+ReapPerCall {
		t.Errorf("expired %d, want %d", got, 1+2+ReapPerCall)
	}
	check(t, tb, &c)
}

func TestClockNeverGoesBack(t *testing.T) {
	var c Counts
	tb := New[int](10, &c)
	sh, n := tb.Acquire(7, 5*second, second, true)
	sh.Unlock()
	if n.Last != 5*second {
		t.Fatalf("last %d", n.Last)
	}
	sh, n = tb.Acquire(7, second, second, true)
	sh.Unlock()
	if n.Last != 5*second {
		t.Errorf("clock went back to %d", n.Last)
	}
	sh, n = tb.Acquire(7, 6*second, second, false)
	sh.Unlock()
	if n == nil || n.Last != 6*second {
		t.Errorf("clock did not move forward: %v", n)
	}
	// Hostile times and windows saturate instead of wrapping.
	sh, _ = tb.Acquire(8, math.MinInt64, math.MaxInt64, true)
	sh.Unlock()
	sh, _ = tb.Acquire(9, math.MaxInt64, math.MaxInt64, true)
	sh.Unlock()
	if c.Expired.Load() != 0 {
		t.Errorf("expired %d with an endless window", c.Expired.Load())
	}
	check(t, tb, &c)
}

func TestActorHash(t *testing.T) {
	tb := New[int](1, &Counts{})
	s := tb.Seed()
	h := func(a vigil.Actor) uint64 { return ActorHash(s, &a) }
	if h(vigil.Actor{Principal: "x"}) == h(vigil.Actor{Addr: "x"}) ||
		h(vigil.Actor{Addr: "x"}) == h(vigil.Actor{Fingerprint: "x"}) ||
		h(vigil.Actor{Principal: "x"}) == h(vigil.Actor{Fingerprint: "x"}) {
		t.Error("key kinds collide")
	}
	if h(vigil.Actor{Principal: "p", Addr: "a"}) != h(vigil.Actor{Principal: "p", Addr: "b"}) {
		t.Error("principal is not the primary key")
	}
	if h(vigil.Actor{}) != h(vigil.Actor{}) {
		t.Error("anonymous actors differ")
	}
}

func TestSat(t *testing.T) {
	for _, tc := range []struct{ got, want int64 }{
		{SatSub(math.MinInt64, 1), math.MinInt64},
		{SatSub(math.MaxInt64, -1), math.MaxInt64},
		{SatSub(5, 3), 2},
		{SatAdd(math.MaxInt64, 1), math.MaxInt64},
		{SatAdd(0, math.MinInt64), -math.MaxInt64},
		{SatAdd(2, 3), 5},
		{SatMul(math.MaxInt64/2+1, 2), math.MaxInt64},
		{SatMul(-3, 2), -6},
		{SatMul(4, 2), 8},
	} {
		if tc.got != tc.want {
			t.Errorf("got %d, want %d", tc.got, tc.want)
		}
	}
}

func TestConcurrent(t *testing.T) {
	var c Counts
	const maxActors = 256
	tb := New[int](maxActors, &c)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				a := vigil.Actor{Addr: fmt.Sprintf("10.0.%d.%d", g, i%500)}
				sh, n := tb.Acquire(ActorHash(tb.Seed(), &a), int64(i)*second/100, second, i%3 != 0)
				if n != nil {
					n.State++
				}
				sh.Unlock()
			}
		})
	}
	wg.Wait()
	if n := check(t, tb, &c); n > maxActors {
		t.Errorf("%d actors, limit %d", n, maxActors)
	}
	if c.Evictions.Load() == 0 {
		t.Error("no eviction")
	}
}
