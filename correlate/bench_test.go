package correlate

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// benchFindings is a stream from 2 000 actors: a third anonymous bots that
// rotate over 50 fingerprints, the rest principals, with exposure findings
// (which wait) in between.
func benchFindings(n int) []vigil.Finding {
	dets := []string{"recon.wordlist", "detect.injection.sqli", "behavior.bola", "detect.exposure.sensitive", "behavior.credential-stuffing"}
	out := make([]vigil.Finding, n)
	for i := range out {
		actor := i % 2000
		a := vigil.Actor{Addr: fmt.Sprintf("10.%d.%d.%d", actor/65536, actor/256%256, actor%256), Fingerprint: fmt.Sprintf("fp%d", actor%50)}
		if actor%3 != 0 {
			a.Principal = fmt.Sprintf("jwt:%d", actor)
		}
		out[i] = vigil.Finding{ID: fmt.Sprintf("f%d", i), Detector: dets[i%len(dets)], Severity: vigil.SeverityHigh,
			Area: vigil.AreaChained, Time: t0.Add(time.Duration(i) * time.Millisecond), Actor: a,
			Endpoint: vigil.Endpoint{Host: "shop", Method: "GET", Template: "/api/v2/orders/{id}"}}
	}
	return out
}

// keyCount is the benchmark's baseline sink: it counts findings per actor
// key, the least a correlator does with a finding.
type keyCount map[string]int

func (k keyCount) WriteFindings(_ context.Context, fs []vigil.Finding) error {
	for i := range fs {
		k[fs[i].Actor.Key()]++
	}
	return nil
}

// nopStore takes incidents and keeps nothing, so that the benchmark times
// the correlator, not a store.
type nopStore struct{}

func (nopStore) PutIncident(context.Context, vigil.Incident) error { return nil }

// BenchmarkWriteFindings times the correlator on batches of 64 findings,
// saving to a store in memory, against the baseline in the same run, and
// reports the ratio.
func BenchmarkWriteFindings(b *testing.B) {
	fs := benchFindings(64 * 1024)
	ctx := context.Background()
	var base float64
	for _, tc := range []struct {
		name string
		sink func() vigil.Sink
	}{
		{"baseline-keycount", func() vigil.Sink { return keyCount{} }},
		{"correlator", func() vigil.Sink { return New(Config{}, nopStore{}, WithSinks(keyCount{})) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.sink()
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for i := 0; b.Loop(); i++ {
				j := (i * 64) % len(fs)
				if err := s.WriteFindings(ctx, fs[j:j+64]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			per := float64(time.Since(start).Nanoseconds()) / float64(n*64)
			b.ReportMetric(per, "ns/finding")
			if tc.name == "baseline-keycount" {
				base = per
			} else if base > 0 {
				b.ReportMetric(per/base, "x-baseline")
			}
		})
	}
}

// TestMemoryPerIncident fills incidents to every per-incident cap and checks
// the heap they take stays under the bound docs/incidents.md states.
func TestMemoryPerIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	const incidents = 100
	var fs []vigil.Finding
	for inc := range incidents {
		for i := range 400 { // past every cap: 64 actors, 256 keys, 64 entries, 128 ids
			fs = append(fs, vigil.Finding{
				ID: fmt.Sprintf("finding-%06d-%06d", inc, i), Detector: fmt.Sprintf("detect.injection.kind%02d", i%40),
				Severity: vigil.SeverityHigh, Area: vigil.AreaChained, Time: t0.Add(time.Duration(i) * time.Millisecond),
				Actor:    vigil.Actor{Addr: fmt.Sprintf("10.%d.%d.%d", inc, i/256, i%256), Fingerprint: fmt.Sprintf("fingerprint%06d", inc)},
				Endpoint: vigil.Endpoint{Host: "shop.example.test", Method: "GET", Template: fmt.Sprintf("/api/v2/some/longer/path/{id}/%d", i)},
			})
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := New(Config{}, nil)
	for i := 0; i < len(fs); i += 64 {
		if err := c.WriteFindings(context.Background(), fs[i:min(i+64, len(fs))]); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(fs)
	per := float64(after.HeapAlloc-before.HeapAlloc) / incidents
	t.Logf("%.1f KiB per full incident (%d open)", per/1024, c.Stats().Open)
	if c.Stats().Open != incidents {
		t.Fatalf("%d open incidents, want %d", c.Stats().Open, incidents)
	}
	if per > 40<<10 { // docs/incidents.md says about 29 KiB
		t.Errorf("%.1f KiB per incident, well over the 29 KiB docs/incidents.md states", per/1024)
	}
	runtime.KeepAlive(c)
}
