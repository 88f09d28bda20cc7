package correlate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/vigilsec/vigil/internal/lru"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Defaults and caps, each with its reason.
const (
	// DefaultIdle closes an incident when its actor has raised no finding
	// for this long (on the findings' clock): long enough for a low and
	// slow attacker, short enough that an address handed to someone else
	// the next day starts afresh.
	DefaultIdle = 30 * time.Minute
	// DefaultMaxOpen caps the open incidents; at the cap the least
	// recently active one is closed (and saved). An incident filled to
	// every per-incident cap below takes about 29 KiB (TestMemoryPerIncident),
	// so about 145 MiB at worst; incidents of a few findings take far less.
	DefaultMaxOpen = 5_000
	// DefaultMaxTimeline caps the timeline of an incident: the first half
	// and the last half by time are kept, the middle is counted.
	DefaultMaxTimeline = 64
	// DefaultMaxWaiting caps the actor keys for which findings that open
	// no incident (low severity, exposure) wait for one, MaxWaitingPerKey
	// findings each, for at most the idle window.
	DefaultMaxWaiting = 20_000
	// MaxWaitingPerKey bounds the findings waiting per actor key.
	MaxWaitingPerKey = 8
	// maxActors bounds the actors listed per incident; maxKeys the actor
	// keys indexed per incident (past it, a rotating cluster is still
	// joined through its fingerprint); maxIDs the finding ids and maxActs
	// the action ids kept; maxDetectors the detectors listed.
	maxActors    = 64
	maxKeys      = 128
	maxIDs       = 64
	maxActs      = 64
	maxDetectors = 32
	// maxAreas bounds the attack areas listed per incident.
	maxAreas = 8
	// maxOutbox bounds stage findings and incident snapshots waiting for
	// a sink or the store that failed; beyond it the oldest are dropped and
	// counted.
	maxOutbox = 4096
	// actionSyncEvery throttles the reads of the actions in force after
	// batches that changed an incident (batches that emitted a stage
	// finding read them at once).
	actionSyncEvery = 100 * time.Millisecond
)

// Config bounds a Correlator. Zero fields take the defaults.
type Config struct {
	Idle        time.Duration
	MaxOpen     int
	MaxTimeline int
	MaxWaiting  int
}

func (c Config) withDefaults() Config {
	if c.Idle <= 0 {
		c.Idle = DefaultIdle
	}
	if c.MaxOpen <= 0 {
		c.MaxOpen = DefaultMaxOpen
	}
	if c.MaxTimeline <= 1 {
		c.MaxTimeline = DefaultMaxTimeline
	}
	if c.MaxWaiting <= 0 {
		c.MaxWaiting = DefaultMaxWaiting
	}
	return c
}

// IncidentWriter saves incidents; a vigil.Store is one. PutIncident replaces
// the incident with the same ID.
type IncidentWriter interface {
	PutIncident(ctx context.Context, inc vigil.Incident) error
}

// ActionLister lists the actions in force at t; a vigil.Store is one. When
// the IncidentWriter is also an ActionLister, the Correlator attaches the
// actions taken against an incident's actors to it.
type ActionLister interface {
	Actions(ctx context.Context, t time.Time) ([]vigil.Action, error)
}

// Option configures a Correlator.
type Option func(*Correlator)

// WithSinks sets where stage findings go: typically the store and the
// responder, in that order.
func WithSinks(sinks ...vigil.Sink) Option {
	return func(c *Correlator) { c.sinks = append([]vigil.Sink(nil), sinks...) }
}

// WithClock sets the wall clock (time.Now by default), used for findings
// without a time and to throttle reading actions.
func WithClock(now func() time.Time) Option { return func(c *Correlator) { c.now = now } }

// Correlator is a vigil.Sink that keeps incidents per actor. See the package
// documentation and docs/incidents.md. It is safe for concurrent use; calls
// are serialized.
type Correlator struct {
	cfg   Config
	w     IncidentWriter
	acts  ActionLister
	sinks []vigil.Sink
	now   func() time.Time

	flushMu sync.Mutex // serializes the writes, so snapshots land in order

	mu       sync.Mutex
	open     *lru.Cache[*incident]        // by incident ID
	keys     map[string]*incident         // actor key → open incident
	waiting  *lru.Cache[[]waitingFinding] // actor key → findings waiting for an incident
	dirty    map[*incident]bool           // to save
	outInc   []vigil.Incident             // snapshots the store did not take yet
	outFind  []vigil.Finding              // stage findings the sinks did not take yet
	seenActs *lru.Cache[struct{}]         // action IDs already attached
	clock    time.Time                    // the newest finding time seen
	lastSync time.Time                    // wall clock of the last action read
	idBase   [8]byte
	seq      uint64

	st stats
}

type waitingFinding struct {
	f     vigil.Finding
	stage vigil.Stage
}

