package respond

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"github.com/vigilsec/vigil/internal/lru"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Recorder takes the actions a Responder issues; a vigil.Store is one. An
// action with the ID of an earlier one replaces it (an escalation).
type Recorder interface {
	PutAction(ctx context.Context, a vigil.Action) error
}

// Bounds on a Responder's memory.
const (
	// DefaultMaxKeys caps the actor keys a Responder remembers actions for,
	// and separately the threshold counters (one per rule and actor key).
	// At the cap the least recently used entry is forgotten. Both at this
	// cap take about 34 MiB of heap, flat however many actors come by (about
	// 175 bytes an entry with keys of ~25 bytes; see TestBoundedMemory).
	DefaultMaxKeys = 100_000
	// DefaultMaxPending caps the actions kept for a retry after the
	// Recorder failed; beyond it the oldest are dropped and counted.
	DefaultMaxPending = 10_000
)

// Option configures a Responder.
type Option func(*Responder)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) Option { return func(r *Responder) { r.now = now } }

// WithMaxKeys sets the cap on remembered actor keys and on threshold counters
// (DefaultMaxKeys; at least 1).
func WithMaxKeys(n int) Option { return func(r *Responder) { r.maxKeys = max(1, n) } }

// WithMaxPending sets the cap on actions waiting for a retry
// (DefaultMaxPending; at least 1).
func WithMaxPending(n int) Option { return func(r *Responder) { r.maxPending = max(1, n) } }

// Responder is a vigil.Sink that applies a policy to findings and hands the
// actions it calls for to a Recorder:
//
//   - Thresholds are counted per rule and actor key, within the rule's
//     window, on the findings' times; a finding counted twice (same ID, e.g.
//     a batch the pipeline retries) counts once.
//   - While an action is in force for a key, a finding that calls for the
//     same kind or a weaker one writes nothing (counted as suppressed); a
//     stronger one (monitor < rate-limit < tarpit < decoy < block) replaces it: it is
//     written with the same ID, which the store replaces. In monitor mode the
//     kinds compared are those the rules name.
//   - A finding whose actor has no key of the rule's kind is not acted on
//     (counted as unkeyed).
//   - When the Recorder fails, WriteFindings returns the error and keeps the
//     action; it is retried, oldest first, at the next WriteFindings (or
//     Flush) until the Recorder takes it. At most DefaultMaxPending wait;
//     beyond, the oldest is dropped and counted. Nothing is lost silently.
//
// Memory is bounded: see DefaultMaxKeys. What a Responder remembers is lost
// when the process ends; Remember primes it from the store at start.
//
// A Responder is safe for concurrent use; calls are serialized.
type Responder struct {
	// cur is the policy in force; calls that use it hold mu, except Stops,
	// which reads it without a lock.
	cur        atomic.Pointer[Policy]
	rec        Recorder
	now        func() time.Time
	maxKeys    int
	maxPending int
	seed       maphash.Seed

	mu       sync.Mutex
	issued   *lru.Cache[issued] // by actor key
	counters *lru.Cache[[]hit]  // by rule and actor key
	pending  []vigil.Action     // oldest first
	pendBase int                // how many have left pending's front
	pendIdx  map[string]int     // pending position (pendBase-relative) by action ID
	ids      [8]byte            // random base for action IDs
	seq      uint64

	st counters
}

// issued is what a Responder remembers of the action in force for a key.
type issued struct {
	id      uint64
	until   int64 // unix nanoseconds
	kind    uint8 // rank of the kind the rule named
	foreign bool  // primed by Remember from an action a person added
}

// hit is one finding counted towards a threshold.
type hit struct {
	at int64  // unix nanoseconds
	id uint64 // hash of the finding's ID, 0 when it has none
}

type counters struct {
	findings, matched, suppressed, below, unkeyed atomic.Int64
	escalations, recorderErrors, dropped, evicted atomic.Int64
	written, decided                              [6]atomic.Int64 // by rank
	keys, thresholds, pending                     atomic.Int64
}

