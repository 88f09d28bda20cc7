package behavior

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkTraffic runs every behavioural detector (All) on the traffic of
// `vigil bench proxy`; one op is one exchange through all of them, then
// each detector alone.
//
//	go test -run '^$' -bench Traffic -benchmem ./behavior/
func BenchmarkTraffic(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		run := func(b *testing.B, as []vigil.Analyzer) { benchtraffic.Loop(b, method, as) }
		b.Run(method+"/all", func(b *testing.B) { run(b, All(Config{})) })
		for i := range All(Config{}) {
			as := All(Config{})
			b.Run(method+"/"+fmt.Sprintf("%T", as[i])[len("*behavior."):], func(b *testing.B) {
				run(b, as[i:i+1])
			})
		}
	}
}
