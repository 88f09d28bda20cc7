package behavior

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
)

// checkCrackingBounds checks the table and every tracked actor against
// the limits.
func checkCrackingBounds(t testing.TB, c *Cracking, maxActors int) {
	t.Helper()
	n := c.table.Each(func(a *actortable.Node[crackActor]) {
		for _, e := range a.State.eps {
			if e == nil {
				continue
			}
			if len(e.vals) > c.maxValues || cap(e.vals) > c.maxValues || e.nex > MaxExamples {
				t.Errorf("endpoint state: %d values (cap %d), %d examples", len(e.vals), cap(e.vals), e.nex)
			}
			for _, x := range e.ex[:e.nex] {
				if len(x.shown) > maxShownBytes {
					t.Errorf("example of %d bytes", len(x.shown))
				}
			}
		}
	})
	if n > maxActors || int64(n) != c.Stats().Actors {
		t.Errorf("%d actors in the table, stats say %d, limit %d", n, c.Stats().Actors, maxActors)
	}
}

func TestCrackingBoundedState(t *testing.T) {
	c := NewCracking(Config{})
	var fs []vigil.Finding
	for i := range 5000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		// One endpoint cracked, nine more than the slots hold around it.
		for _, e := range []int{0, 1 + i%9} {
			x := exchange(attacker, at, giftcard(i, 404))
			x.Request.URL.Path = fmt.Sprintf("/api/v2/giftcards%d/GC-%04d/%s", e, i, strings.Repeat("é", 50))
			x.Request.URL.RawQuery = "otp=" + strings.Repeat("\x00", i%100)
			got, _ := c.Analyze(context.Background(), x)
			fs = append(fs, got...)
		}
	}
	if c := count(fs); c[DetectorCracking] != 1 {
		t.Errorf("findings %v", c)
	}
	checkCrackingBounds(t, c, 1)
}

func TestEviction(t *testing.T) {
	c := NewCracking(Config{MaxActors: 4})
	play(t, c, attacker, misses(19))
	for i := range 6 {
		play(t, c, vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}, []req{giftcard(9000+i, 404)})
	}
	st := c.Stats()
	if st.Actors != 4 || st.Evictions != 3 {
		t.Errorf("actors %d evictions %d, want 4 and 3", st.Actors, st.Evictions)
	}
	// The attacker was least recently seen: its 19 codes are forgotten.
	if fs := play(t, c, attacker, []req{giftcard(19, 404)}); len(fs) != 0 {
		t.Errorf("an evicted actor's state survived: %v", fs)
	}
	c = NewCracking(Config{MaxActors: 100})
	play(t, c, attacker, misses(19))
	if fs := play(t, c, attacker, []req{giftcard(19, 404)}); count(fs)[DetectorCracking] != 1 {
		t.Errorf("no finding without eviction: %v", fs)
	}

	d := NewFlows(Config{MaxActors: 2})
	play(t, d, user, []req{quote, paid})
	for i := range 3 {
		play(t, d, vigil.Actor{Principal: fmt.Sprintf("jwt:%d", 500+i)}, []req{quote})
	}
	if st := d.Stats(); st.Actors != 2 || st.Evictions != 2 {
		t.Errorf("flows: %+v", st)
	}
	// Evicted, the payment is forgotten: a false positive the limit buys.
	if fs := play(t, d, user, []req{confirm}); len(fs) != 1 {
		t.Errorf("flows after eviction: %v", fs)
	}
}

func TestIdleActorsExpire(t *testing.T) {
	c := NewCracking(Config{Window: time.Minute, MaxActors: 127}) // one shard
	for i := range 100 {
		play(t, c, vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}, []req{giftcard(i, 404)})
	}
	for i := range 100 {
		c.Analyze(context.Background(), exchange(attacker, t0.Add(time.Hour+time.Duration(i)*time.Second), giftcard(i, 404)))
	}
	if st := c.Stats(); st.Actors != 1 || st.Expired != 100 {
		t.Errorf("actors %d expired %d, want 1 and 100", st.Actors, st.Expired)
	}
}

