// Package analyzebench measures offline analysis (`vigil bench analyze`):
// how many exchanges per second go from a JSON-lines file through the
// decoder (package sensor/ingest), actor resolution (package identity) and
// the pipeline in Block mode, against a baseline measured in the same run:
// decoding alone. Phases run one after the other on the same file, which
// the first phase brings into the page cache.
//
// Per-core figures divide by CPU time, not by a core count: user + system
// CPU seconds of the whole process over the phase (getrusage), so
// exchanges per CPU second is what one fully busy core would deliver, however
// many workers ran. GC and the runtime are included, as in production.
package analyzebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/sensor/ingest"
)

// Defaults of Options.
const (
	DefaultN    = 1_000_000
	DefaultSeed = 1
	// Target is the goal for the pipeline phase, in exchanges per CPU
	// second, without detectors: Vigil's own cost.
	Target = 200_000
	// TargetDetect is the goal with analyzers in the pipeline (all the
	// built-in detectors).
	TargetDetect = 50_000
)

// Phase names, in the order they run.
const (
	PhaseRead     = "read"                  // decode only: the baseline
	PhaseResolve  = "read+resolve"          // decode and identity.Resolve
	PhasePipeline = "read+resolve+pipeline" // decode, resolve and the pipeline (Block mode)
)

// Options configure a run. Zero values take the defaults.
type Options struct {
	N    int   // exchanges to generate; default DefaultN
	Seed int64 // generator seed; default DefaultSeed
	// File is an existing traffic file (HAR or JSON lines) to read instead of
	// generating one; N and Seed are then ignored.
	File string
	// TempDir holds the generated file (removed at the end); default os.TempDir().
	TempDir string
	// Workers are the pipeline's workers; default GOMAXPROCS.
	Workers int
	// Analyzers run in the pipeline; none measures the pipeline's own cost.
	Analyzers []vigil.Analyzer
	Logger    *slog.Logger
}

// Phase is one measured pass over the file.
type Phase struct {
	Name      string        `json:"name"`
	Exchanges int64         `json:"exchanges"`
	Skipped   int64         `json:"skipped"` // malformed records
	Wall      time.Duration `json:"wall_ns"`
	CPU       time.Duration `json:"cpu_ns"` // user + system, whole process
	PerSecond float64       `json:"exchanges_per_second"`
	PerCPUSec float64       `json:"exchanges_per_cpu_second"` // per core
	PeakHeap  uint64        `json:"peak_heap_bytes"`          // live heap objects, sampled every 10 ms
	Findings  int64         `json:"findings,omitempty"`
	Shed      int64         `json:"shed,omitempty"`
}

// Report is the result of Run.
type Report struct {
	File       string  `json:"file"`
	Generated  bool    `json:"generated"`
	Bytes      int64   `json:"bytes"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"num_cpu"`
	Workers    int     `json:"workers"`
	Analyzers  int     `json:"analyzers"`
	Phases     []Phase `json:"phases"`
	// Ratio is the pipeline phase's exchanges/s over the read phase's.
	Ratio float64 `json:"ratio_pipeline_to_read"`
	// Target is the goal in exchanges per CPU second for the pipeline phase.
	Target float64 `json:"target_per_cpu_second"`
}

// Run generates the traffic (unless Options.File is set) and measures the
// phases. It stops early with ctx's error when ctx ends.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.N <= 0 {
		o.N = DefaultN
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rep := &Report{
		File: o.File, GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Workers: o.Workers, Analyzers: len(o.Analyzers), Target: target(len(o.Analyzers)),
	}
	if rep.File == "" {
		dir, err := os.MkdirTemp(o.TempDir, "vigil-bench-analyze-")
		if err != nil {
			return nil, fmt.Errorf("bench analyze: %w", err)
		}
		defer os.RemoveAll(dir)
		rep.File, rep.Generated = filepath.Join(dir, "traffic.jsonl"), true
		o.Logger.Info("generating traffic", "exchanges", o.N, "file", rep.File)
		if err := generateFile(rep.File, o.N, o.Seed); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(rep.File)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "bench analyze: %v", err)
	}
	rep.Bytes = fi.Size()

	res, err := identity.New(identity.Default())
	if err != nil {
		return nil, fmt.Errorf("bench analyze: identity: %w", err)
	}
	for _, name := range []string{PhaseRead, PhaseResolve, PhasePipeline} {
		o.Logger.Info("measuring", "phase", name)
		ph, err := measure(ctx, name, rep.File, res, o)
		if err != nil {
			return nil, err
		}
		rep.Phases = append(rep.Phases, ph)
	}
	if read := rep.Phases[0].PerSecond; read > 0 {
		rep.Ratio = rep.Phases[len(rep.Phases)-1].PerSecond / read
	}
	return rep, nil
}

func generateFile(path string, n int, seed int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench analyze: %w", err)
	}
	if err := Generate(f, n, seed); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench analyze: %w", err)
	}
	return nil
}

