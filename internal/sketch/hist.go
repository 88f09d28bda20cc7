package sketch

import (
	"math"
	"math/bits"
)

// HistBuckets is the number of buckets of a Hist.
const HistBuckets = 24

// Hist is a log-scale histogram of non-negative values: bucket 0 holds 0,
// bucket b (1 ≤ b < HistBuckets-1) holds [2^(b-1), 2^b), and the last bucket
// everything from 2^(HistBuckets-2) up. Counts saturate at 2^32-1. It takes
// 4×HistBuckets (96) bytes; the zero Hist is empty and ready.
type Hist struct {
	b [HistBuckets]uint32
}

// HistBucket is the bucket of v.
func HistBucket(v uint64) int { return min(bits.Len64(v), HistBuckets-1) }

// Add counts one value.
func (h *Hist) Add(v uint64) {
	i := HistBucket(v)
	if h.b[i] < math.MaxUint32 {
		h.b[i]++
	}
}

// Total is the number of values counted (saturating).
func (h *Hist) Total() uint64 {
	var t uint64
	for _, c := range h.b {
		t += uint64(c)
	}
	return t
}

// Count is the number of values counted in bucket i (0 outside the range).
func (h *Hist) Count(i int) uint64 {
	if i < 0 || i >= HistBuckets {
		return 0
	}
	return uint64(h.b[i])
}

// Share is the fraction of the values counted that fell in v's bucket or
// in a bucket next to it: how usual a value of v's magnitude is. 0 for an
// empty histogram.
func (h *Hist) Share(v uint64) float64 {
	t := h.Total()
	if t == 0 {
		return 0
	}
	i := HistBucket(v)
	n := h.Count(i-1) + h.Count(i) + h.Count(i+1)
	return float64(n) / float64(t)
}

// Quantile is an upper bound of the q-quantile (0 ≤ q ≤ 1): the top of the
// first bucket at which the running count reaches q of the total. 0 for an
// empty histogram; math.MaxUint64 when it is the last bucket.
func (h *Hist) Quantile(q float64) uint64 {
	t := h.Total()
	if t == 0 {
		return 0
	}
	want := uint64(math.Ceil(min(max(q, 0), 1) * float64(t)))
	var run uint64
	for i, c := range h.b {
		run += uint64(c)
		if run >= want && run > 0 {
			return BucketTop(i)
		}
	}
	return math.MaxUint64
}

// BucketTop is the largest value of bucket i.
func BucketTop(i int) uint64 {
	switch {
	case i <= 0:
		return 0
	case i >= HistBuckets-1:
		return math.MaxUint64
	}
	return 1<<i - 1
}
