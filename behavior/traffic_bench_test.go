package behavior

import (
	"fmt"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkTraffic runs every behavioural detector (All) on the traffic of
// `vigil bench proxy`; one op is one exchange through all of them, then
// each detector alone, each as a multiple of json.Valid of the response
// body timed first in the same run (benchtraffic.Suite, x-baseline), so the
// ratio holds across machines. Select the baseline too when filtering
// (-bench 'Traffic/GET/(baseline|all)'). Measured (2 shared CPUs, Nov 2026):
// all at about 1.6× the baseline for GET and 0.8× for POST; each detector
// alone at 0.6–0.9× for GET, 0.15–0.65× for POST (Baseline the dearest).
//
//	go test -run '^$' -bench Traffic -benchmem ./behavior/
func BenchmarkTraffic(b *testing.B) {
	cases := []benchtraffic.Case{{Name: "all", Analyzers: func(*testing.B) []vigil.Analyzer { return All(Config{}) }}}
	for i, a := range All(Config{}) {
		cases = append(cases, benchtraffic.Case{
			Name:      fmt.Sprintf("%T", a)[len("*behavior."):],
			Analyzers: func(*testing.B) []vigil.Analyzer { return All(Config{})[i : i+1] },
		})
	}
	benchtraffic.Suite(b, cases)
}
