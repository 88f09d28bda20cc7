package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/internal/benchtraffic"
	"github.com/vigilsec/vigil/pipeline"
)

// analysisBaselineNs is the same-run baseline of BenchmarkProxyAnalysis, per
// scenario.
var analysisBaselineNs = map[string]float64{}

// BenchmarkProxyAnalysis measures what `vigil proxy` pays per exchange for
// the analysis behind its data path, with every detector on, on the traffic
// of `vigil bench proxy` (one client address, GET / answered by 200 B of
// JSON, POST / with 1 KB of JSON echoed): the engine is built as the proxy
// builds it (openEngine: the detectors of a.analyzers, the inventory, a
// store with its responder and correlator, the pipeline), and each
// iteration does the proxy's share after the response: resolve the actor,
// build the exchange, submit it. The pipeline's workers run concurrently,
// so the figure that counts is cpu-ns/op, the process's CPU time (user +
// system, GC and the store's writer included) per exchange, measured once
// the pipeline has drained. Each scenario's baseline, timed in the same run,
// is json.Valid of the response body; analysis reports its cpu-ns/op as a
// multiple of it (x-baseline). no-detectors is the same engine with
// pipeline.detect off, as `vigil proxy --detectors=false` builds it.
//
//	go test -run '^$' -bench ProxyAnalysis -benchmem ./cmd/vigil/
func BenchmarkProxyAnalysis(b *testing.B) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		tmpl := benchtraffic.Exchange(method)
		name := map[string]string{http.MethodGet: "get", http.MethodPost: "post"}[method]
		b.Run(name+"/baseline-json-valid", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(tmpl.Response.Body) {
					b.Fatal("invalid JSON")
				}
			}
			analysisBaselineNs[name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(name+"/analysis", func(b *testing.B) {
			benchAnalysis(b, &tmpl, analysisBaselineNs[name], true)
		})
		b.Run(name+"/no-detectors", func(b *testing.B) {
			benchAnalysis(b, &tmpl, analysisBaselineNs[name], false)
		})
	}
}

// benchAnalysis runs one scenario of BenchmarkProxyAnalysis; without
// detectors it is what `vigil proxy --detectors=false` pays: the resolver,
// the hand-over, the inventory, the endpoint statistics and the store.
func benchAnalysis(b *testing.B, tmpl *vigil.Exchange, baselineNs float64, detectors bool) {
	a := &app{streams: &streams{out: io.Discard, err: io.Discard}, cfg: config.Default(), logger: slog.New(slog.DiscardHandler)}
	a.cfg.Pipeline.Detect = detectors
	a.cfg.Store.Path = filepath.Join(b.TempDir(), "vigil.db")
	a.cfg.Proxy.Upstream = "http://127.0.0.1:9502"
	// Block mode, so that no exchange is shed, with as many queue slots
	// as the proxy's Shed-mode queue.
	a.cfg.Pipeline.QueueSize = pipeline.DefaultQueueSize * pipeline.BatchLen
	ctx := context.Background()
	eng, err := a.openEngine(ctx, engineOpts{mode: pipeline.Block, store: true})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	done := make(chan error, 1)
	go func() { done <- eng.pipe.Run(ctx) }()

	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "r" + strconv.Itoa(i)
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	submit := func(i int) {
		x := new(vigil.Exchange)
		*x = *tmpl
		u := *tmpl.Request.URL
		x.Request.URL = &u
		resp := *tmpl.Response
		x.Response = &resp
		x.ID = ids[i%len(ids)]
		x.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond)
		x.Actor = eng.resolver.Resolve(x.Client.Addr, x.Request.Header)
		if err := eng.pipe.SubmitWait(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
	const warm = 2000 // the actor, the endpoints, the learners
	for i := range warm {
		submit(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	i := 0
	for ; b.Loop(); i++ {
		submit(warm + i)
	}
	eng.pipe.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	cpu := float64(processCPU()-cpu0) / float64(max(i, 1))
	b.StopTimer()
	st := eng.pipe.Stats()
	b.ReportMetric(cpu, "cpu-ns/op")
	b.ReportMetric(float64(st.Findings)/float64(st.Analyzed), "findings/op")
	if baselineNs > 0 {
		b.ReportMetric(cpu/baselineNs, "x-baseline")
	}
}

// processCPU is the process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
