// Package pipeline runs analyzers over exchanges. Exchanges are sharded by
// actor key over a fixed set of workers, each with its own bounded queue, so
// one actor's exchanges are analyzed in order by one goroutine. Findings go
// through one bounded output queue to a writer that batches them to the
// sinks; endpoint statistics and samples are kept per worker, merged by the
// writer and flushed to a Recorder.
//
// Overflow policy, stage by stage:
//   - Input, Shed mode (the proxy): Submit never blocks. When the actor's
//     worker queue is full the exchange is dropped and counted in Stats.Shed.
//   - Input, Block mode (vigil analyze): SubmitWait, or a Batcher, blocks
//     until there is room or its context ends; nothing is shed. A Batcher
//     hands exchanges over in batches, which costs a reader far fewer
//     wake-ups of the workers than one exchange at a time.
//   - Output: in both modes a worker waits while the output queue is full. In
//     Block mode this carries backpressure from the sinks to the reader. In
//     Shed mode it makes the worker's input queue fill up, so the proxy sheds
//     analysis (counted) instead of ever waiting to forward a request.
//   - Sinks: an error is logged and counted; the failed batch is retried once
//     at the next flush, then dropped and counted. Nothing buffers without
//     bound.
//   - Endpoint statistics are bounded by an inventory.Cap (per host, hosts,
//     total); what does not fit is folded into "{other}" and counted.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil"
)

// Mode says what Submit does when analysis is behind.
type Mode int

const (
	// Shed is for the proxy: Submit never blocks and drops what does not fit.
	Shed Mode = iota
	// Block is for offline analysis: SubmitWait applies backpressure.
	Block
)

