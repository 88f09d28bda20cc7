package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

// writer batches findings to the sinks and merged endpoint statistics to
// the recorder. It is owned by Run's writer goroutine.
type writer struct {
	p     *Pipeline
	batch []vigil.Finding
	sinks []sinkState

	caps      *inventory.Cap
	merged    map[vigil.Endpoint]*endpointAgg
	recFailed bool // the last UpsertEndpoints failed: merged holds one retry
}

// sinkState is one sink's retry slot: at most one failed batch is kept.
type sinkState struct {
	sink    vigil.Sink
	retry   []vigil.Finding
	failing bool
}

// write runs the writer until the output queue is closed (every worker has
// returned), then flushes everything. When ctx has ended the last flush gets
// finalFlushTimeout.
func (p *Pipeline) write(ctx context.Context) error {
	w := &writer{
		p:      p,
		caps:   inventory.NewCap(0, 0, 0),
		merged: make(map[vigil.Endpoint]*endpointAgg),
	}
	for _, s := range p.sinks {
		w.sinks = append(w.sinks, sinkState{sink: s})
	}
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	lastStats := time.Now()
	for {
		select {
		case o, ok := <-p.out:
			if !ok {
				fctx, cancel := flushContext(ctx)
				defer cancel()
				w.flushFindings(fctx, true)
				w.flushStats(fctx)
				return nil
			}
			if o.stats != nil {
				w.merge(o.stats)
			}
			if len(o.findings) > 0 {
				w.batch = append(w.batch, o.findings...)
				if len(w.batch) >= batchSize || urgent(o.findings) {
					w.flushFindings(ctx, false)
				}
			}
		case now := <-t.C:
			w.flushFindings(ctx, false)
			if now.Sub(lastStats) >= statsInterval {
				w.flushStats(ctx)
				lastStats = now
			}
		}
	}
}

// urgent reports whether findings should reach the sinks now rather than at
// the next tick: those the response policy may act on (medium and above), so
// that the responder's block stops the actor's next request, not the ones
// sent in the following quarter second. Under a flood of findings this still
// batches: what arrives while a flush runs goes out with the next one.
func urgent(fs []vigil.Finding) bool {
	for i := range fs {
		if fs[i].Severity >= vigil.SeverityMedium {
			return true
		}
	}
	return false
}

// flushContext is ctx while it lives, otherwise a short-lived detached one.
func flushContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
}

// flushFindings writes the batch to every sink. A sink's failed batch is
// retried once at the next flush, then dropped and counted; on the last
// flush there is no next one, so it is retried at once.
func (w *writer) flushFindings(ctx context.Context, last bool) {
	pending := false
	for i := range w.sinks {
		pending = pending || w.sinks[i].retry != nil
	}
	if len(w.batch) == 0 && !pending {
		return
	}
	batch := w.batch
	w.batch = nil // sinks may keep the slice they were given
	for i := range w.sinks {
		s := &w.sinks[i]
		if s.retry != nil {
			if err := w.callSink(ctx, s, s.retry); err != nil {
				w.p.c.droppedFindings.Add(int64(len(s.retry)))
			}
			s.retry = nil
		}
		if len(batch) == 0 {
			continue
		}
		if err := w.callSink(ctx, s, batch); err != nil {
			if !last {
				s.retry = batch
			} else if err := w.callSink(ctx, s, batch); err != nil {
				w.p.c.droppedFindings.Add(int64(len(batch)))
			}
		}
	}
}

// callSink calls one sink with a timeout, counting and logging its failure
// (logged when the sink starts failing and when it recovers, not each time).
func (w *writer) callSink(ctx context.Context, s *sinkState, fs []vigil.Finding) error {
	err := guard(ctx, func(ctx context.Context) error { return s.sink.WriteFindings(ctx, fs) })
	switch {
	case err != nil:
		w.p.c.sinkErrors.Add(1)
		if !s.failing {
			w.p.log.Warn("sink failed; its batch is retried once at the next flush", "sink", fmt.Sprintf("%T", s.sink), "findings", len(fs), "err", err)
		}
		s.failing = true
	case s.failing:
		w.p.log.Info("sink recovered", "sink", fmt.Sprintf("%T", s.sink))
		s.failing = false
	}
	return err
}

// guard runs f with sinkTimeout and turns a panic into an error.
func guard(ctx context.Context, f func(context.Context) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, sinkTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f(ctx)
}

// merge adds a worker's statistics, bounded by the writer's Cap: endpoints
// beyond it are folded into "{other}" (and counted), without samples.
func (w *writer) merge(delta map[vigil.Endpoint]*endpointAgg) {
	for ep, d := range delta {
		// A worker's own fold was counted by the worker.
		if ep != otherEndpoint {
			var folded bool
			if ep, folded = w.caps.Admit(ep); folded {
				w.p.c.folded.Add(d.stats.Count)
				d.samples = nil
			}
		}
		m, ok := w.merged[ep]
		if !ok {
			d.stats.Endpoint = ep
			w.merged[ep] = d
			continue
		}
		s := &m.stats
		s.Count += d.stats.Count
		widen(s, d.stats.FirstSeen, d.stats.LastSeen)
		for k, v := range d.stats.Statuses {
			s.Statuses[k] += v
		}
		for k, v := range d.stats.Auth {
			s.Auth[k] += v
		}
		if n := samplesPerFlush - len(m.samples); n > 0 && len(d.samples) > 0 {
			m.samples = append(m.samples, d.samples[:min(n, len(d.samples))]...)
		}
	}
}

// flushStats hands the merged statistics and samples to the recorder. When
// UpsertEndpoints fails the statistics are kept for one more attempt (they
// merge with what comes meanwhile, so nothing grows beyond the Cap); a second
// failure drops them. Samples are dropped on failure.
func (w *writer) flushStats(ctx context.Context) {
	if len(w.merged) == 0 {
		return
	}
	rec := w.p.rec
	if rec == nil {
		clear(w.merged)
		return
	}
	stats := make([]vigil.EndpointStats, 0, len(w.merged))
	var samples []vigil.Sample
	for _, m := range w.merged {
		stats = append(stats, m.stats)
		for _, x := range m.samples {
			samples = append(samples, vigil.Sample{Endpoint: m.stats.Endpoint, Exchange: x})
		}
		m.samples = nil
	}
	err := guard(ctx, func(ctx context.Context) error { return rec.UpsertEndpoints(ctx, stats) })
	if err != nil {
		w.p.c.sinkErrors.Add(1)
		if !w.recFailed {
			w.p.log.Warn("recorder failed to upsert endpoints; retrying once at the next flush", "endpoints", len(stats), "err", err)
			w.recFailed = true
			// Keep merged (without samples) for the retry.
		} else {
			w.p.log.Warn("recorder failed again; endpoint statistics dropped", "endpoints", len(stats), "err", err)
			w.recFailed = false
			w.merged = make(map[vigil.Endpoint]*endpointAgg)
		}
	} else {
		w.recFailed = false
		w.merged = make(map[vigil.Endpoint]*endpointAgg)
	}
	if len(samples) == 0 {
		return
	}
	if err := guard(ctx, func(ctx context.Context) error { return rec.AddSamples(ctx, samples) }); err != nil {
		w.p.c.sinkErrors.Add(1)
		w.p.log.Warn("recorder failed to add samples; dropped", "samples", len(samples), "err", err)
	}
}
