package behavior

import (
	"bytes"
	"context"
	"hash/maphash"
	"math/bits"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/sketch"
	"github.com/vigilsec/vigil/inventory"
)

// DetectorAnomaly is the id of Baseline's findings.
const DetectorAnomaly = "behavior.anomaly"

// Baseline learns what each endpoint's parameters usually look like and
// scores how far a request is from it: a signal for other detectors and for
// the correlator rather than an alert. Create it with NewBaseline.
//
// # What is learned
//
// Per endpoint (host, method, inventory.Template of the path) and parameter
// (query key, form key or top-level JSON field): the JSON types sent, a
// log-scale histogram of value lengths, how often each character class
// (see Shape) appears, the number of distinct values (a HyperLogLog) and,
// while there are at most 16, the values themselves (hashed) as an
// enumeration. Per endpoint: the requests per minute, as a histogram of
// past minutes.
//
// Only requests answered 2xx are learned (values the server accepted). The
// first BaselineLearn (200) such requests of an endpoint are its learning
// period; after it, requests are scored and learned only when they score
// below 0.5, so that an attacker cannot teach the baseline its payloads.
//
// # Score
//
// Score returns 0 to 1 with the reasons: the largest of, for any parameter,
// a JSON type never learned (1.0), a character class seen in fewer than 1
// in 200 learned values (0.8; quotes in a numeric id), a length in a
// magnitude bucket (with its neighbours) of fewer than 1% of learned values
// (0.6), a value outside a learned enumeration of at most 16 values after
// 100 (0.5), a parameter never learned (0.4); and for the endpoint, a
// minute with more than 60 requests and four times the busiest learned
// minute (0.7: never a finding alone, a rate is not one actor's doing; it is
// for Score's callers). Analyze raises behavior.anomaly (low, vigil.AreaAutomation,
// no OWASP category) for a score of at least 0.8, at most once per endpoint
// and parameter per minute, with the score in the evidence
// (behavior.anomaly_score).
//
// # Memory
//
// At most BaselineMaxEndpoints (1024) endpoints and BaselineMaxParams (32)
// parameters each; beyond them nothing new is learned. A parameter costs
// about 650 bytes with its value sketch full (2^8 registers), an endpoint
// about 250 bytes plus its parameters: at most about 21 MB in all, whatever
// the number of actors.
type Baseline struct {
	seed   maphash.Seed
	shards [baseShards]baseShard
	n      atomic.Int64 // endpoints
	fired  atomic.Int64
	supp   atomic.Int64
}

var _ vigil.Analyzer = (*Baseline)(nil)

// Limits of Baseline.
const (
	BaselineLearn        = 200
	BaselineMaxEndpoints = 1024
	BaselineMaxParams    = 32
	baseShards           = 16
	baseEnum             = 16
	baseEnumAfter        = 100
	baseFire             = 0.8
	baseLearnBelow       = 0.5
	baseValuePrec        = 8
	baseMinuteNanos      = int64(time.Minute)
)

type baseShard struct {
	mu  sync.Mutex
	eps map[uint64]*epBase
	_   [40]byte
}

// epBase is the baseline of one endpoint.
type epBase struct {
	n        uint32 // requests learned
	minute   int64  // start of the current minute
	inMinute uint32 // requests in it
	minutes  sketch.Hist
	fired    int64 // last rate finding
	params   []*paramBase
}

// paramBase is the baseline of one parameter.
type paramBase struct {
	name   uint64
	key    string // for evidence, at most 32 bytes
	seen   uint32
	types  [7]uint32 // by type bit index
	lens   sketch.Hist
	class  [10]uint32 // values using each character class
	values sketch.HLL
	enum   [baseEnum]uint32
	nenum  uint8
	open   bool // more than baseEnum distinct values seen
	fired  int64
}

// NewBaseline returns a baseline detector. The configuration is not used
// (its limits are fixed); it is taken for symmetry with the others.
func NewBaseline(Config) *Baseline {
	b := &Baseline{seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].eps = make(map[uint64]*epBase)
	}
	return b
}

// Stats returns the detector's counters; Actors is the number of
// endpoints learned.
func (b *Baseline) Stats() Stats {
	return Stats{Actors: b.n.Load(), Findings: map[string]int64{DetectorAnomaly: b.fired.Load()}, Suppressed: b.supp.Load()}
}

// param is one parameter of a request.
type param struct {
	where byte // 'q' query, 'b' body
	key   []byte
	val   []byte
	typ   uint8
	cl    uint32 // the value's character classes: Shape(val, 0) & 0x3ff, made once
	// The hashes of the name and of the value, made at most once each
	// (score and learn both need them): see Baseline.paramHash and
	// Baseline.valueHash.
	nameH, valH       uint64
	nameDone, valDone bool
}

