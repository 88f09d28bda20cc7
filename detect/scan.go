package detect

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil"
)

// leafDetector is a request detector that judges decoded request values one
// at a time. Its own Analyze walks the request; New merges several into one
// analyzer that walks each request once and hands every leaf to each of them.
type leafDetector interface {
	vigil.Analyzer
	// scan starts judging one exchange. reuse, when not nil, is a scan
	// this detector returned before, whose findings have been taken: the
	// new scan may be made in it instead of a new allocation.
	scan(x *vigil.Exchange, reuse leafScan) leafScan
}

// leafScan is one detector's verdict on one exchange in progress.
// reuseScan returns reuse, set to v, when it is the same kind of scan, and
// a new scan holding v otherwise: the merged walk hands each detector the
// scan it made for the last exchange (sharedRun.scans).
func reuseScan[S any, P interface {
	*S
	leafScan
}](reuse leafScan, v S) leafScan {
	s, _ := reuse.(P)
	if s == nil {
		s = new(S)
	}
	*s = v
	return s
}

type leafScan interface {
	// leaf judges one leaf; false means the scan needs no more leaves. It
	// must keep none of l's strings: in the merged walk they point into the
	// request body (see jsonLeaves). What a finding shows is made afresh
	// (evidenceValue, shorten, mask, Leaf.Loc).
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
//
// The walker and the detectors' scans of one exchange are kept in a pool and
// made anew in place for the next: a request costs no allocation of them.
type shared struct {
	ds   []leafDetector
	runs sync.Pool // of *sharedRun
}

var _ vigil.Analyzer = (*shared)(nil)

// sharedRun is the state of one walk: the walker and each detector's scan.
type sharedRun struct {
	w      walker
	scans  []leafScan
	done   []bool
	active int
}

// leaf hands l to every scan that still wants leaves.
func (r *sharedRun) leaf(l *Leaf) bool {
	for i, sc := range r.scans {
		if !r.done[i] && !sc.leaf(l) {
			r.done[i] = true
			r.active--
		}
	}
	return r.active > 0
}

// Analyze implements vigil.Analyzer.
func (s *shared) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	r, _ := s.runs.Get().(*sharedRun)
	if r == nil {
		r = &sharedRun{scans: make([]leafScan, len(s.ds)), done: make([]bool, len(s.ds))}
		r.w.yield = r.leaf
		// Borrowed JSON strings (see jsonLeaves) save a copy of each: the
		// leaf detectors keep none, and what their findings show of a
		// value or location is made afresh (evidenceValue, shorten, mask,
		// Leaf.Loc, concatenated reasons).
		r.w.borrow = true
	}
	for i, d := range s.ds {
		r.scans[i] = d.scan(x, r.scans[i])
		r.done[i] = false
	}
	r.active = len(r.scans)
	r.w.reset()
	r.w.request(&x.Request)
	var out []vigil.Finding
	for i, sc := range r.scans {
		out = append(out, sc.findings()...)
		r.scans[i] = s.ds[i].scan(nil, sc) // keeps no exchange while pooled
	}
	s.runs.Put(r)
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
