package behavior

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkTraffic runs every behavioural detector (All) on the traffic of
// `vigil bench proxy`; one op is one exchange through all of them, then
// each detector alone.
//
//	go test -run '^$' -bench Traffic -benchmem ./behavior/
func BenchmarkTraffic(b *testing.B) {
	ctx := context.Background()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		tmpl := benchtraffic.Exchange(method)
		run := func(b *testing.B, as []vigil.Analyzer) {
			t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				x := tmpl
				u := *tmpl.Request.URL
				x.Request.URL = &u
				resp := *tmpl.Response
				x.Response = &resp
				x.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond)
				x.SetPathTemplate("/", "/")
				i++
				for _, a := range as {
					if _, err := a.Analyze(ctx, &x); err != nil {
						b.Fatal(err)
					}
				}
			}
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
