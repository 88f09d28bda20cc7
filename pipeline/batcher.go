package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/vigilsec/vigil"
)

// DefaultLinger is how long a Batcher keeps a partial batch before handing
// it over anyway.
const DefaultLinger = 100 * time.Millisecond

// Batcher feeds a Block-mode pipeline from one reader, BatchLen exchanges at
// a time per worker (or Config.QueueSize when smaller): a worker wakes up once per batch instead of once per
// exchange. Exchanges of one actor keep their order. A partial batch waits
// at most the linger (a slow stream, such as standard input, is not held
// back), and Flush hands over everything at once.
//
// Use either a Batcher or SubmitWait on a pipeline, not both: their
// exchanges could overtake each other.
type Batcher struct {
	p      *Pipeline
	linger time.Duration
	size   int // exchanges per batch

	mu    sync.Mutex
	bufs  [][]*vigil.Exchange // per worker
	since time.Time           // when the oldest buffered exchange was added; zero when none
	err   error               // the first error of a background flush

	stop chan struct{}
	done chan struct{}
}

// NewBatcher returns a Batcher for p. A linger ≤ 0 takes DefaultLinger. Call
// Close when done: it flushes and stops the Batcher's timer goroutine.
func (p *Pipeline) NewBatcher(linger time.Duration) *Batcher {
	if linger <= 0 {
		linger = DefaultLinger
	}
	b := &Batcher{
		p: p, linger: linger, size: batchLen(p.cfg),
		bufs: make([][]*vigil.Exchange, len(p.workers)),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.tick()
	return b
}

// Add queues x for analysis, waiting while its worker's queue is full. It
// returns ctx's error when ctx ends first, ErrClosed once the pipeline is
// closed, and the error of a failed background flush. x.Actor must be set;
// x must not be changed after.
func (b *Batcher) Add(ctx context.Context, x *vigil.Exchange) error {
	if x == nil {
		return vigil.Errorf(vigil.EINVALID, "pipeline: nil exchange")
	}
	i := b.p.shardIndex(x)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if b.since.IsZero() {
		b.since = time.Now()
	}
	if b.bufs[i] == nil {
		b.bufs[i] = make([]*vigil.Exchange, 0, b.size)
	}
	b.bufs[i] = append(b.bufs[i], x)
	if len(b.bufs[i]) < b.size {
		return nil
	}
	return b.handOver(ctx, i)
}

// Flush hands every buffered exchange to its worker.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked(ctx)
}

// Close flushes with ctx and stops the timer. The pipeline stays open.
func (b *Batcher) Close(ctx context.Context) error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	return b.Flush(ctx)
}

func (b *Batcher) flushLocked(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	for i := range b.bufs {
		if len(b.bufs[i]) > 0 {
			if err := b.handOver(ctx, i); err != nil {
				return err
			}
		}
	}
	b.since = time.Time{}
	return nil
}

// handOver sends worker i's buffer; the worker owns it from then on.
func (b *Batcher) handOver(ctx context.Context, i int) error {
	batch := b.bufs[i]
	b.bufs[i] = nil
	if err := b.p.enqueue(ctx, b.p.workers[i], item{many: batch}); err != nil {
		b.bufs[i] = batch // nothing is lost: a later Flush may retry
		return err
	}
	return nil
}

// tick flushes partial batches older than the linger until Close.
func (b *Batcher) tick() {
	defer close(b.done)
	t := time.NewTicker(b.linger / 2)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			b.mu.Lock()
			if !b.since.IsZero() && now.Sub(b.since) >= b.linger && b.err == nil {
				// A background flush has no caller's context; it waits for
				// room like the reader would, until the pipeline closes.
				if err := b.flushLocked(context.Background()); err != nil {
					b.err = err
				}
			}
			b.mu.Unlock()
		}
	}
}
