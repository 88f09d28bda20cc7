package detect

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// trafficBaseline is the same-run baseline of BenchmarkTraffic and
// BenchmarkTrafficParts.
var trafficBaseline = benchtraffic.Baseline{}

// BenchmarkTraffic runs every builtin detector, as New merges them, on the
// traffic of `vigil bench proxy`; one op is one exchange through all of
// them, then each detector alone. Each method's baseline, timed first in the
// same run, is json.Valid of the response body; every other sub-benchmark
// reports its ns/op as a multiple of it (x-baseline), so the ratio holds
// across machines. Select the baseline too when filtering (-bench
// 'Traffic/GET/(baseline|all)'): without it no ratio is reported. Measured
// (2 shared CPUs, Nov 2026): all at about 1.7–3× the baseline for GET and
// 0.7–1× for POST; the injection and SSRF detectors are the dearest alone
// (about 0.5–0.85× for POST).
//
//	go test -run '^$' -bench Traffic -benchmem ./detect/
func BenchmarkTraffic(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		b.Run(method+"/baseline", func(b *testing.B) { trafficBaseline.Run(b, method) })
		run := func(b *testing.B, as []vigil.Analyzer) {
			benchtraffic.Loop(b, method, as)
			trafficBaseline.Report(b, method)
		}
		b.Run(method+"/all", func(b *testing.B) {
			as, err := New(Builtin())
			if err != nil {
				b.Fatal(err)
			}
			run(b, as)
		})
		for _, f := range Builtin() {
			b.Run(method+"/"+f.ID, func(b *testing.B) {
				as, err := New([]Factory{f})
				if err != nil {
					b.Fatal(err)
				}
				run(b, as)
			})
		}
	}
}

// BenchmarkAnchors compares the ways of anchorsAt on other bodies: English
// text (an HTML error page), indented JSON with text values, a Go stack
// trace.
func BenchmarkAnchors(b *testing.B) {
	bodies := map[string][]byte{
		"text":  bytes.Repeat([]byte("<p>The server could not complete your request, please try again later. Details: none.</p>\n"), 180),
		"json":  bytes.Repeat([]byte(`  {\n    "id": 1042,\n    "title": "A walk in the park, with friends",\n    "price": 12.50,\n    "created_at": "2026-01-01T12:00:00Z"\n  },\n`), 100),
		"trace": []byte("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\nexit status 2\n"),
	}
	for name, body := range bodies {
		for _, f := range []struct {
			name string
			find func([]byte, *[len(leakAnchors)]int)
		}{{"pass", anchorsByPass}, {"key", func(b []byte, first *[len(leakAnchors)]int) { anchorsByKey(b, first, 1<<30) }}, {"at", anchorsAt}} {
			b.Run(name+"/"+f.name, func(b *testing.B) {
				var first [len(leakAnchors)]int
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					f.find(body, &first)
				}
			})
		}
	}
}

// BenchmarkTrafficParts measures the byte-proportional passes of the
// detectors on the bodies of `vigil bench proxy`, each against the same
// baseline as BenchmarkTraffic (x-baseline).
func BenchmarkTrafficParts(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		x := benchtraffic.Exchange(method)
		body := x.Response.Body
		b.Run(method+"/baseline", func(b *testing.B) { trafficBaseline.Run(b, method) })
		b.Run(method+"/verboseBody", func(b *testing.B) {
			for b.Loop() {
				verboseBody(body)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/anchorsByPass", func(b *testing.B) {
			var first [len(leakAnchors)]int
			for b.Loop() {
				anchorsByPass(body, &first)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/anchorsAt", func(b *testing.B) {
			var first [len(leakAnchors)]int
			for b.Loop() {
				anchorsAt(body, &first)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/maySensitive", func(b *testing.B) {
			for b.Loop() {
				maySensitive(body)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/cardOrSecretByPass", func(b *testing.B) {
			for b.Loop() {
				mayBeCardOrSecretByPass(body)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/cardOrSecretBySearch", func(b *testing.B) {
			for b.Loop() {
				mayBeCardOrSecretBySearch(body)
			}
			trafficBaseline.Report(b, method)
		})
		b.Run(method+"/prefiltersOf", func(b *testing.B) {
			s := string(body)
			for b.Loop() {
				prefiltersOf(s)
			}
			trafficBaseline.Report(b, method)
		})
	}
}