func (m Mode) String() string {
	switch m {
	case Shed:
		return "shed"
	case Block:
		return "block"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Defaults of Config and of the writer.
const (
	DefaultQueueSize = 1024
	// BatchLen is the most exchanges a Batcher hands a worker at once
	// (fewer when Config.QueueSize is smaller).
	BatchLen = 64

	outputQueueSize   = 1024                   // finding lists and stats deltas waiting for the writer
	batchSize         = 1000                   // findings per sink call
	flushInterval     = 250 * time.Millisecond // low and info findings wait at most this long; others go at once
	statsInterval     = time.Second            // workers hand over endpoint stats this often
	samplesPerFlush   = 2                      // new samples per endpoint per stats interval
	maxLocalEndpoints = 10_000                 // endpoints a worker gathers per stats interval
	sinkTimeout       = 10 * time.Second       // one sink call
	finalFlushTimeout = 2 * time.Second        // flushing after Run's context ended
)

// Errors of SubmitWait.
var (
	// ErrClosed is returned after Close, or once Run has returned.
	ErrClosed = errors.New("pipeline closed")
)

// Config configures a Pipeline. Zero values take the defaults.
type Config struct {
	Workers int // analysis goroutines; 0 = GOMAXPROCS
	// QueueSize bounds the exchanges queued per worker; 0 =
	// DefaultQueueSize. In Block mode the queue holds QueueSize/BatchLen
	// batches (at least one), so a Batcher's batches stay within the bound.
	QueueSize int
	Mode      Mode
	// Inventory, when set, names every exchange's endpoint (and learns from
	// it); without, endpoints are named by inventory.Template.
	Inventory Inventory
}

// Inventory is the API inventory the workers feed: inventory.Inventory is
// one. It must be safe for concurrent use.
type Inventory interface {
	Observe(x *vigil.Exchange) vigil.Endpoint
}

// authObserver is an Inventory that also tells the authentication of the
// exchange it records (inventory.AuthKind), which the endpoint statistics
// count: inventory.Inventory is one.
type authObserver interface {
	ObserveAuth(x *vigil.Exchange) (vigil.Endpoint, string)
}

// Recorder keeps what the pipeline learns about endpoints; vigil.Store is
// one.
type Recorder interface {
	UpsertEndpoints(ctx context.Context, stats []vigil.EndpointStats) error
	AddSamples(ctx context.Context, samples []vigil.Sample) error
}

// Stats are the pipeline's counters since New. Counters only grow;
// QueueDepth is a snapshot.
type Stats struct {
	Submitted       int64 // exchanges accepted into a queue
	Shed            int64 // exchanges dropped because their queue was full (Shed mode)
	Analyzed        int64 // exchanges every analyzer has seen
	Findings        int64 // findings raised
	AnalyzerErrors  int64 // errors returned by analyzers
	Panics          int64 // analyzer panics recovered
	SinkErrors      int64 // failed sink and recorder calls
	DroppedFindings int64 // findings no sink took after the retry, or abandoned when Run's context ended
	FoldedEndpoints int64 // endpoint observations folded into "{other}" by the caps
	QueueDepth      int64 // exchanges waiting in the worker queues now
}

// counters are grouped by who writes them, each group on its own cache
// lines, so that a submit does not take the line a worker is writing (or the
// other way round) on every exchange.
type counters struct {
	submitted, shed                                    atomic.Int64 // submitters
	_                                                  [cacheLine]byte
	analyzed, findings, analyzerErrors, panics, folded atomic.Int64 // workers
	_                                                  [cacheLine]byte
	sinkErrors, droppedFindings                        atomic.Int64 // the writer (and workers, when dropping)
}

// cacheLine is padding that keeps fields written by different goroutines
// off one cache line (two lines' worth on CPUs that fetch them in pairs).
const cacheLine = 128

// Pipeline analyzes exchanges. Create it with New, start it with Run, feed it
// with Submit or SubmitWait from any goroutine, and end it with Close.
type Pipeline struct {
	cfg       Config
	analyzers []vigil.Analyzer
	sinks     []vigil.Sink
	rec       Recorder
	log       *slog.Logger

	seed    maphash.Seed
	workers []*worker
	out     chan output // owned by Run: closed once every worker has returned

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	stopped   chan struct{} // closed when Run returns
	started   atomic.Bool

	idPrefix string
	idSeq    atomic.Uint64

	// panicLogged remembers which analyzers have had a panic logged.
	panicLogged []atomic.Bool

	c counters
}

// New returns a pipeline running analyzers in order on every exchange and
// writing findings to sinks. rec may be nil; logger may be nil (discard).
func New(cfg Config, analyzers []vigil.Analyzer, sinks []vigil.Sink, rec Recorder, logger *slog.Logger) *Pipeline {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:]) // never fails (crypto/rand panics rather than return an error)
	p := &Pipeline{
		cfg:         cfg,
		analyzers:   append([]vigil.Analyzer(nil), analyzers...),
		sinks:       append([]vigil.Sink(nil), sinks...),
		rec:         rec,
		log:         logger,
		seed:        maphash.MakeSeed(),
		out:         make(chan output, outputQueueSize),
		closing:     make(chan struct{}),
		stopped:     make(chan struct{}),
		idPrefix:    "f" + hex.EncodeToString(rnd[:]) + "-",
		panicLogged: make([]atomic.Bool, len(analyzers)),
	}
	p.workers = make([]*worker, cfg.Workers)
	for i := range p.workers {
		slots := queueSlots(cfg)
		p.workers[i] = &worker{p: p, in: make(chan item, slots), kick: make(chan struct{}, 1), kickAt: max(1, slots/8)}
		p.workers[i].inv, _ = cfg.Inventory.(authObserver)
	}
	return p
}

// queueSlots is the capacity of a worker's queue: one exchange per slot in
// Shed mode, one batch per slot in Block mode.
func queueSlots(cfg Config) int {
	if cfg.Mode != Block {
		return cfg.QueueSize
	}
	return max(1, cfg.QueueSize/batchLen(cfg))
}

// batchLen is the length of a Batcher's batches: BatchLen, or less when the
// queue is smaller; 1 in Shed mode, whose queue counts slots as exchanges.
func batchLen(cfg Config) int {
	if cfg.Mode != Block {
		return 1
	}
	return max(1, min(BatchLen, cfg.QueueSize))
}

// shard picks the worker of an exchange's actor.
func (p *Pipeline) shard(x *vigil.Exchange) *worker {
	return p.workers[p.shardIndex(x)]
}

// shardIndex is the index of the worker of an exchange's actor.
func (p *Pipeline) shardIndex(x *vigil.Exchange) int {
	if len(p.workers) == 1 {
		return 0
	}
	return int(p.actorHash(x.Actor) % uint64(len(p.workers)))
}

