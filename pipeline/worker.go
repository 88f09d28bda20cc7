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
	// kick wakes a dozing worker (run) once len(in) reaches kickAt.
	kick   chan struct{}
	kickAt int
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
	// batch is the exchanges being analysed; states their passes' state.
	batch  []*vigil.Exchange
	states []exchangeState
}

// run analyzes until the input is closed and drained (nil) or ctx ends
// (ctx's error). Endpoint statistics are handed to the writer every
// statsInterval and before returning.
//
// The worker takes what its queue holds as one batch, up to maxBatch
// exchanges, and runs the batch analyzer by analyzer (processBatch). An idle
// worker waits on its queue, so that the first exchange wakes it; a busy one
// (its last look found work) dozes between looks instead. Under load that
// turns one wake-up per exchange – a futex call, the other core's spin and
// the scheduler's work, which cost a proxy more than a detector – into one
// per doze, and lets batches form. Submitters kick a dozing worker early
// once its queue fills past an eighth, so a doze never sheds an exchange.
func (w *worker) run(ctx context.Context) error {
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	nap := time.NewTimer(doze)
	defer nap.Stop()
	w.stats = make(map[vigil.Endpoint]*endpointAgg)
	busy := false
	for {
		if ctx.Err() != nil { // checked first: select picks ready cases at random
			w.handOver(ctx)
			return ctx.Err()
		}
		if busy {
			nap.Reset(doze)
			select {
			case <-w.kick:
			case <-nap.C:
			case <-t.C:
				w.handOver(ctx)
			case <-ctx.Done():
				continue // handled at the top
			}
		} else {
			select {
			case it, ok := <-w.in:
				if !ok {
					w.handOver(ctx)
					return nil
				}
				w.add(it)
			case <-t.C:
				w.handOver(ctx)
				continue
			case <-ctx.Done():
				continue
			}
		}
		open, full := w.drain()
		busy = len(w.batch) > 0
		if busy {
			w.processBatch(ctx, w.batch)
			w.queued.Add(-int64(len(w.batch)))
			clear(w.batch) // the exchanges go with the batch
			w.batch = w.batch[:0]
		}
		if !open {
			w.handOver(ctx)
			return nil
		}
		if full { // more may be queued: look again without dozing
			busy = false
			select {
			case <-t.C:
				w.handOver(ctx)
			default:
			}
		}
	}
}

// Batching limits.
const (
	maxBatch = 64                     // exchanges analysed as one batch
	doze     = 500 * time.Microsecond // a busy worker's sleep between looks at its queue
)

// add appends a queue item's exchanges to the batch.
func (w *worker) add(it item) {
	if it.one != nil {
		w.batch = append(w.batch, it.one)
	}
	w.batch = append(w.batch, it.many...)
}

// drain moves queued items into the batch without waiting, until the batch
// holds maxBatch exchanges (full) or the queue is empty; open is false once
// the queue is closed and empty.
func (w *worker) drain() (open, full bool) {
	for len(w.batch) < maxBatch {
		select {
		case it, ok := <-w.in:
			if !ok {
				return false, false
			}
			w.add(it)
		default:
			return true, false
		}
	}
	return true, true
}

// kicked wakes w early when its queue has filled past an eighth.
func (w *worker) kicked() {
	if len(w.in) >= w.kickAt {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// exchangeState is what processBatch keeps of one exchange of the batch
// between its passes.
type exchangeState struct {
	tmpl string
	ep   vigil.Endpoint
	auth string
	fs   []vigil.Finding
}

// processBatch runs every analyzer on the exchanges of xs, records their
// endpoints and queues their findings for the writer. It goes analyzer by
// analyzer, each over the whole batch: an analyzer's code and state stay in
// the core's caches for the batch, which saved 15-17% of the analysis in
// BenchmarkProxyAnalysis. Each analyzer still sees each actor's exchanges in
// order; analyzers share no state, and an exchange is not changed by them.
func (w *worker) processBatch(ctx context.Context, xs []*vigil.Exchange) {
	p := w.p
	st := w.states[:0]
	for _, x := range xs {
		// The path's template (the fixed rules), made once here for every
		// analyzer that names the endpoint (inventory.TemplateOf).
		path := x.Request.Path()
		tmpl, ok := x.PathTemplate(path)
		if !ok {
			tmpl = inventory.Template(path)
			x.SetPathTemplate(path, tmpl)
		}
		s := exchangeState{tmpl: tmpl}
		if w.inv != nil {
			s.ep, s.auth = w.inv.ObserveAuth(x)
		} else if p.cfg.Inventory != nil {
			s.ep = p.cfg.Inventory.Observe(x)
		} else {
			s.ep = vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: tmpl}
		}
		st = append(st, s)
	}
	for i, a := range p.analyzers {
		for j, x := range xs {
			got := p.analyze(ctx, i, a, x)
			if len(got) > 0 {
				// Clip so that appending never writes into an analyzer's array.
				fs := st[j].fs
				st[j].fs = append(fs[:len(fs):len(fs)], got...)
			}
		}
	}
	for j, x := range xs {
		w.finish(ctx, x, &st[j])
	}
	clear(st) // the findings went to the writer
	w.states = st[:0]
}

// finish completes x's findings, records its endpoint and queues the
// findings for the writer.
func (w *worker) finish(ctx context.Context, x *vigil.Exchange, s *exchangeState) {
	p := w.p
	ep, auth, fs := s.ep, s.auth, s.fs
	// Detectors name the endpoint with the fixed rules (inventory.Template);
	// the inventory's learned name, when there is one, wins over that name.
	fixed := ep
	fixed.Template = s.tmpl
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
