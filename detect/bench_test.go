package detect

import (
	"context"
	"testing"

	"github.com/vigilsec/vigil"
)

// benchMix is the corpus: mostly benign API traffic with about a third of
// attacks, which is harsher than real traffic (attacks cost more: findings
// are built).
func benchMix(b *testing.B) []vigil.Exchange {
	xs, _ := loadCorpus(b)
	return xs
}

// BenchmarkDetectAll runs every builtin detector on each exchange; one op is
// one exchange through all detectors. "corpus" is the whole labelled corpus
// (a third attacks, many multipart uploads); "benign" its benign part, closer
// to production traffic.
func BenchmarkDetectAll(b *testing.B) {
	xs, want := loadCorpus(b)
	var benign []vigil.Exchange
	for _, x := range xs {
		if len(want[x.ID]) == 0 {
			benign = append(benign, x)
		}
	}
	b.Run("corpus", func(b *testing.B) { detectAll(b, xs, Builtin()) })
	b.Run("benign", func(b *testing.B) { detectAll(b, benign, Builtin()) })
	// The same without the learning detectors, for their share of the cost.
	var stateless []Factory
	for _, f := range Builtin() {
		if !statefulIDs[f.ID] {
			stateless = append(stateless, f)
		}
	}
	b.Run("benign-stateless", func(b *testing.B) { detectAll(b, benign, stateless) })
}

func detectAll(b *testing.B, xs []vigil.Exchange, fs []Factory) {
	as, err := New(fs)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		x := &xs[i%len(xs)]
		i++
		for _, a := range as {
			if _, err := a.Analyze(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkDetector measures each detector alone on the mix.
func BenchmarkDetector(b *testing.B) {
	xs := benchMix(b)
	ctx := context.Background()
	for _, f := range Builtin() {
		b.Run(f.ID, func(b *testing.B) {
			a := f.New()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := a.Analyze(ctx, &xs[i%len(xs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkLeaves measures the request walk alone.
func BenchmarkLeaves(b *testing.B) {
	xs := benchMix(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for l := range Leaves(&xs[i%len(xs)].Request) {
			_ = l
		}
		i++
	}
}
