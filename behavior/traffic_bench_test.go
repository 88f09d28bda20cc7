package behavior

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// trafficBaseline is the same-run baseline of BenchmarkTraffic.
var trafficBaseline = benchtraffic.Baseline{}

// BenchmarkTraffic runs every behavioural detector (All) on the traffic of
// `vigil bench proxy`; one op is one exchange through all of them, then
// each detector alone. Each method's baseline, timed first in the same run,
// is json.Valid of the response body (benchtraffic.GETBody or POSTBody);
// every other sub-benchmark reports its ns/op as a multiple of it
// (x-baseline), so the ratio holds across machines. Select the baseline too
// when filtering (-bench 'Traffic/GET/(baseline|all)'): without it no ratio
// is reported. Measured (2 shared CPUs, Nov 2026): all at about 1.6× the
// baseline for GET and 0.8× for POST; each detector alone at 0.6–0.9× for
// GET, 0.15–0.65× for POST (Baseline the dearest).
//
//	go test -run '^$' -bench Traffic -benchmem ./behavior/
func BenchmarkTraffic(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		b.Run(method+"/baseline", func(b *testing.B) { trafficBaseline.Run(b, method) })
		run := func(b *testing.B, as []vigil.Analyzer) {
			benchtraffic.Loop(b, method, as)
			trafficBaseline.Report(b, method)
		}
		b.Run(method+"/all", func(b *testing.B) { run(b, All(Config{})) })
		for i := range All(Config{}) {
			as := All(Config{})
			b.Run(method+"/"+fmt.Sprintf("%T", as[i])[len("*behavior."):], func(b *testing.B) {
				run(b, as[i:i+1])
			})
		}
	}
}
