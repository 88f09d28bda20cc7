package detect

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
)

func TestMemo(t *testing.T) {
	m := newMemo[int](8)
	m.put("a", 1)
	m.put(strings.Repeat("x", 9), 2) // too long: not kept
	for i := range 2 * memoSlots {
		m.put("k"+strconv.Itoa(i), i) // evicts by collision, never grows
	}
	if _, ok := m.get(strings.Repeat("x", 9)); ok {
		t.Error("a key above maxKey was kept")
	}
	hits := 0
	for i := range 2 * memoSlots {
		if v, ok := m.get("k" + strconv.Itoa(i)); ok {
			hits++
			if v != i {
				t.Fatalf("get(k%d) = %d: a colliding key answered", i, v)
			}
		}
	}
	if hits == 0 || hits > memoSlots {
		t.Errorf("%d hits for %d slots", hits, memoSlots)
	}
}

// statefulIDs are the builtin detectors that learn from traffic: their
// verdicts depend on what they saw before, so runs in another order differ.
var statefulIDs = map[string]bool{
	bflaID: true, unauthID: true, tokenShareID: true, bulkID: true,
	headersID: true, // reports each endpoint once
}

// TestConcurrentAnalyze runs the merged stateless analyzers from several
// goroutines, as the pipeline's workers do, and checks they agree with a
// sequential run (run it with -race). The stateful detectors have their own
// concurrency tests (TestStatefulConcurrent).
func TestConcurrentAnalyze(t *testing.T) {
	xs, _ := loadCorpus(t)
	var fs []Factory
	for _, f := range Builtin() {
		if !statefulIDs[f.ID] {
			fs = append(fs, f)
		}
	}
	as, err := New(fs)
	if err != nil {
		t.Fatal(err)
	}
	count := func(x *vigil.Exchange) int {
		n := 0
		for _, a := range as {
			fs, err := a.Analyze(context.Background(), x)
			if err != nil {
				t.Error(err)
			}
			n += len(fs)
		}
		return n
	}
	want := make([]int, len(xs))
	for i := range xs {
		want[i] = count(&xs[i])
	}
	got := make([][]int, 4)
	var wg sync.WaitGroup
	for g := range got {
		got[g] = make([]int, len(xs))
		wg.Go(func() {
			for i := range xs {
				j := (i + g*len(xs)/4) % len(xs)
				got[g][j] = count(&xs[j])
			}
		})
	}
	wg.Wait()
	for g := range got {
		if d := cmp.Diff(want, got[g]); d != "" {
			t.Errorf("goroutine %d disagrees (-want +got):\n%s", g, d)
		}
	}
}
