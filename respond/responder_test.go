package respond

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// memRecorder keeps what it is given, like the store: by ID, replacing.
type memRecorder struct {
	mu    sync.Mutex
	calls []vigil.Action // every successful PutAction, in order
	byID  map[string]vigil.Action
	fail  error
}

func newMemRecorder() *memRecorder { return &memRecorder{byID: map[string]vigil.Action{}} }

func (m *memRecorder) PutAction(ctx context.Context, a vigil.Action) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if a.ID == "" || a.Key == "" {
		return errors.New("id and key required")
	}
	m.calls = append(m.calls, a)
	m.byID[a.ID] = a
	return nil
}

func (m *memRecorder) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

func (m *memRecorder) snapshot() []vigil.Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]vigil.Action(nil), m.calls...)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testPolicy(mode string) *Policy {
	return &Policy{Mode: mode, Rules: []Rule{
		{Name: "block", Detectors: []string{"d.block"}, Action: vigil.ActionBlock, TTL: 15 * time.Minute},
		{Name: "tarpit", Detectors: []string{"d.tarpit"}, Action: vigil.ActionTarpit, TTL: 30 * time.Minute},
		{Name: "limit", Detectors: []string{"d.limit"}, Action: vigil.ActionRateLimit, TTL: 15 * time.Minute},
		{Name: "watch", Detectors: []string{"d.watch"}, Action: vigil.ActionMonitor, TTL: 15 * time.Minute},
		{Name: "thrice", Detectors: []string{"d.three"}, Action: vigil.ActionBlock, Threshold: 3, Window: 10 * time.Minute},
	}}
}

var seq int

// fnd is a finding from addr with a fresh ID and no time (the clock's now).
func fnd(detector, addr string) vigil.Finding {
	seq++
	return vigil.Finding{ID: fmt.Sprintf("f%d", seq), Detector: detector, Severity: vigil.SeverityHigh, Confidence: 1,
		Actor: vigil.Actor{Addr: addr}, Title: "title"}
}

func write(t *testing.T, r *Responder, fs ...vigil.Finding) {
	t.Helper()
	if err := r.WriteFindings(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
}

func TestThreshold(t *testing.T) {
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(ck.now))

	// Two within the window: nothing.
	write(t, r, fnd("d.three", "192.0.2.1"))
	ck.add(time.Minute)
	write(t, r, fnd("d.three", "192.0.2.1"))
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("2 findings wrote %d actions", n)
	}
	// Another actor's findings do not count towards this one's.
	write(t, r, fnd("d.three", "192.0.2.2"), fnd("d.three", "192.0.2.2"))
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("other actor: %d actions", n)
	}
	// The third within 10m: one action.
	ck.add(time.Minute)
	write(t, r, fnd("d.three", "192.0.2.1"))
	acts := rec.snapshot()
	if len(acts) != 1 || acts[0].Kind != vigil.ActionBlock || acts[0].Key != "addr:192.0.2.1" {
		t.Fatalf("3 findings: %+v", acts)
	}
	if !strings.Contains(acts[0].Reason, "(3 findings within 10m)") {
		t.Errorf("reason %q", acts[0].Reason)
	}
	st := r.Stats()
	if st.BelowThreshold != 4 || st.Actions[vigil.ActionBlock] != 1 || st.Matched != 5 {
		t.Errorf("stats %+v", st)
	}

	// Window expiry: two, then the third 11 minutes after the first.
	write(t, r, fnd("d.three", "192.0.2.3"))
	ck.add(5 * time.Minute)
	write(t, r, fnd("d.three", "192.0.2.3"))
	ck.add(6 * time.Minute)
	write(t, r, fnd("d.three", "192.0.2.3"))
	if n := len(rec.snapshot()); n != 1 {
		t.Fatalf("findings spread over 11m wrote %d actions, want still 1", n)
	}
	// ... but the second and third are still in the window: a fourth acts.
	ck.add(time.Minute)
	write(t, r, fnd("d.three", "192.0.2.3"))
	if n := len(rec.snapshot()); n != 2 {
		t.Fatalf("fourth finding: %d actions, want 2", n)
	}
}

