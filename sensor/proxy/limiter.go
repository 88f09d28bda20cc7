package proxy

import (
	"math"
	"sync"
	"time"
)

// DefaultMaxBuckets caps the rate limiter's token buckets. Buckets are keyed
// by the rate-limit action's key, so there are at most as many as rate-limit
// actions in the table; the cap guards against a huge table.
const DefaultMaxBuckets = 10000

// limiter is a set of token buckets, one per rate-limited key, bounded by
// max. When it is full, buckets that have refilled completely (and so hold
// no information) are swept; if none has, an arbitrary bucket is evicted and
// counted.
type limiter struct {
	max int

	mu      sync.Mutex
	buckets map[string]*bucket
	evicted uint64
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64
}

func newLimiter(max int) *limiter {
	return &limiter{max: max, buckets: make(map[string]*bucket)}
}

// burst is the bucket size for a rate: one second's worth, at least one.
func burst(rate float64) float64 { return math.Max(1, rate) }

// allow takes a token from key's bucket, refilled at rate per second. When
// none is left it returns false and how long until one is.
func (l *limiter) allow(key string, rate float64, now time.Time) (bool, time.Duration) {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		if math.IsInf(rate, 1) {
			return true, 0
		}
		return false, time.Second
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.makeRoom(now)
		}
		b = &bucket{tokens: burst(rate), last: now}
		l.buckets[key] = b
	}
	b.rate = rate // a republished action may change it
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(burst(rate), b.tokens+el.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, wait
}

// makeRoom frees at least one slot. l.mu is held.
func (l *limiter) makeRoom(now time.Time) {
	for k, b := range l.buckets {
		// A bucket idle long enough to be full again is the same as a new
		// one.
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= burst(b.rate) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max {
			break
		}
		delete(l.buckets, k)
		l.evicted++
	}
}

func (l *limiter) evictions() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evicted
}
