package inventory

import (
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkObserveProxyTraffic: Observe of `vigil bench proxy`'s exchanges
// (one endpoint, GET with a 200-byte JSON answer, POST with 1 KB of JSON
// echoed), the inventory's share of BenchmarkProxyAnalysis, sampled schema
// inference included; against the same-run baseline of json.Valid on the
// answer (benchtraffic.Suite, x-baseline).
func BenchmarkObserveProxyTraffic(b *testing.B) {
	benchtraffic.Suite(b, []benchtraffic.Case{{Name: "observe", Op: func(x *vigil.Exchange) func() {
		inv := New(Config{})
		t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		for i := range 64 { // past the first bodies, sampled from then on
			x.Time = t0.Add(time.Duration(i) * time.Millisecond)
			inv.Observe(x)
		}
		i := 0
		return func() {
			x.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond)
			inv.Observe(x)
			i++
		}
	}}})
}