func TestThresholdFindingTimesAndReplay(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(func() time.Time { return t0 }))
	// Offline analysis: the findings' own times count, not the clock.
	old := t0.Add(-24 * time.Hour)
	mk := func(id string, at time.Time) vigil.Finding {
		f := fnd("d.three", "192.0.2.9")
		f.ID, f.Time = id, at
		return f
	}
	a, b := mk("a", old), mk("b", old.Add(20*time.Minute))
	write(t, r, a, b, mk("c", old.Add(25*time.Minute)))
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("a and c are 25m apart: %d actions", n)
	}
	// The same finding twice (a batch the pipeline retries) counts once.
	write(t, r, b)
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("a replayed finding counted: %d actions", n)
	}
	write(t, r, mk("d", old.Add(26*time.Minute)))
	acts := rec.snapshot()
	if len(acts) != 1 {
		t.Fatalf("b, c, d within 10m: %d actions", len(acts))
	}
	if !acts[0].Created.Equal(old.Add(26*time.Minute)) || !acts[0].Until.Equal(old.Add(41*time.Minute)) {
		t.Errorf("created %v until %v, want the finding's time + 15m", acts[0].Created, acts[0].Until)
	}
}

func TestNoDuplicatesWhileInForce(t *testing.T) {
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(ck.now))
	write(t, r, fnd("d.block", "192.0.2.1"))
	for range 5 {
		ck.add(time.Minute)
		write(t, r, fnd("d.block", "192.0.2.1"))
	}
	// A weaker action for the same key is no escalation either.
	write(t, r, fnd("d.limit", "192.0.2.1"), fnd("d.watch", "192.0.2.1"))
	acts := rec.snapshot()
	if len(acts) != 1 {
		t.Fatalf("%d actions while one was in force: %+v", len(acts), acts)
	}
	first := acts[0]
	if st := r.Stats(); st.Suppressed != 7 || st.Actions[vigil.ActionBlock] != 1 || st.Keys != 1 {
		t.Errorf("stats %+v", st)
	}
	// Another key is another matter.
	write(t, r, fnd("d.block", "192.0.2.2"))
	if n := len(rec.snapshot()); n != 2 {
		t.Fatalf("second key: %d actions", n)
	}
	// Once the action expires a finding acts again, with a new ID.
	ck.t = first.Until
	write(t, r, fnd("d.block", "192.0.2.1"))
	acts = rec.snapshot()
	if len(acts) != 3 || acts[2].ID == first.ID || acts[2].Key != first.Key {
		t.Fatalf("after expiry: %+v", acts)
	}
}

