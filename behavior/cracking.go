package behavior

import (
	"context"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

// Cracking finds one actor guessing a secret-like value on one endpoint:
// gift-card codes in the path, coupon codes in a JSON body, OTPs, PINs,
// reset tokens. Create it with NewCracking.
//
// # What is counted
//
// The endpoint is host + method + inventory.Template(path). The varying
// input of an exchange is the path segments that templated to {id} together
// with the values of code-like keys in the query, a JSON body (any depth) or
// a form body: code, coupon, voucher, promo, giftcard, gift_card, pin, otp,
// totp, token, reset_token, verification_code, cvv and the like (compared
// case-insensitively, ignoring '_', '-' and '.'). Values redacted to
// "[REDACTED]" are ignored. Exchanges without a varying input count towards
// nothing.
//
// Each exchange's answer is a hit, a miss or neither:
//   - hit: 2xx, unless a short body says otherwise ({"valid": false},
//     "success", "ok", "is_valid", "applied" or "redeemable" false), which
//     is a miss;
//   - miss: 400, 404, 410 or 422; and, when a code-like key gave a value,
//     any other 4xx but 429 (a wrong OTP is often 401, a declined gift card
//     402, an already redeemed code 409);
//   - neither: 429 (the server did not judge the value), 401 and 403 when
//     only path ids vary (authorization, not a wrong guess: BOLA detectors
//     judge those), 1xx, 3xx, 5xx and no answer. These are ignored.
//
// Per (actor, endpoint) the detector remembers the distinct inputs within
// Window, each as a 64-bit hash with a hit flag (a value that ever hit
// counts as a hit). It raises behavior.cracking (high) when at least
// Threshold distinct values are remembered and at least 80% of them only
// missed; then behavior.cracking-succeeded (critical) for the first new
// value that hits while cracking is in force (the condition holds, or
// cracking fired less than a window before). Each fires at most once per
// actor and endpoint per window. A hit never creates state: actors whose
// requests succeed cost nothing.
//
// # Memory
//
// An actor is tracked on at most MaxEndpoints (4) endpoints at once; a new
// one replaces a slot whose values all left the window, else the one with
// the fewest values. An endpoint remembers at most 2×Threshold values (16
// bytes each) and MaxExamples masked examples (at most 32 bytes each). With
// the default Threshold of 20, a tracked actor costs about 1.1 KB with one
// endpoint full and about 4 KB with all four full (TestBytesPerActor
// measures it).
//
// An actor that spreads its guesses round-robin over more than MaxEndpoints
// endpoints keeps replacing its own slots and is not seen: a known limit.
type Cracking struct {
	cfg       Config
	window    int64
	maxValues int
	table     *actortable.Table[crackActor]
	counts    counters
}

var _ vigil.Analyzer = (*Cracking)(nil)

// crackActor is what Cracking remembers of one actor.
type crackActor struct {
	eps [MaxEndpoints]*endpointState
}

// endpointState is one actor's cracking state on one endpoint.
type endpointState struct {
	ep       uint64
	last     int64
	vals     []valEntry // in time order, oldest first
	ex       [MaxExamples]example
	nex      int // examples in ex, most recent last
	fired    int64
	won      int64
	hasFired bool
	hasWon   bool
}

// valEntry is one distinct value: its hash with the low bit set when it hit.
type valEntry struct {
	key uint64
	at  int64
}

const hitBit = 1

// example is a masked value kept as evidence.
type example struct {
	at     int64
	where  string
	shown  string // masked
	status int
}

// NewCracking returns a cracking detector; zero fields of cfg take the
// defaults.
func NewCracking(cfg Config) *Cracking {
	cfg = cfg.withDefaults()
	c := &Cracking{cfg: cfg, window: int64(cfg.Window), maxValues: 2 * cfg.Threshold}
	c.table = actortable.New[crackActor](cfg.MaxActors, &c.counts.Counts)
	return c
}

// Config returns the configuration in force, defaults filled in.
func (c *Cracking) Config() Config { return c.cfg }

// Stats returns the detector's counters.
func (c *Cracking) Stats() Stats { return c.counts.stats(DetectorCracking, DetectorCrackingSucceeded) }

// Outcomes of an exchange for cracking.
const (
	outNeither  = iota
	outHit      // 2xx
	outMiss     // a miss for any input
	outMissCode // a miss only when a code-like key gave a value
)

func outcome(x *vigil.Exchange) int {
	st := x.Status()
	switch {
	case st >= 200 && st < 300:
		if bodySaysInvalid(x.Response.Body) {
			return outMiss
		}
		return outHit
	case st == 400 || st == 404 || st == 410 || st == 422:
		return outMiss
	case st == 429:
		return outNeither
	case st > 400 && st < 500:
		return outMissCode
	}
	return outNeither
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (c *Cracking) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	out := outcome(x)
	if out == outNeither {
		return nil, nil
	}
	at := exchangeTime(x)
	h := actortable.ActorHash(c.table.Seed(), &x.Actor)
	var in *input
	if out != outHit {
		// A miss: look at the request before taking the lock.
		if in = c.inspect(x); in == nil || (out == outMissCode && !in.code) {
			return nil, nil
		}
		out = outMiss
	}
	sh, a := c.table.Acquire(h, at, c.window, out == outMiss)
	defer sh.Unlock()
	if a == nil || (out == outHit && a.State.empty()) {
		return nil, nil // a success from an actor with no cracking state
	}
	if out == outHit {
		if in = c.inspect(x); in == nil {
			return nil, nil
		}
	}
	now := a.Last
	ep := a.State.find(in.ep)
	if ep == nil {
		if out == outHit {
			return nil, nil
		}
		ep = a.State.slot(in.ep, actortable.SatSub(now, c.window))
	}
	return c.judge(x, in, ep, out == outHit, now), nil
}

// judge records one exchange on an endpoint and returns what fired.
func (c *Cracking) judge(x *vigil.Exchange, in *input, ep *endpointState, hit bool, now int64) []vigil.Finding {
	ep.prune(actortable.SatSub(now, c.window))
	ep.last = now
	isNew, wasHit := ep.add(in.key, hit, now, c.maxValues)
	if isNew && !hit {
		ep.remember(example{at: now, where: in.where, shown: mask(in.shown), status: x.Status()})
	}
	n, misses := ep.count()
	meets := n >= c.cfg.Threshold && float64(misses) >= FailureRatio*float64(n)
	var out []vigil.Finding
	if meets {
		if c.counts.fire(&ep.hasFired, &ep.fired, now, c.window, 0) {
			out = append(out, c.crackingFinding(x, in, ep, n, misses))
		}
	}
	if hit && !wasHit && (meets || quiet(ep.hasFired, ep.fired, now, c.window)) {
		if c.counts.fire(&ep.hasWon, &ep.won, now, c.window, 1) {
			out = append(out, c.succeededFinding(x, in, ep, n, misses))
		}
	}
	return out
}

// input is what one exchange offers: its endpoint and varying input.
type input struct {
	ep       uint64 // host, method and template
	key      uint64 // the varying input, low bit clear
	code     bool   // a code-like key gave a value
	where    string // where the shown value is ("request.path", "body.code")
	shown    string // the value shown (masked) as evidence
	host     string
	template string
}

// inspect returns the endpoint and varying input of x, or nil when it has
// no varying input.
func (c *Cracking) inspect(x *vigil.Exchange) *input {
	in := &input{}
	r := &x.Request
	path := cutPath(r.Path())
	tmpl := inventory.TemplateFor(x, path)
	in.host, in.template = r.Host(), tmpl

	var eh maphash.Hash
	eh.SetSeed(c.table.Seed())
	eh.WriteString(in.host)
	eh.WriteByte(' ')
	eh.WriteString(r.Method)
	eh.WriteByte(' ')
	for i := 0; i < len(tmpl); i++ {
		b := tmpl[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		eh.WriteByte(b)
	}
	in.ep = eh.Sum64()

	var vh maphash.Hash
	vh.SetSeed(c.table.Seed())
	parts := 0
	var ids []string
	// Path segments that templated to {id}; Template keeps the segment count.
	if tmpl != path {
		p, t := path, tmpl
		for p != "" && t != "" {
			var ps, ts string
			ps, p, _ = strings.Cut(p, "/")
			ts, t, _ = strings.Cut(t, "/")
			if ts == inventory.IDSegment && ps != ts && ps != redacted {
				vh.WriteString(ps)
				vh.WriteByte(0)
				parts++
				if len(ids) < 4 {
					ids = append(ids, ps)
				}
			}
		}
	}
	codeVal := func(where string, k, v []byte, str bool) {
		if len(v) == 0 || string(v) == redacted || !isCodeKey(k) {
			return
		}
		vh.WriteByte(1)
		vh.Write(k)
		vh.WriteByte(0)
		vh.Write(v)
		vh.WriteByte(0)
		parts++
		if !in.code {
			in.code = true
			in.where = where + "." + cutKey(k)
			in.shown = string(v)
		}
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		scanPairs([]byte(r.URL.RawQuery), func(k, v []byte) { codeVal("query", k, v, true) })
	}
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	switch bodyKind(r) {
	case 'j':
		scanJSON(body, func(k, v []byte, str bool) { codeVal("body", k, v, str) })
	case 'f':
		scanPairs(body, func(k, v []byte) { codeVal("body", k, v, true) })
	}
	if parts == 0 {
		return nil
	}
	if !in.code {
		in.where, in.shown = "request.path", strings.Join(ids, "/")
	}
	in.key = vh.Sum64() &^ hitBit
	return in
}

// empty reports whether the actor has no endpoint state.
func (a *crackActor) empty() bool {
	for _, e := range a.eps {
		if e != nil {
			return false
		}
	}
	return true
}

func (a *crackActor) find(ep uint64) *endpointState {
	for _, e := range a.eps {
		if e != nil && e.ep == ep {
			return e
		}
	}
	return nil
}

// slot returns fresh state for endpoint ep in a free slot, or in place of
// a slot with nothing after cut, or of the one with the fewest values.
func (a *crackActor) slot(ep uint64, cut int64) *endpointState {
	pick := -1
	for i, e := range a.eps {
		if e == nil {
			a.eps[i] = &endpointState{ep: ep}
			return a.eps[i]
		}
		if pick < 0 || e.replaces(a.eps[pick], cut) {
			pick = i
		}
	}
	e := a.eps[pick]
	*e = endpointState{ep: ep, vals: e.vals[:0]}
	return e
}

// replaces says whether e is a better slot to reuse than p: stale slots
// first, the least recent of them; else the one with the fewest values.
func (e *endpointState) replaces(p *endpointState, cut int64) bool {
	es, ps := e.last < cut, p.last < cut
	switch {
	case es != ps:
		return es
	case es:
		return e.last < p.last
	case len(e.vals) != len(p.vals):
		return len(e.vals) < len(p.vals)
	}
	return e.last < p.last
}

// prune forgets values older than cut.
func (e *endpointState) prune(cut int64) {
	i := 0
	for i < len(e.vals) && e.vals[i].at < cut {
		i++
	}
	if i > 0 {
		e.vals = append(e.vals[:0], e.vals[i:]...)
	}
	j := 0
	for j < e.nex && e.ex[j].at < cut {
		j++
	}
	if j > 0 {
		n := copy(e.ex[:], e.ex[j:e.nex])
		clear(e.ex[n:])
		e.nex = n
	}
}

// add records a value, refreshing it when already there. It reports
// whether the value is new and whether it had hit before. Beyond max values
// the oldest goes.
func (e *endpointState) add(key uint64, hit bool, at int64, limit int) (isNew, wasHit bool) {
	if hit {
		key |= hitBit
	}
	for i := range e.vals {
		if e.vals[i].key&^hitBit == key&^hitBit {
			wasHit = e.vals[i].key&hitBit != 0
			key |= e.vals[i].key & hitBit
			copy(e.vals[i:], e.vals[i+1:])
			e.vals[len(e.vals)-1] = valEntry{key: key, at: at}
			return false, wasHit
		}
	}
	if len(e.vals) >= limit {
		e.vals = append(e.vals[:0], e.vals[1:]...)
	}
	if len(e.vals) == cap(e.vals) { // grow to at most max, never beyond
		grown := make([]valEntry, len(e.vals), min(limit, max(8, 2*cap(e.vals))))
		copy(grown, e.vals)
		e.vals = grown
	}
	e.vals = append(e.vals, valEntry{key: key, at: at})
	return true, false
}

// count returns the distinct values remembered and how many only missed.
func (e *endpointState) count() (n, misses int) {
	for _, v := range e.vals {
		if v.key&hitBit == 0 {
			misses++
		}
	}
	return len(e.vals), misses
}

// remember keeps a masked example, dropping the oldest beyond MaxExamples.
func (e *endpointState) remember(ex example) {
	if e.nex == len(e.ex) {
		copy(e.ex[:], e.ex[1:])
		e.nex--
	}
	e.ex[e.nex] = ex
	e.nex++
}

func (c *Cracking) crackingFinding(x *vigil.Exchange, in *input, ep *endpointState, n, misses int) vigil.Finding {
	ratio := strconv.Itoa(misses*100/n) + "%"
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: x.Request.Method + " " + in.template, Why: "endpoint tried"},
		{Where: "behavior.distinct_values", Value: strconv.Itoa(n), Why: "distinct values of " + in.where + " within " + vigil.FormatDuration(c.cfg.Window)},
		{Where: "behavior.failure_ratio", Value: ratio, Why: strconv.Itoa(misses) + " of " + strconv.Itoa(n) + " values failed"},
	}
	ev = append(ev, ep.examples()...)
	return c.finding(x, in, DetectorCracking, vigil.SeverityHigh, 0.85,
		"Cracking: "+strconv.Itoa(n)+" distinct values of "+in.where+" tried, "+ratio+" failed", ev)
}