// Stats are a Responder's counters since it was made.
type Stats struct {
	Findings int64 // findings seen
	Matched  int64 // findings a rule matched
	// Actions counts the actions written (including retries that
	// succeeded and escalations), by the kind written: all monitor in
	// monitor mode.
	Actions map[vigil.ActionKind]int64
	// Decided counts the same actions by the kind the rule named.
	Decided     map[vigil.ActionKind]int64
	Escalations int64 // actions that replaced a weaker one in force
	// Suppressed counts matching findings that wrote nothing because an
	// action as strong was in force for the key.
	Suppressed int64
	// BelowThreshold counts matching findings counted towards a threshold
	// not (yet) reached.
	BelowThreshold int64
	// Unkeyed counts matching findings whose actor had no key of the
	// rule's kind (no principal and no address, by default).
	Unkeyed        int64
	RecorderErrors int64 // failed PutAction calls
	Pending        int   // actions waiting for a retry
	Dropped        int64 // actions given up: the pending queue was full
	Keys           int   // actor keys remembered
	Thresholds     int   // threshold counters
	Evicted        int64 // keys and counters forgotten at the caps
}

// rank orders the kinds for escalation; 0 is none.
func rank(k vigil.ActionKind) uint8 {
	switch k {
	case vigil.ActionMonitor:
		return 1
	case vigil.ActionRateLimit:
		return 2
	case vigil.ActionTarpit:
		return 3
	case vigil.ActionDecoy:
		return 4
	case vigil.ActionBlock:
		return 5
	}
	return 0
}

var kindOfRank = [6]vigil.ActionKind{"", vigil.ActionMonitor, vigil.ActionRateLimit, vigil.ActionTarpit, vigil.ActionDecoy, vigil.ActionBlock}

// NewResponder returns a Responder applying a copy of p (nil: DefaultPolicy)
// and writing to rec.
func NewResponder(p *Policy, rec Recorder, opts ...Option) *Responder {
	if p == nil {
		p = DefaultPolicy()
	}
	r := &Responder{
		rec:        rec,
		now:        time.Now,
		maxKeys:    DefaultMaxKeys,
		maxPending: DefaultMaxPending,
		seed:       maphash.MakeSeed(),
		pendIdx:    make(map[string]int),
	}
	for _, o := range opts {
		o(r)
	}
	r.cur.Store(p.clone())
	r.issued = lru.New[issued](r.maxKeys)
	r.counters = lru.New[[]hit](r.maxKeys)
	_, _ = rand.Read(r.ids[:])
	return r
}

// Policy returns a copy of the policy the Responder applies.
func (r *Responder) Policy() *Policy { return r.cur.Load().clone() }

// SetPolicy replaces the policy (a reload). It waits for a WriteFindings in
// progress and applies to the findings after it. The actions in force stay
// remembered, so a reload does not issue them again; threshold counts start
// again, since the rules they counted for may have changed. p must be valid
// (Validate).
func (r *Responder) SetPolicy(p *Policy) {
	c := p.clone()
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.gauges()
	r.cur.Store(c)
	r.counters = lru.New[[]hit](r.maxKeys)
}

// Stops reports whether the policy in force stops a request in line on this
// finding (Policy.Stops). It takes no lock and is safe for concurrent use.
func (r *Responder) Stops(f *vigil.Finding) bool { return r.cur.Load().Stops(f) }

// newID returns a fresh action ID: "a" and 16 hex digits, like the ones
// `vigil actions add` makes.
func (r *Responder) newID() uint64 {
	r.seq++
	return binary.BigEndian.Uint64(r.ids[:]) + r.seq*0x9E3779B97F4A7C15
}

func formatID(id uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return "a" + hex.EncodeToString(b[:])
}

// WriteFindings applies the policy to the findings and writes the actions
// they call for. Actions that failed earlier are retried first. It returns
// the Recorder's error when an action could not be written; such actions
// are kept for the next call (see Responder).
func (r *Responder) WriteFindings(ctx context.Context, fs []vigil.Finding) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.gauges()
	err := r.retry(ctx)
	failed := err != nil
	for i := range fs {
		a, ok := r.apply(&fs[i])
		if !ok {
			continue
		}
		if failed {
			// The Recorder is failing: do not wait on it for each action.
			r.enqueue(a)
			continue
		}
		if e := r.put(ctx, a); e != nil {
			err, failed = e, true
		}
	}
	if err != nil {
		return fmt.Errorf("respond: %d action(s) not recorded, kept for a retry: %w", len(r.pending), err)
	}
	return nil
}

// Flush retries the actions a failing Recorder did not take. Call it before
// the process ends.
func (r *Responder) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.gauges()
	if err := r.retry(ctx); err != nil {
		return fmt.Errorf("respond: %d action(s) not recorded, kept for a retry: %w", len(r.pending), err)
	}
	return nil
}