// measure runs one phase over the file.
func measure(ctx context.Context, name, file string, res *identity.Resolver, o Options) (Phase, error) {
	ph := Phase{Name: name}
	src, err := ingest.Open(file, ingest.Options{})
	if err != nil {
		return ph, fmt.Errorf("bench analyze: %w", err)
	}
	defer src.Close()

	var (
		p *pipeline.Pipeline
		b *pipeline.Batcher
	)
	runDone := make(chan error, 1)
	if name == PhasePipeline {
		p = pipeline.New(pipeline.Config{Workers: o.Workers, Mode: pipeline.Block}, o.Analyzers, nil, nil, o.Logger)
		go func() { runDone <- p.Run(context.WithoutCancel(ctx)) }()
		b = p.NewBatcher(0)
	}
	runtime.GC()
	peak := startHeapSampler()
	cpu0 := cpuTime()
	start := time.Now()

	loopErr := readAll(ctx, src, &ph, func(x *vigil.Exchange) error {
		switch name {
		case PhaseRead:
			return nil
		case PhaseResolve:
			x.Actor = res.Resolve(x.Client.Addr, x.Request.Header)
			return nil
		}
		x.Actor = res.Resolve(x.Client.Addr, x.Request.Header)
		return b.Add(ctx, x)
	})
	if p != nil {
		if err := b.Close(ctx); err != nil && loopErr == nil {
			loopErr = err
		}
		p.Close()
		if err := <-runDone; err != nil && loopErr == nil {
			loopErr = err
		}
		st := p.Stats()
		ph.Findings, ph.Shed = st.Findings, st.Shed
		if st.Analyzed != ph.Exchanges && loopErr == nil {
			loopErr = fmt.Errorf("pipeline analyzed %d of %d exchanges", st.Analyzed, ph.Exchanges)
		}
	}
	ph.Wall = time.Since(start)
	ph.CPU = cpuTime() - cpu0
	ph.PeakHeap = peak()
	if loopErr != nil {
		return ph, fmt.Errorf("bench analyze: %s: %w", name, loopErr)
	}
	if s := ph.Wall.Seconds(); s > 0 {
		ph.PerSecond = float64(ph.Exchanges) / s
	}
	if s := ph.CPU.Seconds(); s > 0 {
		ph.PerCPUSec = float64(ph.Exchanges) / s
	}
	return ph, nil
}

// readAll feeds every exchange of src to f, counting and skipping malformed
// records.
func readAll(ctx context.Context, src *ingest.Source, ph *Phase, f func(*vigil.Exchange) error) error {
	for {
		if ph.Exchanges%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if _, ok := errors.AsType[*ingest.RecordError](err); ok {
			ph.Skipped++
			continue
		}
		if err != nil {
			return err
		}
		if err := f(x); err != nil {
			return err
		}
		ph.Exchanges++
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startHeapSampler samples the live heap every 10 ms until the returned
// function is called, which stops the sampler and returns the peak.
func startHeapSampler() (stop func() uint64) {
	const metric = "/memory/classes/heap/objects:bytes"
	sample := []metrics.Sample{{Name: metric}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	quit, done := make(chan struct{}), make(chan uint64)
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		peak := read()
		for {
			select {
			case <-t.C:
				peak = max(peak, read())
			case <-quit:
				done <- max(peak, read())
				return
			}
		}
	}()
	return func() uint64 {
		close(quit)
		return <-done
	}
}

// WriteText prints the report as a table with the ratio and the target.
func (r *Report) WriteText(w io.Writer) error {
	src := r.File
	if r.Generated {
		src = "generated JSON lines"
	}
	fmt.Fprintf(w, "vigil bench analyze: %s, %.1f MB, GOMAXPROCS %d (%d CPUs), %d pipeline workers, %d analyzers\n\n",
		src, float64(r.Bytes)/1e6, r.GOMAXPROCS, r.NumCPU, r.Workers, r.Analyzers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\texchanges\tskipped\twall s\tCPU s\texchanges/s\texchanges/CPU-s\tpeak heap MB\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%.1f\t\n", p.Name, p.Exchanges, p.Skipped,
			p.Wall.Seconds(), p.CPU.Seconds(), p.PerSecond, p.PerCPUSec, float64(p.PeakHeap)/1e6)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	last := r.Phases[len(r.Phases)-1]
	verdict := "meets"
	if last.PerCPUSec < r.Target {
		verdict = "misses"
	}
	_, err := fmt.Fprintf(w, "\npipeline/read throughput ratio: %.2f\nper core (exchanges per CPU second, user+sys): %.0f, %s the target of %.0f\n",
		r.Ratio, last.PerCPUSec, verdict, r.Target)
	return err
}

// WriteJSON prints the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// target is the goal of a run with n analyzers.
func target(n int) float64 {
	if n > 0 {
		return TargetDetect
	}
	return Target
}