type stats struct {
	findings, opened, joined, waited, ignored, merged, closed, evicted atomic.Int64
	stageFindings, storeErrors, sinkErrors, dropped                    atomic.Int64
	open                                                               atomic.Int64
}

// Stats are a Correlator's counters since it was made.
type Stats struct {
	Findings      int64 // findings seen
	Opened        int64 // incidents opened
	Joined        int64 // findings added to an incident
	Waited        int64 // findings kept waiting for an incident of their actor
	Ignored       int64 // findings that joined nothing (no incident came, or duplicates)
	Merged        int64 // incidents merged into another
	Closed        int64 // incidents closed after the idle window
	Evicted       int64 // incidents closed early at the MaxOpen cap
	StageFindings int64 // incident.stage findings emitted
	StoreErrors   int64 // failed PutIncident calls (the snapshot is retried)
	SinkErrors    int64 // failed stage-finding writes (retried)
	Dropped       int64 // snapshots or stage findings given up at the outbox cap
	Open          int   // incidents open now
}

// New returns a Correlator saving incidents to w (which may be nil, e.g. in
// tests that read Snapshot).
func New(cfg Config, w IncidentWriter, opts ...Option) *Correlator {
	cfg = cfg.withDefaults()
	c := &Correlator{
		cfg:      cfg,
		w:        w,
		now:      time.Now,
		open:     lru.New[*incident](cfg.MaxOpen),
		keys:     make(map[string]*incident),
		waiting:  lru.New[[]waitingFinding](cfg.MaxWaiting),
		dirty:    make(map[*incident]bool),
		seenActs: lru.New[struct{}](4 * maxActs * 64),
	}
	if l, ok := w.(ActionLister); ok {
		c.acts = l
	}
	for _, o := range opts {
		o(c)
	}
	_, _ = rand.Read(c.idBase[:])
	return c
}

var _ vigil.Sink = (*Correlator)(nil)

// Stats returns the counters.
func (c *Correlator) Stats() Stats {
	s := &c.st
	return Stats{
		Findings: s.findings.Load(), Opened: s.opened.Load(), Joined: s.joined.Load(), Waited: s.waited.Load(),
		Ignored: s.ignored.Load(), Merged: s.merged.Load(), Closed: s.closed.Load(), Evicted: s.evicted.Load(),
		StageFindings: s.stageFindings.Load(), StoreErrors: s.storeErrors.Load(), SinkErrors: s.sinkErrors.Load(),
		Dropped: s.dropped.Load(), Open: int(s.open.Load()),
	}
}

// WriteFindings correlates the findings, saves the incidents they changed
// and hands the stage findings they caused to the sinks. Errors of the store
// or the sinks are returned; what they did not take is retried at the next
// call (or Flush).
func (c *Correlator) WriteFindings(ctx context.Context, fs []vigil.Finding) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	for i := range fs {
		c.add(&fs[i])
	}
	c.mu.Unlock()
	return c.flush(ctx, false)
}

// Flush attaches the latest actions, saves every changed incident and
// retries what failed. Call it before the process ends.
func (c *Correlator) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	return c.flush(ctx, true)
}

// flush runs with flushMu held: stage findings out, actions in, snapshots out.
func (c *Correlator) flush(ctx context.Context, force bool) error {
	var errs []error
	c.mu.Lock()
	out := c.outFind
	c.outFind = nil
	c.mu.Unlock()
	if len(out) > 0 {
		for _, s := range c.sinks {
			if err := s.WriteFindings(ctx, out); err != nil {
				c.st.sinkErrors.Add(1)
				errs = append(errs, fmt.Errorf("correlate: stage findings: %w", err))
				c.mu.Lock()
				c.outFind = capOutbox(c, append(out, c.outFind...))
				c.mu.Unlock()
				break
			}
		}
	}
	if c.acts != nil {
		wall := c.now()
		c.mu.Lock()
		changed := len(c.dirty) > 0
		c.mu.Unlock()
		// The responder ran before this sink: the actions for this batch
		// and for the stage findings just handed over are in the store.
		if force || len(out) > 0 || (changed && wall.Sub(c.lastSync) >= actionSyncEvery) {
			c.lastSync = wall
			c.mu.Lock()
			at := c.clock
			c.mu.Unlock()
			if !at.IsZero() {
				acts, err := c.acts.Actions(ctx, at)
				if err != nil {
					errs = append(errs, fmt.Errorf("correlate: read actions: %w", err))
				} else {
					c.mu.Lock()
					c.attach(acts)
					c.mu.Unlock()
				}
			}
		}
	}
	c.mu.Lock()
	snaps := c.outInc
	c.outInc = nil
	for in := range c.dirty {
		snaps = append(snaps, in.snapshot())
	}
	clear(c.dirty)
	c.mu.Unlock()
	if c.w != nil {
		for i, s := range snaps {
			if err := c.w.PutIncident(ctx, s); err != nil {
				c.st.storeErrors.Add(1)
				errs = append(errs, fmt.Errorf("correlate: save incident %s: %w", s.ID, err))
				c.mu.Lock()
				c.outInc = capOutbox(c, append(snaps[i:], c.outInc...))
				c.mu.Unlock()
				break
			}
		}
	}
	return errors.Join(errs...)
}