func TestEscalationReplaces(t *testing.T) {
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(ck.now))
	write(t, r, fnd("d.watch", "192.0.2.1"))
	ck.add(time.Minute)
	write(t, r, fnd("d.limit", "192.0.2.1"))
	ck.add(time.Minute)
	write(t, r, fnd("d.tarpit", "192.0.2.1"))
	ck.add(time.Minute)
	write(t, r, fnd("d.block", "192.0.2.1"))
	ck.add(time.Minute)
	write(t, r, fnd("d.tarpit", "192.0.2.1")) // weaker than block now: nothing
	acts := rec.snapshot()
	want := []vigil.ActionKind{vigil.ActionMonitor, vigil.ActionRateLimit, vigil.ActionTarpit, vigil.ActionBlock}
	if len(acts) != len(want) {
		t.Fatalf("got %d actions: %+v", len(acts), acts)
	}
	for i, a := range acts {
		if a.Kind != want[i] {
			t.Errorf("action %d: %s, want %s", i, a.Kind, want[i])
		}
		if a.ID != acts[0].ID {
			t.Errorf("escalation %d has ID %s, want %s (replacing)", i, a.ID, acts[0].ID)
		}
	}
	if len(rec.byID) != 1 || rec.byID[acts[0].ID].Kind != vigil.ActionBlock {
		t.Errorf("the store holds %+v, want the block alone", rec.byID)
	}
	// The block replaced a 30m tarpit: it lasts at least as long.
	if got, want := acts[3].Until, acts[2].Until; !got.Equal(want) {
		t.Errorf("block until %v, want the tarpit's %v", got, want)
	}
	if st := r.Stats(); st.Escalations != 3 || st.Suppressed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestMonitorMode(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeMonitor), rec, WithClock(func() time.Time { return t0 }))
	write(t, r, fnd("d.limit", "192.0.2.1"), fnd("d.limit", "192.0.2.1"), fnd("d.block", "192.0.2.1"), fnd("d.tarpit", "192.0.2.2"))
	acts := rec.snapshot()
	if len(acts) != 3 {
		t.Fatalf("got %d actions: %+v", len(acts), acts)
	}
	wantReason := []string{"monitor mode, would rate-limit at 1/s: rule limit:", "monitor mode, would block: rule block:", "monitor mode, would tarpit by 2s: rule tarpit:"}
	for i, a := range acts {
		if a.Kind != vigil.ActionMonitor || a.Rate != 0 || a.Delay != 0 {
			t.Errorf("action %d written as %s rate %v delay %v", i, a.Kind, a.Rate, a.Delay)
		}
		if !strings.HasPrefix(a.Reason, wantReason[i]) {
			t.Errorf("reason %q, want prefix %q", a.Reason, wantReason[i])
		}
	}
	// The would-be block escalated the would-be rate-limit: same ID.
	if acts[1].ID != acts[0].ID {
		t.Error("monitor-mode escalation did not replace")
	}
	st := r.Stats()
	if st.Actions[vigil.ActionMonitor] != 3 || len(st.Actions) != 1 ||
		st.Decided[vigil.ActionBlock] != 1 || st.Decided[vigil.ActionRateLimit] != 1 || st.Decided[vigil.ActionTarpit] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnkeyed(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec)
	f := fnd("d.block", "")
	f.Actor = vigil.Actor{Fingerprint: "only-a-fingerprint"}
	write(t, r, f)
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("acted on an actor with no principal and no address: %d", n)
	}
	if st := r.Stats(); st.Unkeyed != 1 || st.Matched != 1 {
		t.Errorf("stats %+v", st)
	}
	// A principal is preferred to the address.
	f = fnd("d.block", "192.0.2.1")
	f.Actor.Principal = "apikey:abc"
	write(t, r, f)
	if acts := rec.snapshot(); len(acts) != 1 || acts[0].Key != "principal:apikey:abc" {
		t.Fatalf("%+v", acts)
	}
}

func TestRecorderFailureRetried(t *testing.T) {
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(ck.now))
	boom := errors.New("disk full")
	rec.setFail(boom)
	batch := []vigil.Finding{fnd("d.limit", "192.0.2.1"), fnd("d.tarpit", "192.0.2.2")}
	err := r.WriteFindings(context.Background(), batch)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "2 action(s) not recorded") {
		t.Fatalf("err = %v", err)
	}
	if st := r.Stats(); st.Pending != 2 || st.RecorderErrors != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v (the recorder is tried once per call while it fails)", st)
	}
	// The pipeline retries the batch: no duplicate is queued.
	if err := r.WriteFindings(context.Background(), batch); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	// An escalation while failing replaces the pending action.
	ck.add(time.Minute)
	if err := r.WriteFindings(context.Background(), []vigil.Finding{fnd("d.block", "192.0.2.1")}); err == nil {
		t.Fatal("no error")
	}
	if st := r.Stats(); st.Pending != 2 {
		t.Errorf("pending %d, want 2", st.Pending)
	}
	// The recorder recovers: the next call writes what was kept, oldest first.
	rec.setFail(nil)
	write(t, r)
	acts := rec.snapshot()
	if len(acts) != 2 || acts[0].Kind != vigil.ActionBlock || acts[0].Key != "addr:192.0.2.1" ||
		acts[1].Kind != vigil.ActionTarpit || acts[1].Key != "addr:192.0.2.2" {
		t.Fatalf("after recovery: %+v", acts)
	}
	if st := r.Stats(); st.Pending != 0 || st.Dropped != 0 || st.Actions[vigil.ActionBlock] != 1 {
		t.Errorf("stats %+v", st)
	}
	// Flush does the same without findings.
	rec.setFail(boom)
	_ = r.WriteFindings(context.Background(), []vigil.Finding{fnd("d.block", "192.0.2.3")})
	rec.setFail(nil)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.snapshot()); n != 3 {
		t.Fatalf("after Flush: %d actions", n)
	}
}

