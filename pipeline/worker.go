package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

// output is one item of the output queue: the findings of one exchange, or
// a worker's endpoint statistics since its last hand-over.
type output struct {
	findings []vigil.Finding
	stats    map[vigil.Endpoint]*endpointAgg
}

// endpointAgg is what a worker (and the writer, merged) learned about one
// endpoint over one stats interval.
type endpointAgg struct {
	stats   vigil.EndpointStats
	samples []*vigil.Exchange
}

// otherEndpoint collects what a worker's full stats map cannot take.
var otherEndpoint = vigil.Endpoint{Host: inventory.Other, Method: inventory.Other, Template: inventory.Other}

// item is one slot of a worker's queue: a single exchange (Submit,
// SubmitWait) or a batch (Batcher).
type item struct {
	one  *vigil.Exchange
	many []*vigil.Exchange
}

func (it item) len() int {
	if it.one != nil {
		return 1
	}
	return len(it.many)
}

// worker analyzes the exchanges of its shard of actors, in order.
type worker struct {
	// Set by New, then only read.
	p  *Pipeline
	in chan item
	// inv is the pipeline's Inventory when it is an authObserver.
	inv authObserver

	// Written by the submitters on every exchange: on lines of their own.
	_ [cacheLine]byte
	// mu guards closed and the closing of in against senders: senders hold
	// it for reading, Close for writing.
	mu     sync.RWMutex
	closed bool
	queued atomic.Int64 // exchanges in in, for Stats.QueueDepth
	_      [cacheLine]byte

	// Owned by the worker goroutine.
	stats map[vigil.Endpoint]*endpointAgg
	// lastEp and lastAgg are the endpoint record saw last and its entry in
	// stats: successive exchanges often share their endpoint.
	lastEp  vigil.Endpoint
	lastAgg *endpointAgg
}

// run analyzes until the input is closed and drained (nil) or ctx ends
// (ctx's error). Endpoint statistics are handed to the writer every
// statsInterval and before returning.
func (w *worker) run(ctx context.Context) error {
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	w.stats = make(map[vigil.Endpoint]*endpointAgg)
	for {
		if ctx.Err() != nil { // checked first: select picks ready cases at random
			w.handOver(ctx)
			return ctx.Err()
		}
		// While the queue holds work, take it without the full select
		// (which locks and watches all three channels); a bounded run, so
		// that the ticker and ctx are still seen under steady load.
	fast:
		for range fastTakes {
			if ctx.Err() != nil {
				break
			}
			select {
			case it, ok := <-w.in:
				if !w.received(ctx, it, ok) {
					return nil
				}
			default:
				break fast
			}
		}
		if ctx.Err() != nil {
			continue // handled at the top
		}
		select {
		case it, ok := <-w.in:
			if !w.received(ctx, it, ok) {
				return nil
			}
		case <-t.C:
			w.handOver(ctx)
		case <-ctx.Done():
			w.handOver(ctx)
			return ctx.Err()
		}
	}
}

// received takes an item the queue gave (ok), or hands the statistics over
// when the queue is closed and drained (!ok); it reports whether to go on.
func (w *worker) received(ctx context.Context, it item, ok bool) bool {
	if !ok {
		w.handOver(ctx)
		return false
	}
	w.take(ctx, it)
	return true
}

// fastTakes is the most queue items a worker takes in a row before it looks
// at its ticker and context again.
const fastTakes = 64

// take analyzes one item of the queue.
func (w *worker) take(ctx context.Context, it item) {
	if it.one != nil {
		w.process(ctx, it.one)
	}
	for _, x := range it.many {
		w.process(ctx, x)
	}
	w.queued.Add(-int64(it.len()))
}

// process runs every analyzer on x, records its endpoint and queues the
// findings for the writer.
func (w *worker) process(ctx context.Context, x *vigil.Exchange) {
	p := w.p
	// The path's template (the fixed rules), made once here for every
	// analyzer that names the endpoint (inventory.TemplateOf).
	path := x.Request.Path()
	tmpl, ok := x.PathTemplate(path)
	if !ok {
		tmpl = inventory.Template(path)
		x.SetPathTemplate(path, tmpl)
	}
	var ep vigil.Endpoint
	auth := ""
	if w.inv != nil {
		ep, auth = w.inv.ObserveAuth(x)
	} else if p.cfg.Inventory != nil {
		ep = p.cfg.Inventory.Observe(x)
	} else {
		ep = vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: tmpl}
	}
	var fs []vigil.Finding
	for i, a := range p.analyzers {
		got := p.analyze(ctx, i, a, x)
		if len(got) > 0 {
			// Clip so that appending never writes into an analyzer's array.
			fs = append(fs[:len(fs):len(fs)], got...)
		}
	}
	// Detectors name the endpoint with the fixed rules (inventory.Template);
	// the inventory's learned name, when there is one, wins over that name.
	fixed := ep
	fixed.Template = tmpl
	for i := range fs {
		f := &fs[i]
		if f.ID == "" {
			f.ID = p.nextID()
		}
		if f.ExchangeID == "" {
			f.ExchangeID = x.ID
		}
		if f.Actor == (vigil.Actor{}) {
			f.Actor = x.Actor
		}
		if f.Endpoint == (vigil.Endpoint{}) || f.Endpoint == fixed {
			f.Endpoint = ep
		}
		if f.Time.IsZero() {
			f.Time = x.Time
		}
	}
	if auth == "" {
		auth = inventory.AuthKind(x.Request.Header, x.Actor)
	}
	w.record(ep, auth, x)
	p.c.analyzed.Add(1)
	if len(fs) == 0 {
		return
	}
	p.c.findings.Add(int64(len(fs)))
	if !p.send(ctx, output{findings: fs}) {
		p.c.droppedFindings.Add(int64(len(fs)))
	}
}