// capOutbox keeps the newest maxOutbox entries of an outbox (stage findings
// or incident snapshots) and counts the ones it drops.
func capOutbox[T any](c *Correlator, out []T) []T {
	if n := len(out) - maxOutbox; n > 0 {
		c.st.dropped.Add(int64(n))
		out = out[n:]
	}
	return out
}

// attach adds the IDs of actions against an open incident's actors to it.
func (c *Correlator) attach(acts []vigil.Action) {
	for _, a := range acts {
		if a.ID == "" {
			continue
		}
		if _, ok := c.seenActs.Get(a.ID); ok {
			continue
		}
		in := c.keys[a.Key]
		if id, _, ok := strings.Cut(a.Source, "/"); ok {
			if byID, found := c.open.Get(id); found {
				in = *byID
			}
		}
		if in == nil {
			continue // not (yet) an incident's actor: try again next time
		}
		c.seenActs.Put(a.ID, struct{}{})
		if len(in.inc.ActionIDs) < maxActs && !slices.Contains(in.inc.ActionIDs, a.ID) {
			in.inc.ActionIDs = append(in.inc.ActionIDs, a.ID)
			c.dirty[in] = true
		}
	}
}

// Snapshot returns the open incidents, most recently active first.
func (c *Correlator) Snapshot() []vigil.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	open := c.open.Values()
	out := make([]vigil.Incident, len(open))
	for i, in := range open {
		out[i] = in.snapshot()
	}
	return out
}

// findingTime is a finding's time, the wall clock for a finding without one.
func (c *Correlator) findingTime(f *vigil.Finding) time.Time {
	if f.Time.IsZero() {
		return c.now()
	}
	return f.Time
}

// principalOf is the principal a finding's actor is keyed on: none for a
// finding about credentials themselves (a forged JWT claims someone else's
// subject).
func principalOf(f *vigil.Finding) string {
	if strings.HasPrefix(f.Detector, "detect.auth.") {
		return ""
	}
	return f.Actor.Principal
}

// add correlates one finding. c.mu is held.
func (c *Correlator) add(f *vigil.Finding) {
	if f.Detector == DetectorStage {
		return
	}
	c.st.findings.Add(1)
	t := c.findingTime(f)
	if t.After(c.clock) {
		c.clock = t
	}
	c.sweep()
	stage, role := Classify(f)
	opening := role == Opens && f.Severity >= vigil.SeverityMedium
	in := c.lookup(f, opening)
	if in == nil {
		if !opening {
			c.wait(f, stage)
			return
		}
		in = c.newIncident(t)
	}
	if !in.join(c, f, stage, t) {
		c.st.ignored.Add(1)
		return
	}
	c.st.joined.Add(1)
	c.index(in, f, opening)
	c.fold(in, f.Actor)
}

// lookup finds the open incident a finding belongs to, merging an anonymous
// incident of its address into its principal's. See docs/incidents.md.
func (c *Correlator) lookup(f *vigil.Finding, opening bool) *incident {
	p := principalOf(f)
	var byP, byA *incident
	if p != "" {
		byP = c.keys[string(vigil.KeyPrincipal)+":"+p]
	}
	if k := f.Actor.KeyOf(vigil.KeyAddr); k != "" {
		byA = c.keys[k]
	}
	if p != "" {
		if !opening {
			// A finding that opens nothing (about the API's own answer, or
			// a weak signal) joins only the incident of the client it came
			// from, not every incident of its principal: after an account
			// takeover, the victim using their own account from their own
			// address is not the attacker.
			if byA != nil && byA.accepts(p) {
				return byA
			}
			return nil
		}
		switch {
		case byP != nil:
			if byA != nil && byA != byP && byA.accepts(p) {
				c.merge(byA, byP)
			}
			return byP
		case byA != nil && byA.accepts(p):
			return byA // an anonymous attacker logged in
		}
		return nil // another principal's address (shared NAT): not merged
	}
	if byA != nil {
		return byA
	}
	if opening {
		if k := f.Actor.KeyOf(vigil.KeyFingerprint); k != "" {
			if in := c.keys[k]; in != nil && len(in.principals) == 0 {
				return in // one client rotating addresses
			}
		}
	}
	return nil
}