// params lists a request's parameters, at most BaselineMaxParams.
func params(r *vigil.Request, buf []param) []param {
	add := func(where byte) func(k, v []byte, typ uint8) {
		return func(k, v []byte, typ uint8) {
			if len(buf) < BaselineMaxParams && len(k) > 0 {
				buf = append(buf, param{where: where, key: k, val: v, typ: typ, cl: Shape(v, 0) & 0x3ff})
			}
		}
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		q := add('q')
		scanPairs([]byte(r.URL.RawQuery), func(k, v []byte) {
			if bytes.IndexByte(v, '%') >= 0 || bytes.IndexByte(v, '+') >= 0 {
				if u, err := url.QueryUnescape(string(v)); err == nil {
					v = []byte(u)
				}
			}
			q(k, v, typeString)
		})
	}
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	switch bodyKind(r) {
	case 'j':
		topFields(body, add('b'))
	case 'f':
		f := add('b')
		scanPairs(body, func(k, v []byte) { f(k, v, typeString) })
	}
	return buf
}

func (b *Baseline) endpoint(x *vigil.Exchange) (uint64, string) {
	r := &x.Request
	tmpl := inventory.TemplateFor(x, cutPath(r.Path()))
	return endpointHash(b.seed, r.Host(), r.Method, tmpl), tmpl
}

func (b *Baseline) paramHash(p *param) uint64 {
	if !p.nameDone {
		var h maphash.Hash
		h.SetSeed(b.seed)
		h.WriteByte(p.where)
		h.Write(p.key)
		p.nameH, p.nameDone = h.Sum64(), true
	}
	return p.nameH
}

// valueHash is the hash of p's value, made once.
func (b *Baseline) valueHash(p *param) uint64 {
	if !p.valDone {
		p.valH, p.valDone = maphash.Bytes(b.seed, p.val), true
	}
	return p.valH
}

