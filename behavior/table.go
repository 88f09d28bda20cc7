package behavior

import (
	"sync/atomic"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
)

// counters are a detector's statistics.
type counters struct {
	actortable.Counts
	suppressed atomic.Int64
	findings   [2]atomic.Int64 // by the detector's own kind index
}

func (c *counters) stats(ids ...string) Stats {
	s := Stats{
		Actors:     c.Actors.Load(),
		Evictions:  c.Evictions.Load(),
		Expired:    c.Expired.Load(),
		Suppressed: c.suppressed.Load(),
		Findings:   make(map[string]int64, len(ids)),
	}
	for i, id := range ids {
		s.Findings[id] = c.findings[i].Load()
	}
	return s
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
	return hasFired && now < actortable.SatAdd(fired, window)
}

// fire applies quiet to a kind last fired at *fired (when *hasFired): while
// the kind is quiet it counts a suppressed finding and reports false; else
// it marks the kind fired at now, counts a finding of kind k and reports
// true.
func (c *counters) fire(hasFired *bool, fired *int64, now, window int64, k int) bool {
	if quiet(*hasFired, *fired, now, window) {
		c.suppressed.Add(1)
		return false
	}
	*fired, *hasFired = now, true
	c.findings[k].Add(1)
	return true
}
