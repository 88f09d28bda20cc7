package proxy

import (
	"context"
	"fmt"
	"net/http"
	pathpkg "path"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Inline check defaults.
const (
	// DefaultInlineDeadline bounds the inline check of one request: the
	// request-side detectors take some tens of microseconds on a typical
	// JSON call, so 2 ms leaves room for a loaded machine while keeping the
	// added latency within what an API's clients notice.
	DefaultInlineDeadline = 2 * time.Millisecond
	// MaxInlineDeadline caps Inline.Deadline: a check that needs longer
	// belongs in the asynchronous pipeline.
	MaxInlineDeadline = time.Second
)

// Inline configures the synchronous check of each request before it is
// forwarded (Config.Inline). The analyzers look at the request alone (its
// Exchange has no Response yet), so only request-side detectors make sense
// here: injection, SSRF, JWT header tricks. Their findings are not
// recorded: the request still goes to the pipeline, which raises them
// again with the response and turns them into stored actions. The inline
// check only decides whether this very request goes on.
type Inline struct {
	// Analyzers judge the request. They must be safe for concurrent use
	// (vigil.Analyzer's contract in the pipeline already asks it).
	Analyzers []vigil.Analyzer
	// Stops reports whether a finding stops the request in line: in Vigil
	// it is the response policy's decision (block, in enforce mode, on the
	// first finding). Nil stops nothing: checks run and are counted only.
	// It is read for every finding, so it may follow a policy that is
	// reloaded.
	Stops func(f *vigil.Finding) bool
	// Deadline bounds the check (default DefaultInlineDeadline, at most
	// MaxInlineDeadline). A check that overruns it is counted; the request
	// goes on (fail-open) unless its route is in FailClosed.
	Deadline time.Duration
	// FailClosed lists the routes where an overrun (or a check that
	// failed) answers 503 instead of forwarding: path prefixes ending at a
	// segment boundary ("/admin" matches /admin and /admin/users, not
	// /administrator), where a segment written {name} or * matches any one
	// segment ("/users/{id}/payment").
	FailClosed []string
	// MaxInFlight caps the checks running at once, counting overrun ones
	// that have not finished yet (default 64 × GOMAXPROCS). When it is
	// reached, a request is treated as an overrun at once: a stalled
	// analyzer cannot pile up goroutines.
	MaxInFlight int
}

// inline runs the inline checks of a core.
type inline struct {
	analyzers []vigil.Analyzer
	stops     func(*vigil.Finding) bool
	deadline  time.Duration
	closed    [][]string // FailClosed, split into segments
	sem       chan struct{}
	jobs      chan job // hands a check to an idle worker
}

// job is one check handed to a worker.
type job struct {
	ctx    context.Context
	cancel context.CancelFunc
	x      *vigil.Exchange
	done   chan<- result
}

// workerIdle is how long a check worker waits for the next check before it
// ends. Workers are reused because the detectors need a grown stack: a new
// goroutine per check would copy its stack up each time, which costs more
// than the check (BenchmarkInlineCheck).
const workerIdle = 200 * time.Millisecond

// Errors in inline configuration are reported by New.
func newInline(cfg *Inline) (*inline, error) {
	if cfg == nil {
		return nil, nil
	}
	d := cfg.Deadline
	switch {
	case d == 0:
		d = DefaultInlineDeadline
	case d < 0 || d > MaxInlineDeadline:
		return nil, vigil.Errorf(vigil.EINVALID, "inline deadline %v: want a positive duration up to %v", d, MaxInlineDeadline)
	}
	n := cfg.MaxInFlight
	if n <= 0 {
		n = 64 * runtime.GOMAXPROCS(0)
	}
	in := &inline{
		analyzers: append([]vigil.Analyzer(nil), cfg.Analyzers...),
		stops:     cfg.Stops,
		deadline:  d,
		sem:       make(chan struct{}, n),
		jobs:      make(chan job),
	}
	for _, r := range cfg.FailClosed {
		segs, err := parseRoute(r)
		if err != nil {
			return nil, err
		}
		in.closed = append(in.closed, segs)
	}
	return in, nil
}

// parseRoute splits a fail-closed route into its segments.
func parseRoute(r string) ([]string, error) {
	if !strings.HasPrefix(r, "/") || len(r) > 1024 || strings.ContainsAny(r, "?# ") {
		return nil, vigil.Errorf(vigil.EINVALID, "fail-closed route %q: want a path such as /admin or /users/{id}/payment", r)
	}
	return strings.Split(strings.Trim(r, "/"), "/"), nil
}

// failsClosed reports whether path is on a fail-closed route.
func (in *inline) failsClosed(path string) bool {
	for _, segs := range in.closed {
		if matchRoute(segs, path) {
			return true
		}
	}
	return false
}

// matchRoute reports whether path (cleaned) begins with the route's
// segments.
func matchRoute(segs []string, path string) bool {
	if len(segs) == 1 && segs[0] == "" {
		return true // "/" matches every path
	}
	rest := strings.TrimPrefix(pathpkg.Clean("/"+path), "/")
	for _, s := range segs {
		seg, tail, _ := strings.Cut(rest, "/")
		if seg == "" {
			return false
		}
		wild := s == "*" || (len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}')
		if !wild && seg != s {
			return false
		}
		rest = tail
	}
	return true
}

// verdict is the outcome of an inline check.
type verdict uint8

const (
	verdictPass    verdict = iota
	verdictStop            // a finding the policy blocks on
	verdictOverrun         // the deadline passed, or no room to run the check
	verdictFailed          // an analyzer returned an error or panicked
)

// result is what a check goroutine hands back.
type result struct {
	v       verdict
	finding vigil.Finding
}

// check runs the analyzers on x within the deadline. The analyzers run on a
// worker goroutine so that the wait can end at the deadline; when it does,
// the worker finishes the check on its own (it holds a slot of in.sem until
// then, and its context is done) and the result is dropped. A client that
// goes away ends the wait too. Workers are at most as many as the slots:
// one is started only when a slot is free and no worker is idle, and an
// idle one ends after workerIdle.
func (in *inline) check(reqCtx context.Context, x *vigil.Exchange) result {
	select {
	case in.sem <- struct{}{}:
	default:
		return result{v: verdictOverrun}
	}
	done := make(chan result, 1) // buffered: an abandoned check never blocks
	// Cancelled when the wait gives up, so that an analyzer that looks at
	// its context can stop early.
	ctx, cancel := context.WithCancel(context.Background())
	j := job{ctx: ctx, cancel: cancel, x: x, done: done}
	select {
	case in.jobs <- j:
	default:
		go in.worker(j)
	}
	t := time.NewTimer(in.deadline)
	defer t.Stop()
	select {
	case r := <-done:
		return r
	case <-t.C:
	case <-reqCtx.Done():
	}
	cancel()
	return result{v: verdictOverrun}
}

// worker runs checks until none comes for workerIdle.
func (in *inline) worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		in.run(j.ctx, j.cancel, j.x, j.done)
		idle.Reset(workerIdle)
		select {
		case j = <-in.jobs:
		case <-idle.C:
			return
		}
	}
}