func TestConcurrent(t *testing.T) {
	c, d, tp := NewCracking(Config{MaxActors: 1000}), NewFlows(Config{MaxActors: 1000}), NewTampering(Config{MaxActors: 1000})
	const workers, actorsPer = 8, 20
	var wg sync.WaitGroup
	results := make([][]vigil.Finding, workers)
	for w := range workers {
		wg.Go(func() {
			// Like the pipeline: one worker owns each actor, actors interleave.
			at := t0
			for round := range 30 {
				for i := range actorsPer {
					a := vigil.Actor{Principal: fmt.Sprintf("jwt:%d-%d", w, i)}
					at = at.Add(time.Millisecond)
					var r req
					switch i % 4 {
					case 0: // cracks
						r = giftcard(round, 404)
					case 1: // shops honestly
						r = []req{quote, paid, confirm, get(fmt.Sprintf("/api/v2/products/%d", round), 200)}[round%4]
					case 2: // skips payment
						r = []req{quote, confirm}[round%2]
					case 3: // tampers
						r = post("/api/v2/cart/items", `{"quantity":-1}`, 400)
					}
					for _, an := range []vigil.Analyzer{c, d, tp} {
						fs, _ := an.Analyze(context.Background(), exchange(a, at, r))
						results[w] = append(results[w], fs...)
					}
				}
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, fs := range results {
		for _, f := range fs {
			got[f.Detector]++
		}
	}
	per := workers * actorsPer / 4
	if want := map[string]int{DetectorCracking: per, DetectorFlowSkip: per, DetectorTampering: per}; !equalCounts(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	checkCrackingBounds(t, c, 1000)
}

// TestBytesPerActor measures the memory of tracked actors.
func TestBytesPerActor(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	measure := func(name string, n int, an func(int) vigil.Analyzer, feed func(an vigil.Analyzer, i int)) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := an(n)
		for i := range n {
			feed(a, i)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(a)
		per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
		t.Logf("%s: %.0f bytes per actor", name, per)
		return per
	}
	const n = 20_000
	actorOf := func(i int) vigil.Actor { return vigil.Actor{Principal: fmt.Sprintf("jwt:%d", i)} }
	ctx := context.Background()
	// Exchanges are built outside the measurement.
	miss := make([]*vigil.Exchange, 2*DefaultThreshold)
	for j := range miss {
		miss[j] = exchange(attacker, t0, giftcard(j, 404))
	}
	one := measure("cracking, one endpoint full", n, func(n int) vigil.Analyzer { return NewCracking(Config{MaxActors: n}) }, func(an vigil.Analyzer, i int) {
		for _, x := range miss {
			x.Actor = actorOf(i)
			an.Analyze(ctx, x)
		}
	})
	all := measure("cracking, every endpoint full", 5000, func(n int) vigil.Analyzer { return NewCracking(Config{MaxActors: n}) }, func(an vigil.Analyzer, i int) {
		for e := range MaxEndpoints {
			for _, x := range miss {
				x.Actor = actorOf(i)
				old := x.Request.URL.Host
				x.Request.URL.Host = fmt.Sprintf("h%d.test", e)
				an.Analyze(ctx, x)
				x.Request.URL.Host = old
			}
		}
	})
	flowX := []*vigil.Exchange{exchange(user, t0, quote), exchange(user, t0, paid), exchange(user, t0, confirm)}
	flows := measure("flows, a paid checkout", n, func(n int) vigil.Analyzer { return NewFlows(Config{MaxActors: n}) }, func(an vigil.Analyzer, i int) {
		for _, x := range flowX {
			x.Actor = actorOf(i)
			an.Analyze(ctx, x)
		}
	})
	tx := exchange(user, t0, post("/api/v2/cart/items", `{"quantity":-1}`, 400))
	tamper := measure("tampering, a flagged actor", n, func(n int) vigil.Analyzer { return NewTampering(Config{MaxActors: n}) }, func(an vigil.Analyzer, i int) {
		tx.Actor = actorOf(i)
		an.Analyze(ctx, tx)
	})
	if one > 1500 || all > 4500 || flows > 400 || tamper > 250 {
		t.Errorf("bytes per actor: cracking %.0f / %.0f, flows %.0f, tampering %.0f", one, all, flows, tamper)
	}
}
