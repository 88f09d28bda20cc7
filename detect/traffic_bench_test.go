package detect

import (
	"bytes"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/benchtraffic"
)

// BenchmarkTraffic runs every builtin detector, as New merges them, on the
// traffic of `vigil bench proxy`; one op is one exchange through all of
// them, then each detector alone, each as a multiple of json.Valid of the
// response body timed first in the same run (benchtraffic.Suite,
// x-baseline), so the ratio holds across machines. Select the baseline too
// when filtering (-bench 'Traffic/GET/(baseline|all)'). Measured (2 shared
// CPUs, Nov 2026): all at about 1.7–3× the baseline for GET and 0.7–1× for
// POST; the injection and SSRF detectors are the dearest alone (about
// 0.5–0.85× for POST).
//
//	go test -run '^$' -bench Traffic -benchmem ./detect/
func BenchmarkTraffic(b *testing.B) {
	analyzers := func(fs []Factory) func(b *testing.B) []vigil.Analyzer {
		return func(b *testing.B) []vigil.Analyzer {
			as, err := New(fs)
			if err != nil {
				b.Fatal(err)
			}
			return as
		}
	}
	cases := []benchtraffic.Case{{Name: "all", Analyzers: analyzers(Builtin())}}
	for _, f := range Builtin() {
		cases = append(cases, benchtraffic.Case{Name: f.ID, Analyzers: analyzers([]Factory{f})})
	}
	benchtraffic.Suite(b, cases)
}

// BenchmarkAnchors compares the ways of anchorsAt on other bodies: English
// text (an HTML error page), indented JSON with text values, a Go stack
// trace. The baseline of each body, timed first in the same run, is one
// bytes.Index of a single anchor ("Traceback"); each way reports its ns/op
// as a multiple of it (x-index).
func BenchmarkAnchors(b *testing.B) {
	bodies := map[string][]byte{
		"text":  bytes.Repeat([]byte("<p>The server could not complete your request, please try again later. Details: none.</p>\n"), 180),
		"json":  bytes.Repeat([]byte(`  {\n    "id": 1042,\n    "title": "A walk in the park, with friends",\n    "price": 12.50,\n    "created_at": "2026-01-01T12:00:00Z"\n  },\n`), 100),
		"trace": []byte("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\nexit status 2\n"),
	}
	anchor := []byte("Traceback")
	for name, body := range bodies {
		var baseNs float64
		b.Run(name+"/baseline-index", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				bytes.Index(body, anchor)
			}
			baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
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
				if baseNs > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseNs, "x-index")
				}
			})
		}
	}
}

// BenchmarkTrafficParts measures the byte-proportional passes of the
// detectors on the response bodies of `vigil bench proxy`, each against the
// same baseline as BenchmarkTraffic (x-baseline).
func BenchmarkTrafficParts(b *testing.B) {
	var first [len(leakAnchors)]int
	onBody := func(name string, f func(body []byte)) benchtraffic.Case {
		return benchtraffic.Case{Name: name, Op: func(x *vigil.Exchange) func() {
			body := x.Response.Body
			return func() { f(body) }
		}}
	}
	benchtraffic.Suite(b, []benchtraffic.Case{
		onBody("verboseBody", func(body []byte) { verboseBody(body) }),
		onBody("anchorsByPass", func(body []byte) { anchorsByPass(body, &first) }),
		onBody("anchorsAt", func(body []byte) { anchorsAt(body, &first) }),
		onBody("maySensitive", func(body []byte) { maySensitive(body) }),
		onBody("cardOrSecretByPass", func(body []byte) { mayBeCardOrSecretByPass(body) }),
		onBody("cardOrSecretBySearch", func(body []byte) { mayBeCardOrSecretBySearch(body) }),
		{Name: "prefiltersOf", Op: func(x *vigil.Exchange) func() {
			s := string(x.Response.Body)
			return func() { prefiltersOf(s) }
		}},
	})
}
