package sketch

import (
	"math"
	"time"
)

// WindowBuckets is the number of buckets of a Window.
const WindowBuckets = 10

// Window counts events in a sliding window of WindowBuckets fixed buckets:
// a window of span s forgets events bucket by bucket, s/WindowBuckets at a
// time, so Sum is exact to one bucket. Times are Unix nanoseconds from the
// events themselves (never the wall clock); an event older than the window
// is dropped, and a late one within it counts in its own bucket. Counts
// saturate at 2^32-1 per bucket. The zero Window is not usable; make one
// with NewWindow. It takes 56 bytes.
type Window struct {
	width int64 // bucket width, ns
	head  int64 // bucket number (time/width) of the newest bucket
	b     [WindowBuckets]uint32
}

// NewWindow returns an empty window spanning span (at least WindowBuckets
// nanoseconds).
func NewWindow(span time.Duration) Window {
	return Window{width: max(int64(span)/WindowBuckets, 1), head: math.MinInt64}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// advance moves the newest bucket to number idx, clearing the buckets it
// passes.
func (w *Window) advance(idx int64) {
	if w.head == math.MinInt64 || idx-w.head >= WindowBuckets || idx-w.head < 0 {
		if w.head == math.MinInt64 || idx > w.head {
			clear(w.b[:])
			w.head = idx
		}
		return
	}
	for i := w.head + 1; i <= idx; i++ {
		w.b[bucketOf(i)] = 0
	}
	w.head = idx
}

// tooOld reports whether bucket number idx has left a window whose newest
// bucket is head (the difference may overflow on hostile times).
func tooOld(head, idx int64) bool {
	d := head - idx
	return idx < head && (d >= WindowBuckets || d < 0)
}

func bucketOf(idx int64) int {
	return int((idx%WindowBuckets + WindowBuckets) % WindowBuckets)
}

// Add counts n events at time at.
func (w *Window) Add(at int64, n uint32) {
	if w.width == 0 {
		*w = NewWindow(time.Minute)
	}
	idx := floorDiv(at, w.width)
	if w.head == math.MinInt64 || idx > w.head {
		w.advance(idx)
	}
	if tooOld(w.head, idx) {
		return // older than the window
	}
	i := bucketOf(idx)
	w.b[i] = uint32(min(uint64(w.b[i])+uint64(n), math.MaxUint32))
}

// Sum is the number of events in the window ending at at: the buckets from
// at's back to WindowBuckets-1 before it. Sum does not change the window.
func (w *Window) Sum(at int64) uint64 {
	if w.width == 0 || w.head == math.MinInt64 {
		return 0
	}
	idx := floorDiv(at, w.width)
	var s uint64
	for k := range int64(WindowBuckets) {
		b := idx - k
		if b > w.head {
			continue
		}
		if tooOld(w.head, b) {
			break
		}
		s += uint64(w.b[bucketOf(b)])
	}
	return s
}