// actorHash hashes the actor's key (vigil.Actor.Key) without building it:
// the kind and value of the first key the actor has.
func (p *Pipeline) actorHash(a vigil.Actor) uint64 {
	var kind vigil.KeyKind
	var v string
	switch {
	case a.Principal != "":
		kind, v = vigil.KeyPrincipal, a.Principal
	case a.Addr != "":
		kind, v = vigil.KeyAddr, a.Addr
	case a.Fingerprint != "":
		kind, v = vigil.KeyFingerprint, a.Fingerprint
	default:
		return maphash.String(p.seed, "anonymous")
	}
	// The key is put together on the stack when it fits: maphash.Bytes of
	// it is maphash.String of the key, without a Hash's buffering.
	var buf [128]byte
	if n := len(kind) + 1 + len(v); n <= len(buf) {
		b := append(append(append(buf[:0], kind...), ':'), v...)
		return maphash.Bytes(p.seed, b)
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString(string(kind))
	h.WriteByte(':')
	h.WriteString(v)
	return h.Sum64()
}

// Submit queues x for analysis without ever blocking. It returns false when
// x was not queued: its worker's queue is full (counted in Stats.Shed), or
// the pipeline is closed. x.Actor must be set; x must not be changed after.
// In Block mode, use SubmitWait.
func (p *Pipeline) Submit(x *vigil.Exchange) bool {
	if x == nil {
		return false
	}
	w := p.shard(x)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return false
	}
	w.queued.Add(1)
	select {
	case w.in <- item{one: x}:
		p.c.submitted.Add(1)
		w.kicked()
		return true
	default:
		w.queued.Add(-1)
		p.c.shed.Add(1)
		return false
	}
}

// SubmitWait queues x for analysis, waiting while its worker's queue is full.
// It returns ctx's error when ctx ends first, and ErrClosed after Close or
// once Run has returned. x.Actor must be set; x must not be changed after.
func (p *Pipeline) SubmitWait(ctx context.Context, x *vigil.Exchange) error {
	if x == nil {
		return vigil.Errorf(vigil.EINVALID, "pipeline: nil exchange")
	}
	return p.enqueue(ctx, p.shard(x), item{one: x})
}

// enqueue queues it on w, waiting while w's queue is full.
func (p *Pipeline) enqueue(ctx context.Context, w *worker, it item) error {
	n := int64(it.len())
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	w.queued.Add(n) // before the send, so the worker never takes it below zero
	select {
	case w.in <- it:
		p.c.submitted.Add(n)
		w.kicked()
		return nil
	default:
	}
	w.kicked() // full: the worker may be dozing
	var err error
	select {
	case w.in <- it:
		p.c.submitted.Add(n)
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-p.closing:
		err = ErrClosed
	case <-p.stopped:
		err = ErrClosed
	}
	w.queued.Add(-n)
	return err
}

// Close ends the input: later submits fail. Run then analyzes what is
// queued, flushes everything and returns. Close may be called more than once
// and from any goroutine; it does not wait for Run.
func (p *Pipeline) Close() {
	p.closeOnce.Do(func() {
		close(p.closing) // releases SubmitWait callers holding a read lock
		for _, w := range p.workers {
			w.mu.Lock()
			w.closed = true
			close(w.in) // no sender holds the lock, and none will send again
			w.mu.Unlock()
		}
	})
}

// Run analyzes exchanges until Close has been called and every queue is
// drained and flushed; then it returns nil. When ctx ends first, the workers
// stop, what was already analyzed is flushed within a short deadline, and
// ctx's error is returned. Run may be called once.
func (p *Pipeline) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("pipeline: Run called twice")
	}
	defer close(p.stopped)

	var g errgroup.Group
	g.Go(func() error {
		var workers errgroup.Group
		for _, w := range p.workers {
			workers.Go(func() error {
				return w.run(ctx)
			})
		}
		err := workers.Wait()
		close(p.out) // every sender has returned
		return err
	})
	g.Go(func() error { return p.write(ctx) })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() Stats {
	var depth int64
	for _, w := range p.workers {
		depth += w.queued.Load()
	}
	return Stats{
		Submitted:       p.c.submitted.Load(),
		Shed:            p.c.shed.Load(),
		Analyzed:        p.c.analyzed.Load(),
		Findings:        p.c.findings.Load(),
		AnalyzerErrors:  p.c.analyzerErrors.Load(),
		Panics:          p.c.panics.Load(),
		SinkErrors:      p.c.sinkErrors.Load(),
		DroppedFindings: p.c.droppedFindings.Load(),
		FoldedEndpoints: p.c.folded.Load(),
		QueueDepth:      depth,
	}
}

// nextID returns a unique finding id: a random prefix per pipeline and a
// sequence number.
func (p *Pipeline) nextID() string {
	return p.idPrefix + strconv.FormatUint(p.idSeq.Add(1), 36)
}
