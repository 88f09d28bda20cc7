package behavior

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/internal/sketch"
)

// FlowDetector finds business flows completed out of order: a step of a
// flow answered 2xx without a 2xx of every earlier step marked NeedsSuccess,
// by the same actor (vigil.Actor.Key) and within Config.Window before. With
// DefaultFlows, a checkout confirmed without a successful payment raises
// behavior.flow-skip (high). Create it with NewFlows.
//
// A successful required step stays good for the whole window: paying once
// and confirming twice (a retry) is not a skip. A finding fires at most once
// per actor and flow per window.
//
// # Velocity
//
// The detector also learns how often actors complete each flow (a 2xx of
// its last step) and raises behavior.flow-velocity (medium) for an actor
// completing one far more often than the others: within one window, at
// least max(10, 4 × N) where 99% of actors complete it at most N times a
// window, or at least 30 before 100 actor-windows were learned. What is
// learned is how many actor-windows reached 1, 2, 4, 8, … completions; a
// level counts as usual when at least 1% of them, and at least 3, reached
// it, and an actor teaches it only in its first two windows with
// completions, so one or two busy actors cannot raise the threshold. Once
// per actor and flow per window.
//
// # Memory
//
// Exchanges that match no step cost nothing and touch no lock. An actor that
// reaches a step costs about 100 bytes plus 24 bytes per step of all flows
// and 16 per flow: about 200 bytes with DefaultFlows (measured).
type FlowDetector struct {
	cfg    Config
	window int64
	flows  []cflow
	vel    []velocity
	nsteps int
	table  *actortable.Table[flowActor]
	counts counters
}

var _ vigil.Analyzer = (*FlowDetector)(nil)

// cflow is a flow ready for matching.
type cflow struct {
	name  string
	steps []cstep
	base  int // index of its first step in flowActor.steps
}

type cstep struct {
	name   string
	method string
	alts   [][]string // suffixes, as lower-case segments; "" matches any segment
	needs  bool
	text   string // the suffixes as configured, for evidence
}

// flowActor is what FlowDetector remembers of one actor.
type flowActor struct {
	steps []stepState // all flows' steps, flat
	flows []flowMark
}

type stepState struct {
	okAt, tryAt int64
	status      int32
	ok, tried   bool
}

type flowMark struct {
	fired     int64
	doneStart int64 // start of the window of completions
	velFired  int64
	done      uint32 // completions since doneStart
	taught    uint8  // earlier windows with completions (that taught the baseline)
	hasFired  bool
	velHas    bool
}

// velocity is what FlowDetector learns of one flow's completions.
type velocity struct {
	mu sync.Mutex
	// reach counts actor-windows by the powers of two of completions they
	// reached: bucket 1 those with at least 1, bucket 2 at least 2, bucket
	// 3 at least 4, …
	reach sketch.Hist
}

// Velocity thresholds of FlowDetector.
const (
	velocityMin        = 10
	velocityFactor     = 4
	velocityUnlearned  = 30
	velocityLearn      = 100 // actor-windows with a completion
	velocityMinSupport = 3   // actor-windows that make a level usual
	velocityTeach      = 2   // windows of one actor that teach the baseline
)

// maxMatches bounds the steps one exchange is matched to.
const maxMatches = 8

// NewFlows returns a flow-skipping detector; zero fields of cfg take the
// defaults. Invalid flows and flows beyond MaxFlows are ignored (see
// Config.Validate).
func NewFlows(cfg Config) *FlowDetector {
	cfg = cfg.withDefaults()
	d := &FlowDetector{cfg: cfg, window: int64(cfg.Window)}
	for _, f := range cfg.Flows {
		if len(d.flows) == MaxFlows {
			break
		}
		if f.check() != "" {
			continue
		}
		cf := cflow{name: f.Name, base: d.nsteps}
		for _, s := range f.Steps {
			cs := cstep{name: s.Name, method: strings.ToUpper(strings.TrimSpace(s.Method)), needs: s.NeedsSuccess, text: s.PathSuffix}
			if cs.name == "" {
				cs.name = "step " + strconv.Itoa(len(cf.steps)+1)
			}
			for _, alt := range splitSuffixes(s.PathSuffix) {
				cs.alts = append(cs.alts, suffixSegments(alt))
			}
			cf.steps = append(cf.steps, cs)
		}
		d.nsteps += len(cf.steps)
		d.flows = append(d.flows, cf)
	}
	d.vel = make([]velocity, len(d.flows))
	d.table = actortable.New[flowActor](cfg.MaxActors, &d.counts.Counts)
	return d
}

