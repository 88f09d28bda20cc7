package behavior

import (
	"context"
	"hash/maphash"
	"math/bits"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

// DetectorAdaptiveProbing is the id of AdaptiveProbing's findings.
const DetectorAdaptiveProbing = "behavior.adaptive-probing"

// AdaptiveProbing finds one actor systematically mutating the input of one
// endpoint, guided by the errors it gets back: the way a fuzzer, or an
// AI agent reasoning over error messages, learns an API. Create it with
// NewAdaptiveProbing.
//
// # What is counted
//
// Per actor and endpoint (host, method, inventory.Template of the path),
// within Window, starting at the first error:
//
//   - the requests, and the errors among them: 400, 405, 409, 413, 415,
//     422 and 5xx (401, 403, 404 and 429 are authorization, enumeration and
//     rate limiting, judged elsewhere; they count for nothing here);
//   - the distinct input shapes: the top-level JSON fields (or query and
//     form keys) each with its JSON type and the shape of its value (which
//     character classes it uses: digits, letters, quotes, SQL or template
//     punctuation, non-ASCII, control; and its length as a power of two).
//     "chair" and "table" are one shape; "chair" and "' OR 1=1--" are two;
//   - type probing: a field sent as three or more JSON types (number,
//     string, array, object, boolean, null);
//   - field-name probing: the distinct field names sent;
//   - error-guided changes: a field name never sent before on the endpoint
//     that an earlier error answer named (quoted, like "product_id", or
//     snake_case).
//
// behavior.adaptive-probing (vigil.AreaAutomation,
// vigil.API8Misconfiguration: the probing works because error answers
// describe the schema, and neutral errors are the fix) fires when, on one
// endpoint, at least 6 requests were sent, at least 60% of them errors,
// with at least 5 distinct shapes, and at least one of: an error-guided
// change, a type-probed field, 8 or more field names, or 10 or more shapes. It is medium; high with an error-guided change and either
// type probing or a 5xx provoked. Once per actor and endpoint per window,
// but a medium finding is followed by a high one when the probing
// escalates.
//
// Not probing: a person fixing a form in two or three tries (too few
// requests), a search box answering 200 to many distinct queries (few
// errors), a client retrying the same request (one shape).
//
// # Memory
//
// Only actors that got an error are tracked; each keeps at most
// MaxEndpoints (4) endpoints (24 shape hashes, 16 field names with their
// types, 12 names from error answers, 3 short names for the evidence): an
// actor costs about 400 bytes with one endpoint, 1.3 KB with four
// (TestBytesPerActorTimeline).
type AdaptiveProbing struct {
	cfg    Config
	window int64
	seed   maphash.Seed
	table  *actortable.Table[probeActor]
	counts counters
}

var _ vigil.Analyzer = (*AdaptiveProbing)(nil)

// Limits and thresholds of AdaptiveProbing.
const (
	probeShapes      = 24
	probeNames       = 16
	probeMentioned   = 12
	probeShown       = 3
	probeMinRequests = 6
	probeMinShapes   = 5
	probeErrorShare  = 0.6
	probeManyNames   = 8
	probeManyShapes  = 10
	probeMaxFields   = 64   // top-level fields read per request
	probeErrorBody   = 4096 // error answer bytes read for names
)

type probeActor struct {
	eps [MaxEndpoints]*probeState
}

// probeState is one actor's probing of one endpoint.
type probeState struct {
	ep         uint64
	start      int64
	last       int64
	fired      int64
	shapes     [probeShapes]uint32
	names      [probeNames]uint32
	types      [probeNames]uint8 // JSON types seen per name (typeBit)
	mentioned  [probeMentioned]uint32
	shown      [probeShown]string // error-guided names for the evidence
	reqs, errs uint16
	nshapes    uint8
	nnames     uint8
	nmention   uint8
	mi         uint8 // next mentioned slot (a ring)
	nshown     uint8
	guided     uint8
	server     uint8 // 5xx answers
	sev        uint8 // severity of the last finding
	hasFired   bool
}

// NewAdaptiveProbing returns an adaptive-probing detector; zero fields of
// cfg take the defaults.
func NewAdaptiveProbing(cfg Config) *AdaptiveProbing {
	cfg = cfg.withDefaults()
	p := &AdaptiveProbing{cfg: cfg, window: int64(cfg.Window)}
	p.table = actortable.New[probeActor](cfg.MaxActors, &p.counts.Counts)
	p.seed = p.table.Seed()
	return p
}

// Config returns the configuration in force, defaults filled in.
func (p *AdaptiveProbing) Config() Config { return p.cfg }

// Stats returns the detector's counters.
func (p *AdaptiveProbing) Stats() Stats { return p.counts.stats(DetectorAdaptiveProbing) }

// probeOutcome classifies an answer: 2 an input error, 1 a success, 0
// neither.
func probeOutcome(st int) int {
	switch {
	case st >= 200 && st < 300:
		return 1
	case st == 400 || st == 405 || st == 409 || st == 413 || st == 415 || st == 422 || (st >= 500 && st < 600):
		return 2
	}
	return 0
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (p *AdaptiveProbing) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	out := probeOutcome(x.Status())
	if out == 0 {
		return nil, nil
	}
	at := exchangeTime(x)
	sh, n := p.table.Acquire(actortable.ActorHash(p.seed, &x.Actor), at, p.window, out == 2)
	defer sh.Unlock()
	if n == nil {
		return nil, nil // a success from an actor without errors: nothing to look at
	}
	r := &x.Request
	tmpl := inventory.TemplateFor(x, cutPath(r.Path()))
	ep := endpointHash(p.seed, r.Host(), r.Method, tmpl)
	now := n.Last
	s := n.State.find(ep)
	if s == nil {
		if out != 2 {
			return nil, nil
		}
		s = n.State.slot(ep, actortable.SatSub(now, p.window))
	}
	if now-s.start >= p.window || now < s.start {
		*s = probeState{ep: ep, start: now, fired: s.fired, hasFired: s.hasFired, sev: s.sev}
	}
	s.last = now
	s.reqs = min(s.reqs+1, 1<<16-1)
	if out == 2 {
		s.errs = min(s.errs+1, 1<<16-1)
		if x.Status() >= 500 {
			s.server = min(s.server+1, 255)
		}
	}
	s.record(p.seed, r)
	if out == 2 && x.Response != nil {
		s.learnNames(p.seed, x.Response.Body)
	}
	signals, ok := s.judge()
	if !ok {
		return nil, nil
	}
	f := p.finding(x, tmpl, s, signals)
	if quiet(s.hasFired, s.fired, now, p.window) && uint8(f.Severity) <= s.sev {
		p.counts.suppressed.Add(1)
		return nil, nil
	}
	s.fired, s.hasFired, s.sev = now, true, uint8(f.Severity)
	p.counts.findings[0].Add(1)
	return []vigil.Finding{f}, nil
}

func (a *probeActor) find(ep uint64) *probeState {
	for _, e := range a.eps {
		if e != nil && e.ep == ep {
			return e
		}
	}
	return nil
}

// slot returns fresh state for ep in a free slot, else in place of the
// stalest one (nothing since cut), else of the one with the fewest requests.
func (a *probeActor) slot(ep uint64, cut int64) *probeState {
	pick := -1
	for i, e := range a.eps {
		if e == nil {
			a.eps[i] = &probeState{ep: ep}
			return a.eps[i]
		}
		if pick < 0 {
			pick = i
			continue
		}
		p := a.eps[pick]
		es, ps := e.last < cut, p.last < cut
		if (es && !ps) || (es == ps && (e.reqs < p.reqs || (e.reqs == p.reqs && e.last < p.last))) {
			pick = i
		}
	}
	*a.eps[pick] = probeState{ep: ep}
	return a.eps[pick]
}

// JSON types of a value, as bits.
const (
	typeString = 1 << iota
	typeNumber
	typeBool
	typeNull
	typeObject
	typeArray
	typeMalformed
)

// jsonType is the type bit of a JSON value from its first byte.
func jsonType(c byte) uint8 {
	switch {
	case c == '"':
		return typeString
	case c == '{':
		return typeObject
	case c == '[':
		return typeArray
	case c == 't' || c == 'f':
		return typeBool
	case c == 'n':
		return typeNull
	case c == '-' || ('0' <= c && c <= '9'):
		return typeNumber
	}
	return typeMalformed
}

// Character classes of a value's shape.
const (
	classDigit = 1 << iota
	classLower
	classUpper
	classSpace
	classQuote    // ' " `
	classSQL      // - ; = * ( ) |
	classTemplate // { } $ < > % [ ] \
	classOther    // other ASCII punctuation
	classNonASCII
	classControl
)

// Shape summarises a value for probing: its character classes (bits 0-9),
// its length as a power of two (bits 10-14) and its JSON type bit (bits
// 16-22). Values that only differ in content of the same kind ("chair",
// "table") have one shape.
func Shape(v []byte, typ uint8) uint32 {
	var classes uint32
	for _, c := range v {
		classes |= uint32(shapeClasses[c])
	}
	return classes | uint32(bits.Len(uint(len(v))))<<10 | uint32(typ)<<16
}

// shapeClasses is the character class of each byte, as Shape sees it: one
// table load per byte instead of a chain of comparisons.
var shapeClasses = func() (t [256]uint16) {
	for i := range t {
		switch c := byte(i); {
		case '0' <= c && c <= '9':
			t[i] = classDigit
		case 'a' <= c && c <= 'z':
			t[i] = classLower
		case 'A' <= c && c <= 'Z':
			t[i] = classUpper
		case c == ' ' || c == '\t':
			t[i] = classSpace
		case c == '\'' || c == '"' || c == '`':
			t[i] = classQuote
		case c == '-' || c == ';' || c == '=' || c == '*' || c == '(' || c == ')' || c == '|':
			t[i] = classSQL
		case c == '{' || c == '}' || c == '$' || c == '<' || c == '>' || c == '%' || c == '[' || c == ']' || c == '\\':
			t[i] = classTemplate
		case c < ' ' || c == 0x7f:
			t[i] = classControl
		case c >= 0x80:
			t[i] = classNonASCII
		default:
			t[i] = classOther
		}
	}
	return t
}()

// record adds the request's shape and field names.
func (s *probeState) record(seed maphash.Seed, r *vigil.Request) {
	var sum uint64 // order-insensitive: a sum of per-field hashes
	var fh maphash.Hash
	fh.SetSeed(seed)
	field := func(k, v []byte, typ uint8) {
		var buf [32]byte
		name := normKey(&buf, k)
		if name == nil {
			name = k
		}
		nh := uint32(maphash.Bytes(seed, name) >> 32)
		fh.Reset()
		fh.Write(name)
		var sb [4]byte
		shape := Shape(v, typ)
		sb[0], sb[1], sb[2], sb[3] = byte(shape), byte(shape>>8), byte(shape>>16), byte(shape>>24)
		fh.Write(sb[:])
		sum += fh.Sum64()
		s.addName(nh, typ, k)
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		scanPairs([]byte(r.URL.RawQuery), func(k, v []byte) { field(k, v, typeString) })
	}
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	switch bodyKind(r) {
	case 'j':
		if !topFields(body, field) {
			sum += 0x9E3779B97F4A7C15 // malformed JSON is a shape of its own
		}
	case 'f':
		scanPairs(body, func(k, v []byte) { field(k, v, typeString) })
	case 0:
		if len(body) > 0 {
			sum += uint64(Shape(body, typeMalformed))
		}
	}
	sh := uint32(sum>>32) | 1 // never 0
	for _, v := range s.shapes[:s.nshapes] {
		if v == sh {
			return
		}
	}
	if int(s.nshapes) < probeShapes {
		s.shapes[s.nshapes] = sh
		s.nshapes++
	}
}

// addName records a field name and the type it was sent as; a name an
// error answer mentioned, new on this endpoint, is an error-guided change.
func (s *probeState) addName(nh uint32, typ uint8, k []byte) {
	for i, v := range s.names[:s.nnames] {
		if v == nh {
			s.types[i] |= typ
			return
		}
	}
	if int(s.nnames) >= probeNames {
		return
	}
	s.names[s.nnames], s.types[s.nnames] = nh, typ
	s.nnames++
	for _, m := range s.mentioned[:s.nmention] {
		if m == nh {
			s.guided = min(s.guided+1, 255)
			if int(s.nshown) < probeShown {
				s.shown[s.nshown] = cutKey(k)
				s.nshown++
			}
			return
		}
	}
}

// learnNames remembers the identifiers an error answer names: quoted
// words and snake_case words, normalised like keys.
func (s *probeState) learnNames(seed maphash.Seed, b []byte) {
	if len(b) > probeErrorBody {
		b = b[:probeErrorBody]
	}
	for i := 0; i < len(b); {
		if !isIdentStart(b[i]) || (i > 0 && isIdentChar(b[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(b) && isIdentChar(b[j]) {
			j++
		}
		word := b[i:j]
		quoted := i > 0 && j < len(b) && isQuote(b[i-1]) && b[j] == b[i-1]
		if len(word) >= 2 && len(word) <= 40 && (quoted || (containsByte(word, '_') && word[0] != '_')) {
			var buf [32]byte
			if name := normKey(&buf, word); name != nil {
				s.mention(uint32(maphash.Bytes(seed, name) >> 32))
			}
		}
		i = j
	}
}

func (s *probeState) mention(h uint32) {
	for _, m := range s.mentioned[:s.nmention] {
		if m == h {
			return
		}
	}
	s.mentioned[s.mi] = h
	s.mi = (s.mi + 1) % probeMentioned
	s.nmention = min(s.nmention+1, probeMentioned)
}

func isIdentStart(c byte) bool { return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || ('0' <= c && c <= '9') }
func isQuote(c byte) bool      { return c == '"' || c == '\'' || c == '`' }

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// probeSignals are the signals that made a finding.
type probeSignals struct {
	typeProbed int // fields sent as 3 or more types
}

// judge says whether the endpoint's probing is a finding.
func (s *probeState) judge() (probeSignals, bool) {
	var sig probeSignals
	if s.reqs < probeMinRequests || s.nshapes < probeMinShapes || float64(s.errs) < probeErrorShare*float64(s.reqs) {
		return sig, false
	}
	for _, t := range s.types[:s.nnames] {
		if bits.OnesCount8(t&^typeMalformed) >= 3 {
			sig.typeProbed++
		}
	}
	return sig, s.guided > 0 || sig.typeProbed > 0 || s.nnames >= probeManyNames || s.nshapes >= probeManyShapes
}

func (p *AdaptiveProbing) finding(x *vigil.Exchange, tmpl string, s *probeState, sig probeSignals) vigil.Finding {
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: x.Request.Method + " " + tmpl, Why: "endpoint probed"},
		{Where: "behavior.requests", Value: strconv.Itoa(int(s.reqs)), Why: strconv.Itoa(int(s.errs)) + " answered with an error (" + strconv.Itoa(int(s.server)) + " of them 5xx) within " + vigil.FormatDuration(p.cfg.Window)},
		{Where: "behavior.input_shapes", Value: strconv.Itoa(int(s.nshapes)), Why: "distinct input shapes (fields, types, value classes)"},
	}
	var what []string
	if s.guided > 0 {
		what = append(what, "error-guided")
		ev = append(ev, vigil.Evidence{Where: "behavior.error_guided", Value: strings.Join(s.shown[:s.nshown], ", "),
			Why: strconv.Itoa(int(s.guided)) + " field names sent after an error answer named them"})
	}
	if sig.typeProbed > 0 {
		what = append(what, "type probing")
		ev = append(ev, vigil.Evidence{Where: "behavior.type_probing", Value: strconv.Itoa(sig.typeProbed), Why: "fields sent as three or more JSON types"})
	}
	if s.nnames >= probeManyNames {
		what = append(what, "field-name probing")
		ev = append(ev, vigil.Evidence{Where: "behavior.field_names", Value: strconv.Itoa(int(s.nnames)), Why: "distinct field names sent"})
	}
	if len(what) == 0 {
		what = append(what, "many input shapes")
	}
	sev, conf := vigil.SeverityMedium, 0.7
	if s.guided > 0 && (sig.typeProbed > 0 || s.server > 0) {
		sev, conf = vigil.SeverityHigh, 0.85
	}
	return vigil.Finding{
		Detector:   DetectorAdaptiveProbing,
		Category:   vigil.API8Misconfiguration,
		Area:       vigil.AreaAutomation,
		Severity:   sev,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: tmpl},
		Title:      "Adaptive probing: " + strings.Join(what, ", ") + ", " + strconv.Itoa(int(s.errs)) + " of " + strconv.Itoa(int(s.reqs)) + " requests answered with errors",
		Evidence:   ev,
	}
}

// topFields calls fn for each top-level field of a JSON object with its
// raw value (a string's contents without quotes) and type bit, at most
// probeMaxFields. A top-level value that is not an object is one field
// named "". It reports false for malformed JSON (fields before the fault
// are reported).
func topFields(b []byte, fn func(k, v []byte, typ uint8)) bool {
	c := jsonCursor{b: b}
	c.ws()
	if c.i >= len(b) {
		return false
	}
	if b[c.i] != '{' {
		start := c.i
		typ := jsonType(b[c.i])
		if !c.skip() {
			return false
		}
		fn(nil, b[start:c.i], typ)
		return true
	}
	c.i++
	for n := 0; n < probeMaxFields; n++ {
		c.ws()
		if c.i < len(b) && b[c.i] == '}' && n == 0 {
			return true
		}
		k, ok := c.str()
		if !ok || !c.colon() || c.i >= len(b) {
			return false
		}
		start := c.i
		typ := jsonType(b[c.i])
		if !c.skip() {
			return false
		}
		v := b[start:c.i]
		if typ == typeString && len(v) >= 2 {
			v = v[1 : len(v)-1]
		}
		fn(k, v, typ)
		if more, ok := c.next('}'); !more {
			return ok
		}
	}
	return true // more fields than read
}

// skip moves past one JSON value, counting brackets (no recursion), and
// reports whether it was complete.
func (s *jsonCursor) skip() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	return len(s.scalar()) > 0
}
