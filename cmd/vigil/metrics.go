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
	counter("proxy_client_cancels_total", "Requests whose client went away before the response ended.", func() uint64 { return ps().ClientCancels })
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