// splitSuffixes splits "a|b" into cleaned suffixes: each with a leading '/',
// no trailing '/', lower-cased; empty ones dropped.
func splitSuffixes(s string) []string {
	var out []string
	for alt := range strings.SplitSeq(s, "|") {
		alt = strings.Trim(strings.TrimSpace(alt), "/")
		if alt == "" {
			continue
		}
		out = append(out, "/"+strings.ToLower(alt))
	}
	return out
}

// suffixSegments splits a cleaned suffix into segments, a "{...}" segment
// becoming "" (any segment).
func suffixSegments(alt string) []string {
	segs := strings.Split(alt[1:], "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ""
		}
	}
	return segs
}

// Config returns the configuration in force, defaults filled in.
func (d *FlowDetector) Config() Config { return d.cfg }

// Stats returns the detector's counters.
func (d *FlowDetector) Stats() Stats { return d.counts.stats(DetectorFlowSkip, DetectorFlowVelocity) }

// matchSuffix reports whether path ends with the segments at a segment
// boundary, ignoring case and trailing slashes.
func matchSuffix(path string, segs []string) bool {
	path = strings.TrimRight(path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		j := strings.LastIndexByte(path, '/')
		if j < 0 {
			return false
		}
		seg := path[j+1:]
		path = path[:j]
		if segs[i] == "" {
			if seg == "" {
				return false
			}
		} else if !strings.EqualFold(seg, segs[i]) {
			return false
		}
	}
	return true
}

type flowMatch struct{ flow, step int }

// match finds the steps an exchange is.
func (d *FlowDetector) match(x *vigil.Exchange, out *[maxMatches]flowMatch) int {
	n := 0
	path := x.Request.Path()
	for fi := range d.flows {
		f := &d.flows[fi]
		for si := range f.steps {
			s := &f.steps[si]
			if s.method != "" && !strings.EqualFold(s.method, x.Request.Method) {
				continue
			}
			for _, alt := range s.alts {
				if matchSuffix(path, alt) {
					if n < maxMatches {
						out[n] = flowMatch{fi, si}
						n++
					}
					break
				}
			}
		}
	}
	return n
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (d *FlowDetector) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	var ms [maxMatches]flowMatch
	n := d.match(x, &ms)
	if n == 0 {
		return nil, nil
	}
	sh, a := d.table.Acquire(actortable.ActorHash(d.table.Seed(), &x.Actor), exchangeTime(x), d.window, true)
	defer sh.Unlock()
	if a.State.steps == nil {
		a.State.steps = make([]stepState, d.nsteps)
		a.State.flows = make([]flowMark, len(d.flows))
	}
	now := a.Last
	cut := actortable.SatSub(now, d.window)
	status := x.Status()
	ok := status >= 200 && status < 300
	var out []vigil.Finding
	for _, m := range ms[:n] {
		f := &d.flows[m.flow]
		steps := a.State.steps[f.base : f.base+len(f.steps)]
		if ok && m.step > 0 {
			var missing []int
			for j := range m.step {
				if f.steps[j].needs && !(steps[j].ok && steps[j].okAt >= cut) {
					missing = append(missing, j)
				}
			}
			if len(missing) > 0 {
				mark := &a.State.flows[m.flow]
				if d.counts.fire(&mark.hasFired, &mark.fired, now, d.window, 0) {
					out = append(out, d.finding(x, f, m.step, missing, steps, now, cut))
				}
			}
		}
		st := &steps[m.step]
		st.tried, st.tryAt, st.status = true, now, int32(min(max(status, -1), 999))
		if ok {
			st.ok, st.okAt = true, now
			if m.step == len(f.steps)-1 {
				if fv, fired := d.completed(x, m.flow, &a.State.flows[m.flow], now); fired {
					out = append(out, fv)
				}
			}
		}
	}
	return out, nil
}

