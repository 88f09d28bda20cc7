package analyzebench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/sensor/ingest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGenerateDeterministic(t *testing.T) {
	gen := func(seed int64) []byte {
		var b bytes.Buffer
		if err := Generate(&b, 500, seed); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different traffic")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same traffic")
	}
}

// TestGenerateDecodes: every generated line is valid traffic of the intended
// shape, and resolves to a few hundred actors.
func TestGenerateDecodes(t *testing.T) {
	const n = 3000
	var b bytes.Buffer
	if err := Generate(&b, n, 1); err != nil {
		t.Fatal(err)
	}
	if avg := b.Len() / n; avg < 600 || avg > 800 {
		t.Errorf("average line %d bytes, want 600..800", avg)
	}
	src, err := ingest.NewSource(bytes.NewReader(b.Bytes()), ingest.Options{Name: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := identity.New(identity.Default())
	if err != nil {
		t.Fatal(err)
	}
	actors, jwt, withBody, got := map[string]bool{}, 0, 0, 0
	for {
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", got+1, err)
		}
		got++
		a := res.Resolve(x.Client.Addr, x.Request.Header)
		actors[a.Key()] = true
		if strings.HasPrefix(a.Principal, "jwt:") {
			jwt++
		}
		if x.Response == nil || len(x.Response.Body) == 0 || x.Request.URL.Host != "shop.test" {
			t.Fatalf("record %d: no response body or wrong host: %+v", got, x)
		}
		if len(x.Request.Body) > 0 {
			withBody++
		}
	}
	if got != n {
		t.Errorf("decoded %d records, want %d", got, n)
	}
	if len(actors) < 200 || len(actors) > 300 {
		t.Errorf("%d distinct actors, want 200..300", len(actors))
	}
	if jwt < n/2 || jwt > n*9/10 || withBody == 0 {
		t.Errorf("%d of %d with a JWT principal (want about 70%%), %d with a request body", jwt, n, withBody)
	}
}

func TestRun(t *testing.T) {
	const n = 2000
	rep, err := Run(t.Context(), Options{N: n, TempDir: t.TempDir(), Workers: 2, Analyzers: []vigil.Analyzer{everyTenth{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 3 {
		t.Fatalf("%d phases, want 3", len(rep.Phases))
	}
	for _, p := range rep.Phases {
		if p.Exchanges != n || p.Skipped != 0 || p.PerSecond <= 0 || p.Wall <= 0 {
			t.Errorf("phase %s: %d exchanges (%d skipped), %.0f/s, want %d", p.Name, p.Exchanges, p.Skipped, p.PerSecond, n)
		}
	}
	if got := rep.Phases[2].Findings; got != n/10 {
		t.Errorf("pipeline phase raised %d findings, want %d", got, n/10)
	}
	if rep.Ratio <= 0 || !rep.Generated || rep.Bytes == 0 {
		t.Errorf("report %+v", rep)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{PhaseRead, PhasePipeline, "pipeline/read throughput ratio", "exchanges/CPU-s"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"ratio_pipeline_to_read"`) {
		t.Errorf("JSON report (err %v):\n%s", err, js.String())
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Run(ctx, Options{N: 100, TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestRunMissingFile(t *testing.T) {
	_, err := Run(t.Context(), Options{File: t.TempDir() + "/nope.jsonl"})
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Run on a missing file = %v, want an EINVALID error", err)
	}
}

// everyTenth raises a finding for every tenth record.
type everyTenth struct{}

func (everyTenth) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	i := strings.LastIndexByte(x.ID, '#')
	if n, err := strconv.Atoi(x.ID[i+1:]); err == nil && n%10 == 0 {
		return []vigil.Finding{{Detector: "test.tenth"}}, nil
	}
	return nil, nil
}

// TestReport runs the full benchmark when VIGIL_BENCH_N is set:
//
//	VIGIL_BENCH_N=1000000 go test -run '^TestReport$' -v ./bench/analyzebench/
func TestReport(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_N"))
	if n <= 0 {
		t.Skip("set VIGIL_BENCH_N to run the full benchmark")
	}
	rep, err := Run(t.Context(), Options{N: n, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

// BenchmarkRun measures every phase on a generated file of 100,000
// exchanges and reports each as exchanges per CPU second (user + system of
// the whole process, as Run measures it):
//
//	go test -run XXX -bench Run -benchtime 3x ./bench/analyzebench/
func BenchmarkRun(b *testing.B) {
	const n = 100_000
	file := b.TempDir() + "/traffic.jsonl"
	if err := generateFile(file, n, DefaultSeed); err != nil {
		b.Fatal(err)
	}
	sums := map[string]float64{}
	runs := 0
	for b.Loop() {
		rep, err := Run(b.Context(), Options{File: file})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range rep.Phases {
			sums[p.Name] += p.PerCPUSec
		}
		runs++
	}
	for name, sum := range sums {
		b.ReportMetric(sum/float64(runs), name+"/CPU-s")
	}
}