// analyze calls one analyzer, counting its error or recovering its panic.
func (p *Pipeline) analyze(ctx context.Context, i int, a vigil.Analyzer, x *vigil.Exchange) (fs []vigil.Finding) {
	defer func() {
		if r := recover(); r != nil {
			p.c.panics.Add(1)
			fs = nil
			if !p.panicLogged[i].Swap(true) {
				p.log.Error("analyzer panicked; recovered (logged once per analyzer, counted always)",
					"analyzer", fmt.Sprintf("%T", a), "panic", fmt.Sprint(r), "exchange", x.ID)
			}
		}
	}()
	fs, err := a.Analyze(ctx, x)
	if err != nil {
		p.c.analyzerErrors.Add(1)
	}
	return fs
}

// send queues o for the writer, waiting while the queue is full. When ctx
// has ended it still tries once without waiting; false means o was dropped.
func (p *Pipeline) send(ctx context.Context, o output) bool {
	if ctx.Err() == nil {
		select {
		case p.out <- o:
			return true
		case <-ctx.Done():
		}
	}
	select {
	case p.out <- o:
		return true
	default:
		return false
	}
}

// record counts x, whose request carries auth (inventory.AuthKind), in its
// endpoint's statistics and keeps it as a sample while the endpoint has
// fewer than samplesPerFlush this interval.
func (w *worker) record(ep vigil.Endpoint, auth string, x *vigil.Exchange) {
	agg := w.lastAgg
	if agg == nil || ep != w.lastEp {
		agg = w.lookup(ep)
		w.lastEp, w.lastAgg = ep, nil
		if agg.stats.Endpoint == ep { // not folded: folding counts each time
			w.lastAgg = agg
		}
	}
	s := &agg.stats
	s.Count++
	widen(s, x.Time, x.Time)
	s.Statuses[x.Status()]++
	s.Auth[auth]++
	// Samples pin whole exchanges until the next hand-over: only take them
	// when a recorder will keep them.
	if w.p.rec != nil && agg.stats.Endpoint != otherEndpoint && len(agg.samples) < samplesPerFlush {
		agg.samples = append(agg.samples, x)
	}
}

// lookup returns the statistics of ep this interval, creating them; when
// the map is full, those of otherEndpoint.
func (w *worker) lookup(ep vigil.Endpoint) *endpointAgg {
	agg, ok := w.stats[ep]
	if !ok {
		if len(w.stats) >= maxLocalEndpoints {
			w.p.c.folded.Add(1)
			ep = otherEndpoint
			agg = w.stats[ep]
		}
		if agg == nil {
			agg = &endpointAgg{stats: vigil.EndpointStats{
				Endpoint: ep, Statuses: make(map[int]int64, 2), Auth: make(map[string]int64, 1),
			}}
			w.stats[ep] = agg
		}
	}
	return agg
}

// widen extends s's first and last seen to cover first..last; zero times
// are ignored.
func widen(s *vigil.EndpointStats, first, last time.Time) {
	if !first.IsZero() && (s.FirstSeen.IsZero() || first.Before(s.FirstSeen)) {
		s.FirstSeen = first
	}
	if !last.IsZero() && last.After(s.LastSeen) {
		s.LastSeen = last
	}
}

// handOver sends the worker's statistics to the writer and starts afresh.
func (w *worker) handOver(ctx context.Context) {
	if len(w.stats) == 0 {
		return
	}
	// When the output queue takes nothing more (ctx ended), the statistics
	// are lost: they are a summary, not findings, so nothing is counted.
	w.p.send(ctx, output{stats: w.stats})
	w.stats = make(map[vigil.Endpoint]*endpointAgg)
	w.lastEp, w.lastAgg = vigil.Endpoint{}, nil
}
