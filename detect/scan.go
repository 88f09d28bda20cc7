package detect

import (
	"context"
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/vigilsec/vigil"
)

// leafDetector is a request detector that judges decoded request values one
// at a time. Its own Analyze walks the request; New merges several into one
// analyzer that walks each request once and hands every leaf to each of them.
type leafDetector interface {
	vigil.Analyzer
	// scan starts judging one exchange.
	scan(x *vigil.Exchange) leafScan
}

// leafScan is one detector's verdict on one exchange in progress.
type leafScan interface {
	// leaf judges one leaf; false means the scan needs no more leaves.
	leaf(l *Leaf) bool
	// findings is the verdict once the leaves are done.
	findings() []vigil.Finding
}

// runScan walks a request for one detector.
func runScan(s leafScan, r *vigil.Request) []vigil.Finding {
	for l := range Leaves(r) {
		if !s.leaf(l) {
			break
		}
	}
	return s.findings()
}

// shared runs several leaf detectors off one walk of each request. The walk
// is a third of a request detector's cost, so sharing it roughly halves the
// cost of the request detectors together. Findings keep each detector's id.
type shared struct {
	ds []leafDetector
}

var _ vigil.Analyzer = (*shared)(nil)

// Analyze implements vigil.Analyzer.
func (s *shared) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	var arr [8]leafScan
	scans := arr[:0]
	for _, d := range s.ds {
		scans = append(scans, d.scan(x))
	}
	active := len(scans)
	var doneArr [8]bool
	done := doneArr[:]
	if len(scans) > len(doneArr) {
		done = make([]bool, len(scans))
	}
	for l := range Leaves(&x.Request) {
		for i, sc := range scans {
			if !done[i] && !sc.leaf(l) {
				done[i] = true
				active--
			}
		}
		if active == 0 {
			break
		}
	}
	var out []vigil.Finding
	for _, sc := range scans {
		out = append(out, sc.findings()...)
	}
	return out, nil
}

// memoSlots bounds a memo: at most memoSlots values are kept (unless made
// with newMemoN), of at most the memo's maxKey bytes each.
const memoSlots = 512

// memo is a small lock-free direct-mapped cache of verdicts on values that
// repeat across requests, such as User-Agent and Referer headers: most
// requests of a client carry the same ones. A collision overwrites the slot;
// safe for concurrent use.
type memo[T any] struct {
	maxKey int
	seed   maphash.Seed
	slots  []atomic.Pointer[memoEntry[T]]
}

type memoEntry[T any] struct {
	key string
	val T
}

func newMemo[T any](maxKey int) *memo[T] { return newMemoN[T](maxKey, memoSlots) }

// newMemoN makes a memo of n slots.
func newMemoN[T any](maxKey, n int) *memo[T] {
	return &memo[T]{maxKey: maxKey, seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[memoEntry[T]], n)}
}

func (m *memo[T]) slot(k string) *atomic.Pointer[memoEntry[T]] {
	return &m.slots[maphash.String(m.seed, k)%uint64(len(m.slots))]
}

// get returns the verdict on k, if remembered.
func (m *memo[T]) get(k string) (T, bool) {
	var zero T
	if len(k) > m.maxKey {
		return zero, false
	}
	if e := m.slot(k).Load(); e != nil && e.key == k {
		return e.val, true
	}
	return zero, false
}

// put remembers the verdict on k.
func (m *memo[T]) put(k string, v T) {
	if len(k) <= m.maxKey {
		m.slot(k).Store(&memoEntry[T]{key: strings.Clone(k), val: v})
	}
}
