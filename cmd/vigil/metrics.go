package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigilsec/vigil/internal/graceful"
	"github.com/vigilsec/vigil/sensor/proxy"
)

// metricsRegistry exposes the proxy's and the pipeline's counters. They are
// read from the components' own atomic counters at scrape time, so the hot
// path pays nothing for them.
func metricsRegistry(eng *engine, p *proxy.Proxy) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, f func() uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "vigil", Name: name, Help: help},
			func() float64 { return float64(f()) }))
	}
	ps := func() proxy.Stats { return p.Stats() }
	counter("proxy_requests_total", "Requests received by the proxy.", func() uint64 { return ps().Requests })
	counter("proxy_shed_total", "Exchanges not analyzed because analysis was behind.", func() uint64 { return ps().Shed })
	counter("proxy_upstream_errors_total", "Requests answered 502: the upstream failed.", func() uint64 { return ps().UpstreamErrors })
	counter("proxy_upstream_timeouts_total", "Requests answered 504: the upstream was too slow.", func() uint64 { return ps().UpstreamTimeouts })
	counter("proxy_blocked_total", "Requests refused by a block action.", func() uint64 { return ps().Blocked })
	counter("proxy_rate_limited_total", "Requests refused by a rate-limit action.", func() uint64 { return ps().RateLimited })
	counter("proxy_tarpitted_total", "Requests delayed by a tarpit action.", func() uint64 { return ps().Tarpitted })
	counter("proxy_tarpit_rejected_total", "Tarpitted requests answered 429 at once because the tarpits were full.", func() uint64 { return ps().TarpitRejected })
	counter("proxy_decoys_total", "Requests answered with a decoy instead of being forwarded.", func() uint64 { return ps().Decoys })
	counter("proxy_client_cancels_total", "Requests whose client went away before the response ended.", func() uint64 { return ps().ClientCancels })
	counter("proxy_inline_checks_total", "Requests checked in line before forwarding.", func() uint64 { return ps().InlineChecks })
	counter("proxy_inline_blocked_total", "Requests refused in line: a finding the policy blocks on.", func() uint64 { return ps().InlineBlocked })
	counter("proxy_inline_overruns_total", "Inline checks that overran their deadline (the request went on, or 503 on a fail-closed route).", func() uint64 { return ps().InlineOverruns })
	counter("proxy_inline_failed_closed_total", "Requests answered 503 on a fail-closed route: the inline check overran or failed.", func() uint64 { return ps().InlineFailedClosed })
	counter("proxy_inline_errors_total", "Inline checks whose analyzer failed or panicked.", func() uint64 { return ps().InlineErrors })
	counter("reloads_total", "Reloads of the response policy or the specs (SIGHUP or a changed file).", func() uint64 { return eng.reload.reloads.Load() })
	counter("reload_failures_total", "Reloads refused because the new file did not load; the old one stayed in force.", func() uint64 { return eng.reload.failures.Load() })
	st := eng.pipe.Stats
	counter("pipeline_analyzed_total", "Exchanges analyzed.", func() uint64 { return uint64(st().Analyzed) })
	counter("pipeline_findings_total", "Findings raised.", func() uint64 { return uint64(st().Findings) })
	counter("pipeline_analyzer_errors_total", "Analyzer errors.", func() uint64 { return uint64(st().AnalyzerErrors) })
	counter("pipeline_panics_total", "Analyzer panics recovered.", func() uint64 { return uint64(st().Panics) })
	counter("pipeline_sink_errors_total", "Failed writes to sinks.", func() uint64 { return uint64(st().SinkErrors) })
	return reg
}

// serveMetrics serves /metrics and /healthz on addr until ctx ends.
func serveMetrics(ctx context.Context, addr string, eng *engine, p *proxy.Proxy, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(metricsRegistry(eng, p), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	graceful.CloseUnused(srv)
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics")
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