func TestPendingOverflowCounted(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithMaxPending(2))
	rec.setFail(errors.New("down"))
	_ = r.WriteFindings(context.Background(), []vigil.Finding{fnd("d.block", "192.0.2.1"), fnd("d.block", "192.0.2.2"), fnd("d.block", "192.0.2.3")})
	if st := r.Stats(); st.Pending != 2 || st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	rec.setFail(nil)
	write(t, r)
	acts := rec.snapshot()
	if len(acts) != 2 || acts[0].Key != "addr:192.0.2.2" || acts[1].Key != "addr:192.0.2.3" {
		t.Fatalf("the oldest should have been dropped: %+v", acts)
	}
}

func TestRemember(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(func() time.Time { return t0 }))
	own := vigil.Action{ID: "a0000000000000001", Kind: vigil.ActionRateLimit, Key: "addr:192.0.2.1", Created: t0.Add(-time.Minute), Until: t0.Add(time.Hour), Reason: "rule limit: d.limit: x"}
	hand := vigil.Action{ID: "a00000000000000ff", Kind: vigil.ActionTarpit, Key: "addr:192.0.2.2", Created: t0, Until: t0.Add(time.Hour), Reason: "added by hand", Source: "cli"}
	expired := vigil.Action{ID: "a0000000000000002", Kind: vigil.ActionBlock, Key: "addr:192.0.2.3", Created: t0.Add(-2 * time.Hour), Until: t0.Add(-time.Hour), Reason: "rule block: d.block: x"}
	r.Remember([]vigil.Action{own, hand, expired}, t0)
	write(t, r, fnd("d.limit", "192.0.2.1"), fnd("d.tarpit", "192.0.2.2"), fnd("d.block", "192.0.2.3"))
	acts := rec.snapshot()
	if len(acts) != 1 || acts[0].Key != "addr:192.0.2.3" {
		t.Fatalf("remembered actions were issued again: %+v", acts)
	}
	// Escalating our own reuses its ID; one added by hand is left alone.
	write(t, r, fnd("d.block", "192.0.2.1"), fnd("d.block", "192.0.2.2"))
	acts = rec.snapshot()
	if len(acts) != 3 || acts[1].ID != own.ID || acts[2].ID == hand.ID {
		t.Fatalf("%+v", acts)
	}
}

func TestPolicyIsCopied(t *testing.T) {
	p := testPolicy(ModeEnforce)
	rec := newMemRecorder()
	r := NewResponder(p, rec)
	p.Rules[0].Action = vigil.ActionMonitor
	p.Mode = ModeMonitor
	write(t, r, fnd("d.block", "192.0.2.1"))
	if acts := rec.snapshot(); len(acts) != 1 || acts[0].Kind != vigil.ActionBlock {
		t.Fatalf("%+v", acts)
	}
	if r.Policy().Rules[0].Action != vigil.ActionBlock {
		t.Error("Policy() does not return the policy applied")
	}
}

