package sqlite

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil"
)

func mustParse(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// BenchmarkWriteFindings writes batches of 100 findings (redaction
// included) and reports findings per second.
func BenchmarkWriteFindings(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]vigil.Finding, 100)
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = testFinding(n)
			n++
		}
		if err := s.WriteFindings(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "findings/s")
}

// BenchmarkFindingsByActor reads the newest 100 findings of one actor key
// out of 20,000.
func BenchmarkFindingsByActor(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for k := range 20 {
		batch := make([]vigil.Finding, 1000)
		for i := range batch {
			batch[i] = testFinding(k*1000 + i)
		}
		if err := s.WriteFindings(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		fs, err := s.Findings(b.Context(), vigil.FindingFilter{ActorKey: "principal:jwt:3"})
		if err != nil || len(fs) != 100 {
			b.Fatalf("%d findings, %v", len(fs), err)
		}
	}
}

// BenchmarkAddSamples adds samples of 1 KB exchanges in batches of 50 over
// 10 endpoints with the default cap.
func BenchmarkAddSamples(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	batch := make([]vigil.Sample, 50)
	for i := range batch {
		batch[i] = vigil.Sample{
			Endpoint: vigil.Endpoint{Host: "h", Method: "POST", Template: "/e" + string(rune('a'+i%10))},
			Exchange: &vigil.Exchange{ID: "x", Request: vigil.Request{Method: "POST", URL: mustParse(b, "http://h/e"), Body: body, BodySize: 1024}},
		}
	}
	n := 0
	for b.Loop() {
		if err := s.AddSamples(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}