// completed counts a completion of flow fi by the actor and judges its
// velocity.
func (d *FlowDetector) completed(x *vigil.Exchange, fi int, mark *flowMark, now int64) (vigil.Finding, bool) {
	if mark.done == 0 || now-mark.doneStart >= d.window || now < mark.doneStart {
		if mark.done > 0 {
			mark.taught = min(mark.taught+1, 255)
		}
		mark.done, mark.doneStart = 0, now
	}
	mark.done++
	v := &d.vel[fi]
	v.mu.Lock()
	if mark.done&(mark.done-1) == 0 && mark.taught < velocityTeach {
		v.reach.Add(uint64(mark.done)) // an actor-window reached 1, 2, 4, 8, … completions
	}
	actors := v.reach.Count(1)
	threshold, p99, learned := uint64(velocityUnlearned), uint64(0), actors >= velocityLearn
	if learned {
		k := 1
		for b := 2; b < sketch.HistBuckets; b++ {
			n := v.reach.Count(b)
			if mark.taught < velocityTeach && uint64(mark.done) >= 1<<(b-1) {
				n-- // the actor judged is not its own norm
			}
			if n >= max(velocityMinSupport, actors/100) {
				k = b
			}
		}
		p99 = sketch.BucketTop(k)
		threshold = max(velocityMin, velocityFactor*p99)
	}
	v.mu.Unlock()
	if uint64(mark.done) < threshold {
		return vigil.Finding{}, false
	}
	if !d.counts.fire(&mark.velHas, &mark.velFired, now, d.window, 1) {
		return vigil.Finding{}, false
	}
	f := &d.flows[fi]
	why := "no learned baseline yet: at least " + strconv.FormatUint(threshold, 10) + " is far above any person"
	if learned {
		why = "99% of " + strconv.FormatUint(actors, 10) + " learned actor-windows completed it at most " + strconv.FormatUint(p99, 10) +
			" times; threshold " + strconv.FormatUint(threshold, 10)
	}
	return vigil.Finding{
		Detector:   DetectorFlowVelocity,
		Category:   vigil.API6BusinessFlows,
		Area:       vigil.AreaBusinessLogic,
		Severity:   vigil.SeverityMedium,
		Confidence: 0.7,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   endpointOf(x),
		Title:      "Business flow velocity: " + f.name + " completed " + strconv.Itoa(int(mark.done)) + " times within " + vigil.FormatDuration(d.cfg.Window),
		Evidence: []vigil.Evidence{
			{Where: "flow", Value: f.name, Why: "business flow completed (a 2xx of its last step, " + f.steps[len(f.steps)-1].name + ")"},
			{Where: "behavior.flow_completions", Value: strconv.Itoa(int(mark.done)), Why: "completions by this actor within " + vigil.FormatDuration(d.cfg.Window)},
			{Where: "behavior.flow_baseline", Value: strconv.FormatUint(p99, 10), Why: why},
		},
	}, true
}

func (d *FlowDetector) finding(x *vigil.Exchange, f *cflow, step int, missing []int, steps []stepState, now, cut int64) vigil.Finding {
	s := &f.steps[step]
	names := make([]string, len(f.steps))
	for i, st := range f.steps {
		names[i] = st.name
	}
	ev := []vigil.Evidence{
		{Where: "flow", Value: f.name, Why: "business flow " + strings.Join(names, " → ")},
		{Where: "flow.step", Value: s.name, Why: "completed, answered " + strconv.Itoa(x.Status())},
	}
	var miss []string
	for _, j := range missing {
		m := &f.steps[j]
		miss = append(miss, m.name)
		why := "required: no 2xx of " + strings.TrimSpace(m.method+" "+m.text) + " by this actor within " + vigil.FormatDuration(d.cfg.Window)
		if st := steps[j]; st.tried && st.tryAt >= cut {
			why += "; last tried " + vigil.FormatDuration(time.Duration(now-st.tryAt).Round(time.Second)) + " before, answered " + strconv.Itoa(int(st.status))
		} else {
			why += "; not tried"
		}
		ev = append(ev, vigil.Evidence{Where: "flow.missing", Value: m.name, Why: why})
	}
	return vigil.Finding{
		Detector:   DetectorFlowSkip,
		Category:   vigil.API6BusinessFlows,
		Area:       vigil.AreaBusinessLogic,
		Severity:   vigil.SeverityHigh,
		Confidence: 0.8,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   endpointOf(x),
		Title:      "Business flow skipped: " + f.name + " " + s.name + " without " + strings.Join(miss, ", "),
		Evidence:   ev,
	}
}