// TestConcurrent writes from many goroutines: no key ever gets two actions
// (escalations reuse the one ID), and the race detector stays quiet.
func TestConcurrent(t *testing.T) {
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec)
	kinds := []string{"d.watch", "d.limit", "d.tarpit", "d.block", "d.three"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				var batch []vigil.Finding
				for j := range 4 {
					f := vigil.Finding{ID: fmt.Sprintf("g%d-%d-%d", g, i, j), Detector: kinds[(g+i+j)%len(kinds)],
						Severity: vigil.SeverityHigh, Actor: vigil.Actor{Addr: fmt.Sprintf("10.0.0.%d", (i*7+j)%50)}}
					batch = append(batch, f)
				}
				if err := r.WriteFindings(context.Background(), batch); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					_ = r.Stats()
				}
			}
		})
	}
	wg.Wait()
	ids := map[string]string{} // key → ID
	var prev = map[string]vigil.ActionKind{}
	for _, a := range rec.snapshot() {
		if id, ok := ids[a.Key]; ok && id != a.ID {
			t.Errorf("key %s got two actions: %s and %s", a.Key, id, a.ID)
		}
		ids[a.Key] = a.ID
		if rank(a.Kind) <= rank(prev[a.Key]) {
			t.Errorf("key %s: %s after %s is no escalation", a.Key, a.Kind, prev[a.Key])
		}
		prev[a.Key] = a.Kind
	}
	if len(ids) != 50 {
		t.Errorf("%d keys acted on, want 50", len(ids))
	}
	st := r.Stats()
	if st.Findings != 8*500*4 {
		t.Errorf("findings %d", st.Findings)
	}
	var written int64
	for _, n := range st.Actions {
		written += n
	}
	if int(written) != len(rec.snapshot()) {
		t.Errorf("stats count %d actions, recorder has %d", written, len(rec.snapshot()))
	}
}

type discard struct{}

func (discard) PutAction(context.Context, vigil.Action) error { return nil }

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestBoundedMemory sends findings from 1,000,000 distinct actors, to a rule
// that acts at once and to one with a threshold: the Responder keeps at most
// DefaultMaxKeys of each, and its heap stops growing at the cap.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 findings")
	}
	const total = 1_000_000
	base := heapInUse()
	ck := &clock{t: t0}
	r := NewResponder(testPolicy(ModeEnforce), discard{}, WithClock(ck.now))
	batch := make([]vigil.Finding, 0, 1000)
	// Both LRUs fill at 200,000 findings; by 400,000 every entry has been
	// replaced once, and the maps have reached their working size.
	var settled uint64
	for i := range total {
		// Distinct actors; half act at once, half count towards a
		// threshold of 3 that is never reached.
		det := "d.block"
		if i%2 == 1 {
			det = "d.three"
		}
		batch = append(batch, vigil.Finding{ID: fmt.Sprintf("f%d", i), Detector: det, Severity: vigil.SeverityHigh,
			Actor: vigil.Actor{Addr: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Principal: fmt.Sprintf("jwt:user-%07d", i)}})
		if len(batch) == cap(batch) {
			if err := r.WriteFindings(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
		if i+1 == 4*DefaultMaxKeys {
			settled = heapInUse()
		}
	}
	final := heapInUse()
	st := r.Stats()
	if st.Keys != DefaultMaxKeys || st.Thresholds != DefaultMaxKeys {
		t.Errorf("keys %d, counters %d: want both at the cap %d", st.Keys, st.Thresholds, DefaultMaxKeys)
	}
	if st.Evicted != total-2*DefaultMaxKeys {
		t.Errorf("evicted %d, want %d", st.Evicted, total-2*DefaultMaxKeys)
	}
	mb := func(b uint64) float64 { return float64(b-min(b, base)) / (1 << 20) }
	t.Logf("heap over the start: %.1f MiB after %d findings, %.1f MiB after %d (%d keys and %d counters, %.0f bytes per entry)",
		mb(settled), 4*DefaultMaxKeys, mb(final), total, st.Keys, st.Thresholds, mb(final)*(1<<20)/float64(2*DefaultMaxKeys))
	if mb(final) > mb(settled)*1.1+2 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB: not flat", mb(settled), mb(final))
	}
	if mb(final) > 48 {
		t.Errorf("%.1f MiB for %d keys and %d counters: more than the 48 MiB allowed", mb(final), DefaultMaxKeys, DefaultMaxKeys)
	}
}