// retry writes the pending actions, oldest first, stopping at the first
// failure.
func (r *Responder) retry(ctx context.Context) error {
	for len(r.pending) > 0 {
		a := r.pending[0]
		if err := r.rec.PutAction(ctx, a); err != nil {
			r.st.recorderErrors.Add(1)
			return err
		}
		r.countWritten(a)
		r.popPending()
	}
	r.pending, r.pendBase = nil, 0
	clear(r.pendIdx)
	return nil
}

// put writes a, or keeps it for a retry.
func (r *Responder) put(ctx context.Context, a vigil.Action) error {
	if err := r.rec.PutAction(ctx, a); err != nil {
		r.st.recorderErrors.Add(1)
		r.enqueue(a)
		return err
	}
	r.countWritten(a)
	return nil
}

func (r *Responder) countWritten(a vigil.Action) {
	r.st.written[rank(a.Kind)].Add(1)
	r.st.decided[rank(intendedKind(a))].Add(1)
}

// enqueue keeps a for a retry; an escalation replaces the pending action it
// escalates (same ID), so that a retry never writes the weaker one last.
func (r *Responder) enqueue(a vigil.Action) {
	if i, ok := r.pendIdx[a.ID]; ok {
		r.pending[i-r.pendBase] = a
		return
	}
	if len(r.pending) >= r.maxPending {
		r.popPending()
		r.st.dropped.Add(1)
	}
	r.pendIdx[a.ID] = r.pendBase + len(r.pending)
	r.pending = append(r.pending, a)
}

// popPending removes the oldest pending action.
func (r *Responder) popPending() {
	delete(r.pendIdx, r.pending[0].ID)
	r.pending[0] = vigil.Action{}
	r.pending = r.pending[1:]
	r.pendBase++
}

// apply runs the policy and the Responder's memory on one finding and
// returns the action to write, if any.
func (r *Responder) apply(f *vigil.Finding) (vigil.Action, bool) {
	r.st.findings.Add(1)
	now := r.now()
	pol := r.cur.Load()
	d := pol.decide(f, now)
	if d.rule < 0 {
		return vigil.Action{}, false
	}
	r.st.matched.Add(1)
	if d.intended == ActionNone {
		return vigil.Action{}, false
	}
	if d.key == "" {
		r.st.unkeyed.Add(1)
		return vigil.Action{}, false
	}
	at := d.created.UnixNano()
	r.sweep(at)

	want := rank(d.intended)
	var escalate *issued
	if in, ok := r.issued.Get(d.key); ok {
		if in.until > at {
			if in.kind >= want {
				r.st.suppressed.Add(1)
				return vigil.Action{}, false
			}
			escalate = in
		} else {
			r.issued.Delete(d.key) // expired: forgotten
		}
	}

	rule := &pol.Rules[d.rule]
	if n := rule.threshold(); n > 1 {
		if !r.count(d.rule, d.key, f.ID, at, n, rule.window()) {
			r.st.below.Add(1)
			return vigil.Action{}, false
		}
	}

	a := pol.action(f, d)
	var id uint64
	if escalate != nil {
		r.st.escalations.Add(1)
	}
	if escalate != nil && !escalate.foreign {
		// Replace the weaker action: same ID, and it lasts at least
		// as long.
		id = escalate.id
		if u := time.Unix(0, escalate.until); u.After(a.Until) {
			a.Until = u
		}
	} else {
		id = r.newID()
	}
	a.ID = formatID(id)
	if _, evicted := r.issued.Put(d.key, issued{id: id, until: a.Until.UnixNano(), kind: want}); evicted {
		r.st.evicted.Add(1)
	}
	return a, true
}

// count adds a finding to the rule's counter for key and reports whether the
// threshold is reached (then the counter starts again).
func (r *Responder) count(rule int, key, findingID string, at int64, n int, window time.Duration) bool {
	ck := strconv.Itoa(rule) + "\x00" + key
	var fid uint64
	if findingID != "" {
		fid = maphash.String(r.seed, findingID)
	}
	hp, ok := r.counters.Get(ck)
	var hits []hit
	if ok {
		hits = *hp
	}
	if fid != 0 {
		for _, h := range hits {
			if h.id == fid {
				return false // counted already
			}
		}
	}
	hits = append(hits, hit{at: at, id: fid})
	// Keep the hits within the window of the newest.
	newest := at
	for _, h := range hits {
		newest = max(newest, h.at)
	}
	kept := hits[:0]
	for _, h := range hits {
		if h.at > newest-int64(window) {
			kept = append(kept, h)
		}
	}
	hits = kept
	if len(hits) >= n {
		r.counters.Delete(ck)
		return true
	}
	if ok {
		*hp = hits
	} else if _, evicted := r.counters.Put(ck, hits); evicted {
		r.st.evicted.Add(1)
	}
	return false
}