// run is one check. A panicking analyzer fails the check, not the worker.
func (in *inline) run(ctx context.Context, cancel context.CancelFunc, x *vigil.Exchange, done chan<- result) {
	defer func() { <-in.sem }()
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			done <- result{v: verdictFailed}
		}
	}()
	for _, a := range in.analyzers {
		fs, err := a.Analyze(ctx, x)
		if err != nil {
			done <- result{v: verdictFailed}
			return
		}
		for i := range fs {
			if in.stops != nil && in.stops(&fs[i]) {
				done <- result{v: verdictStop, finding: fs[i]}
				return
			}
		}
		if ctx.Err() != nil {
			done <- result{v: verdictOverrun}
			return
		}
	}
	done <- result{v: verdictPass}
}

// inlineCounters are the inline check's counters.
type inlineCounters struct {
	checks, stopped, overruns, failedClosed, errors atomic.Uint64
}

// runInline checks the request before it is forwarded and reports whether
// it may go on; when not, it has answered.
func (c *core) runInline(w *captureWriter, r *http.Request, tee *bodyTee, reqHeader http.Header, id string, actor vigil.Actor, start time.Time) bool {
	in := c.inline
	c.stats.inline.checks.Add(1)
	var body []byte
	size := int64(0)
	if tee != nil {
		body = tee.prefetch()
		size = r.ContentLength
		if tee.eof {
			size = tee.n // read whole: the size is known even when chunked
		}
	}
	x := c.exchange(r, reqHeader, id, actor, start)
	x.Request.Body, x.Request.BodySize, x.Request.Truncated = body, size, size != int64(len(body))
	res := in.check(r.Context(), x)
	switch res.v {
	case verdictPass:
		return true
	case verdictStop:
		c.stats.inline.stopped.Add(1)
		w.Header().Set(HeaderAction, string(vigil.ActionBlock))
		writeError(w, http.StatusForbidden, CodeBlocked,
			fmt.Sprintf("request blocked by policy (%s)", res.finding.Detector), id)
		return false
	case verdictFailed:
		c.stats.inline.errors.Add(1)
	default:
		c.stats.inline.overruns.Add(1)
	}
	if r.Context().Err() != nil {
		return false // the client is gone; finish counts it
	}
	if len(in.closed) > 0 && in.failsClosed(r.URL.Path) {
		c.stats.inline.failedClosed.Add(1)
		writeError(w, http.StatusServiceUnavailable, CodeInlineUnavailable,
			"the request could not be checked in time; try again", id)
		return false
	}
	return true
}