// index points the finding's actor keys at the incident: its principal, its
// address, and its fingerprint only for an anonymous attack finding in an
// anonymous incident (so that benign users of a common browser never link,
// nor do principals).
func (c *Correlator) index(in *incident, f *vigil.Finding, opening bool) {
	p := principalOf(f)
	var ks []string
	if p != "" {
		ks = append(ks, string(vigil.KeyPrincipal)+":"+p)
	}
	if k := f.Actor.KeyOf(vigil.KeyAddr); k != "" {
		ks = append(ks, k)
	}
	if p == "" && opening && len(in.principals) == 0 {
		if k := f.Actor.KeyOf(vigil.KeyFingerprint); k != "" {
			ks = append(ks, k)
		}
	}
	for _, k := range ks {
		if _, taken := c.keys[k]; taken || len(in.keys) >= maxKeys {
			continue
		}
		c.keys[k] = in
		in.keys = append(in.keys, k)
	}
}

// wait keeps a finding that opens nothing, in case its actor's incident
// comes within the idle window.
func (c *Correlator) wait(f *vigil.Finding, stage vigil.Stage) {
	k := waitKey(f.Actor)
	var ws []waitingFinding
	if p, ok := c.waiting.Get(k); ok {
		ws = *p
	}
	if len(ws) >= MaxWaitingPerKey {
		ws = ws[1:]
	}
	ws = append(ws, waitingFinding{f: *f, stage: stage})
	c.waiting.Put(k, ws)
	c.st.waited.Add(1)
}

// waitKey is the key findings wait under: the actor's address, or its
// primary key when it has none.
func waitKey(a vigil.Actor) string {
	if k := a.KeyOf(vigil.KeyAddr); k != "" {
		return k
	}
	return a.Key()
}

// fold adds to the incident the findings waiting under the actor's address.
func (c *Correlator) fold(in *incident, a vigil.Actor) {
	ws, ok := c.waiting.Delete(waitKey(a))
	if !ok {
		return
	}
	for i := range ws {
		w := &ws[i]
		t := c.findingTime(&w.f)
		if c.clock.Sub(t) > c.cfg.Idle {
			continue
		}
		if p := principalOf(&w.f); p != "" && !in.accepts(p) {
			continue // another principal behind the same address
		}
		if in.join(c, &w.f, w.stage, t) {
			c.st.joined.Add(1)
			c.index(in, &w.f, false)
		}
	}
}

// newIncident opens an incident, closing the least recently active one at
// the cap.
func (c *Correlator) newIncident(t time.Time) *incident {
	c.seq++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], binary.BigEndian.Uint64(c.idBase[:])+c.seq*0x9E3779B97F4A7C15)
	in := &incident{inc: vigil.Incident{ID: "i" + hex.EncodeToString(b[:]), FirstSeen: t, LastSeen: t}}
	if old, ok := c.open.Put(in.inc.ID, in); ok {
		c.st.evicted.Add(1)
		c.retire(old)
	}
	c.st.opened.Add(1)
	c.st.open.Store(int64(c.open.Len()))
	return in
}

// sweep closes the incidents idle for longer than the idle window, from the
// least recently active end.
func (c *Correlator) sweep() {
	for range 16 {
		_, p, ok := c.open.Oldest()
		if !ok {
			return
		}
		in := *p
		if c.clock.Sub(in.inc.LastSeen) <= c.cfg.Idle {
			return
		}
		c.open.Delete(in.inc.ID)
		c.st.closed.Add(1)
		c.retire(in)
	}
}

// retire closes an incident that left the open set: unindexed, saved closed.
func (c *Correlator) retire(in *incident) {
	for _, k := range in.keys {
		if c.keys[k] == in {
			delete(c.keys, k)
		}
	}
	in.keys = nil
	in.inc.Closed = true
	delete(c.dirty, in)
	c.outInc = capOutbox(c, append(c.outInc, in.snapshot()))
	c.st.open.Store(int64(c.open.Len()))
}

// merge moves from into into: one actor's two incidents. from is kept,
// closed, with MergedInto set.
func (c *Correlator) merge(from, into *incident) {
	c.open.Delete(from.inc.ID)
	into.absorb(c, from)
	for _, k := range from.keys {
		if c.keys[k] == from {
			delete(c.keys, k)
			if len(into.keys) < maxKeys {
				c.keys[k] = into
				into.keys = append(into.keys, k)
			}
		}
	}
	from.keys = nil
	from.inc.MergedInto = into.inc.ID
	from.inc.Closed = true
	delete(c.dirty, from)
	c.outInc = capOutbox(c, append(c.outInc, from.snapshot()))
	c.dirty[into] = true
	c.st.merged.Add(1)
	c.st.open.Store(int64(c.open.Len()))
}

// emit queues a stage finding.
func (c *Correlator) emit(f vigil.Finding) {
	c.st.stageFindings.Add(1)
	c.outFind = capOutbox(c, append(c.outFind, f))
}