func (c *Cracking) succeededFinding(x *vigil.Exchange, in *input, ep *endpointState, n, misses int) vigil.Finding {
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: x.Request.Method + " " + in.template, Why: "endpoint tried"},
		{Where: in.where, Value: mask(in.shown), Why: "guessed value accepted, answered " + strconv.Itoa(x.Status())},
		{Where: "behavior.distinct_values", Value: strconv.Itoa(n), Why: strconv.Itoa(misses) + " values failed before within " + vigil.FormatDuration(c.cfg.Window)},
	}
	return c.finding(x, in, DetectorCrackingSucceeded, vigil.SeverityCritical, 0.9,
		"Cracking succeeded: a guessed value of "+in.where+" was accepted after "+strconv.Itoa(misses)+" failures", ev)
}

// examples are the endpoint's masked examples as evidence.
func (e *endpointState) examples() []vigil.Evidence {
	ev := make([]vigil.Evidence, 0, e.nex)
	for _, x := range e.ex[:e.nex] {
		ev = append(ev, vigil.Evidence{Where: x.where, Value: x.shown, Why: "tried (masked), answered " + strconv.Itoa(x.status)})
	}
	return ev
}

func (c *Cracking) finding(x *vigil.Exchange, in *input, id string, sev vigil.Severity, conf float64, title string, ev []vigil.Evidence) vigil.Finding {
	return vigil.Finding{
		Detector:   id,
		Category:   vigil.API6BusinessFlows,
		Area:       vigil.AreaBusinessLogic,
		Severity:   sev,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: in.host, Method: x.Request.Method, Template: in.template},
		Title:      title,
		Evidence:   ev,
	}
}