// Score returns how anomalous x is for its endpoint's learned baseline
// (0 to 1) with the reasons, without learning from it. It is 0 before the
// endpoint's learning period has ended.
func (b *Baseline) Score(x *vigil.Exchange) (float64, []vigil.Evidence) {
	if x == nil {
		return 0, nil
	}
	ep, _ := b.endpoint(x)
	var buf [BaselineMaxParams]param
	ps := params(&x.Request, buf[:0])
	sh := &b.shards[ep%baseShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.eps[ep]
	if e == nil || e.n < BaselineLearn {
		return 0, nil
	}
	score, ev, _ := b.score(e, ps, exchangeTime(x), false)
	return score, ev
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (b *Baseline) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil || x.Response == nil {
		return nil, nil
	}
	ep, tmpl := b.endpoint(x)
	var buf [BaselineMaxParams]param
	ps := params(&x.Request, buf[:0])
	at := exchangeTime(x)
	ok := x.Status() >= 200 && x.Status() < 300

	sh := &b.shards[ep%baseShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.eps[ep]
	if e == nil {
		if !ok || len(sh.eps) >= BaselineMaxEndpoints/baseShards {
			return nil, nil
		}
		e = &epBase{minute: at}
		sh.eps[ep] = e
		b.n.Add(1)
	}
	// The endpoint's rate, counted for every answer.
	if at-e.minute >= baseMinuteNanos || at < e.minute {
		if e.n >= 1 && at > e.minute {
			e.minutes.Add(uint64(e.inMinute))
		}
		e.minute, e.inMinute = at, 0
	}
	e.inMinute++

	if e.n < BaselineLearn {
		if ok {
			b.learn(e, ps)
		}
		return nil, nil
	}
	score, ev, culprit := b.score(e, ps, at, true)
	if ok && score < baseLearnBelow {
		b.learn(e, ps)
	}
	if score < baseFire {
		return nil, nil
	}
	last := &e.fired
	if culprit != nil {
		last = &culprit.fired
	}
	if *last != 0 && at-*last < baseMinuteNanos && at >= *last {
		b.supp.Add(1)
		return nil, nil
	}
	*last = at
	b.fired.Add(1)
	ev = append([]vigil.Evidence{{Where: "behavior.anomaly_score", Value: strconv.FormatFloat(score, 'f', 2, 64),
		Why: "distance from the endpoint's learned baseline (" + strconv.Itoa(int(e.n)) + " requests learned)"}}, ev...)
	return []vigil.Finding{{
		Detector:   DetectorAnomaly,
		Area:       vigil.AreaAutomation,
		Severity:   vigil.SeverityLow,
		Confidence: score * 0.6,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: tmpl},
		Title:      "Anomalous request: " + ev[1].Why,
		Evidence:   ev,
	}}, nil
}

func (e *epBase) find(h uint64) *paramBase {
	for _, p := range e.params {
		if p.name == h {
			return p
		}
	}
	return nil
}

// learn adds a request's parameters to the endpoint's baseline.
func (b *Baseline) learn(e *epBase, ps []param) {
	e.n++
	for i := range ps {
		p := &ps[i]
		h := b.paramHash(p)
		pb := e.find(h)
		if pb == nil {
			if len(e.params) >= BaselineMaxParams {
				continue
			}
			pb = &paramBase{name: h, key: string(p.where) + "." + cutKey(p.key), values: sketch.NewHLL(baseValuePrec)}
			e.params = append(e.params, pb)
		}
		pb.seen++
		pb.types[bits.TrailingZeros8(p.typ)]++
		pb.lens.Add(uint64(len(p.val)))
		cl := p.cl
		for c := 0; c < 10; c++ {
			if cl&(1<<c) != 0 {
				pb.class[c]++
			}
		}
		vh := b.valueHash(p)
		pb.values.Add(vh)
		if !pb.open {
			v := uint32(vh>>32) | 1
			found := false
			for _, x := range pb.enum[:pb.nenum] {
				if x == v {
					found = true
					break
				}
			}
			if !found {
				if int(pb.nenum) < baseEnum {
					pb.enum[pb.nenum] = v
					pb.nenum++
				} else {
					pb.open = true
				}
			}
		}
	}
}

var classNames = [10]string{"digits", "lower-case letters", "upper-case letters", "spaces", "quotes", "SQL punctuation", "template or markup characters", "punctuation", "non-ASCII characters", "control characters"}

var typeNames = [7]string{"string", "number", "boolean", "null", "object", "array", "malformed JSON"}

// score scores ps against the endpoint's baseline and returns the reasons,
// strongest first, and the parameter with the strongest reason.
func (b *Baseline) score(e *epBase, ps []param, at int64, counted bool) (float64, []vigil.Evidence, *paramBase) {
	type reason struct {
		s  float64
		ev vigil.Evidence
		p  *paramBase
	}
	var rs []reason
	for i := range ps {
		p := &ps[i]
		pb := e.find(b.paramHash(p))
		where := paramWhere(p)
		if pb == nil {
			if len(e.params) < BaselineMaxParams {
				rs = append(rs, reason{0.4, vigil.Evidence{Where: where(), Why: "parameter never seen in " + strconv.Itoa(int(e.n)) + " learned requests"}, nil})
			}
			continue
		}
		shown := func() string { return mask(string(p.val)) }
		ti := bits.TrailingZeros8(p.typ)
		if pb.types[ti]*100 < pb.seen {
			rs = append(rs, reason{1, vigil.Evidence{Where: where(), Value: shown(), Why: "sent as " + typeNames[ti] + ", learned as " + learnedTypes(pb)}, pb})
			continue
		}
		cl := p.cl
		for c := 0; c < 10; c++ {
			if cl&(1<<c) != 0 && pb.class[c]*200 < pb.seen {
				rs = append(rs, reason{0.8, vigil.Evidence{Where: where(), Value: shown(), Why: "contains " + classNames[c] + ", unusual for this parameter"}, pb})
				break
			}
		}
		if pb.lens.Share(uint64(len(p.val)))*100 < 1 {
			rs = append(rs, reason{0.6, vigil.Evidence{Where: where(), Value: strconv.Itoa(len(p.val)) + " bytes", Why: "length unusual for this parameter (95% of learned values up to " + strconv.FormatUint(pb.lens.Quantile(0.95), 10) + ")"}, pb})
		}
		if !pb.open && pb.seen >= baseEnumAfter {
			v := uint32(b.valueHash(p)>>32) | 1
			known := false
			for _, x := range pb.enum[:pb.nenum] {
				known = known || x == v
			}
			if !known {
				rs = append(rs, reason{0.5, vigil.Evidence{Where: where(), Value: shown(), Why: "value outside the " + strconv.Itoa(int(pb.nenum)) + " learned values"}, pb})
			}
		}
	}
	if counted && e.inMinute > 60 && e.minutes.Total() > 0 {
		if top := e.minutes.Quantile(1); top < uint64(e.inMinute)/4 {
			rs = append(rs, reason{0.7, vigil.Evidence{Where: "behavior.endpoint_rate", Value: strconv.Itoa(int(e.inMinute)) + "/min",
				Why: "requests this minute, over four times the busiest learned minute (up to " + strconv.FormatUint(top, 10) + ")"}, nil})
		}
	}
	if len(rs) == 0 {
		return 0, nil, nil
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].s > rs[j].s })
	ev := make([]vigil.Evidence, 0, min(len(rs), 4))
	for _, r := range rs[:min(len(rs), 4)] {
		ev = append(ev, r.ev)
	}
	return rs[0].s, ev, rs[0].p
}

// paramWhere names a parameter for evidence ("query.limit", "body.quantity"),
// built only when needed.
func paramWhere(p *param) func() string {
	return func() string {
		if p.where == 'q' {
			return "query." + cutKey(p.key)
		}
		return "body." + cutKey(p.key)
	}
}

func learnedTypes(pb *paramBase) string {
	var out []string
	for i, n := range pb.types {
		if n > 0 {
			out = append(out, typeNames[i])
		}
	}
	return strings.Join(out, " or ")
}