// sweep forgets expired actions and stale counters from the least recently
// used end, where they gather.
func (r *Responder) sweep(at int64) {
	for range 8 {
		k, v, ok := r.issued.Oldest()
		if !ok || v.until > at {
			break
		}
		r.issued.Delete(k)
	}
	pol := r.cur.Load()
	for range 8 {
		k, v, ok := r.counters.Oldest()
		if !ok {
			break
		}
		rule, _, _ := strings.Cut(k, "\x00")
		i, _ := strconv.Atoi(rule)
		if i >= len(pol.Rules) {
			r.counters.Delete(k)
			continue
		}
		w := int64(pol.Rules[i].window())
		stale := true
		for _, h := range *v {
			if h.at > at-w {
				stale = false
				break
			}
		}
		if !stale {
			break
		}
		r.counters.Delete(k)
	}
}

func (r *Responder) gauges() {
	r.st.keys.Store(int64(r.issued.Len()))
	r.st.thresholds.Store(int64(r.counters.Len()))
	r.st.pending.Store(int64(len(r.pending)))
}

// Stats returns the Responder's counters. It does not wait for a call in
// progress.
func (r *Responder) Stats() Stats {
	s := &r.st
	out := Stats{
		Findings:       s.findings.Load(),
		Matched:        s.matched.Load(),
		Actions:        make(map[vigil.ActionKind]int64),
		Decided:        make(map[vigil.ActionKind]int64),
		Escalations:    s.escalations.Load(),
		Suppressed:     s.suppressed.Load(),
		BelowThreshold: s.below.Load(),
		Unkeyed:        s.unkeyed.Load(),
		RecorderErrors: s.recorderErrors.Load(),
		Pending:        int(s.pending.Load()),
		Dropped:        s.dropped.Load(),
		Keys:           int(s.keys.Load()),
		Thresholds:     int(s.thresholds.Load()),
		Evicted:        s.evicted.Load(),
	}
	for i := 1; i < len(kindOfRank); i++ {
		if n := s.written[i].Load(); n > 0 {
			out.Actions[kindOfRank[i]] = n
		}
		if n := s.decided[i].Load(); n > 0 {
			out.Decided[kindOfRank[i]] = n
		}
	}
	return out
}

// intendedKind is the kind an action stands for: its Kind, or for a monitor
// action written in monitor mode the kind its Reason says it would have been.
func intendedKind(a vigil.Action) vigil.ActionKind {
	if a.Kind == vigil.ActionMonitor && strings.HasPrefix(a.Reason, monitorPrefix) {
		rest := a.Reason[len(monitorPrefix):]
		for _, k := range []vigil.ActionKind{vigil.ActionBlock, vigil.ActionRateLimit, vigil.ActionTarpit, vigil.ActionDecoy} {
			if strings.HasPrefix(rest, string(k)) {
				return k
			}
		}
	}
	return a.Kind
}

// Remember primes the Responder with actions already in force at now, e.g.
// the store's at start (store.Actions(ctx, now)), so that a restart does
// not issue them again. An escalation of one of them reuses its ID.
// Actions without a key, or whose ID is not of the form Vigil makes, are
// ignored. An escalation replaces (same ID) only the actions a Responder
// wrote; against one a person added, it writes a new action beside it.
func (r *Responder) Remember(acts []vigil.Action, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.gauges()
	for _, a := range acts {
		if a.Key == "" || !a.Active(now) {
			continue
		}
		id, ok := parseID(a.ID)
		if !ok {
			continue
		}
		k := rank(intendedKind(a))
		if k == 0 {
			continue
		}
		if in, ok := r.issued.Get(a.Key); ok && in.until > now.UnixNano() && in.kind >= k {
			continue
		}
		own := strings.HasPrefix(a.Reason, "rule ") || strings.HasPrefix(a.Reason, monitorPrefix)
		if _, evicted := r.issued.Put(a.Key, issued{id: id, until: a.Until.UnixNano(), kind: k, foreign: !own}); evicted {
			r.st.evicted.Add(1)
		}
	}
}

func parseID(s string) (uint64, bool) {
	if len(s) != 17 || s[0] != 'a' {
		return 0, false
	}
	b, err := hex.DecodeString(s[1:])
	if err != nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
