package inventory

import (
	"net/http"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkObserveProxyTraffic: Observe of `vigil bench proxy`'s exchanges
// (one endpoint, GET with a 200-byte JSON answer, POST with 1 KB of JSON
// echoed), the inventory's share of BenchmarkProxyAnalysis, sampled schema
// inference included.
func BenchmarkObserveProxyTraffic(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		b.Run(method, func(b *testing.B) {
			inv := New(Config{})
			x := benchtraffic.Exchange(method)
			t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			for i := range 64 { // past the first bodies, sampled from then on
				x.Time = t0.Add(time.Duration(i) * time.Millisecond)
				inv.Observe(&x)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond)
				inv.Observe(&x)
				i++
			}
		})
	}
}
