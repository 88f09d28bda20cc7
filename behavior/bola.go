package behavior

import (
	"context"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

// Detector ids of BOLA.
const (
	DetectorBOLA        = "behavior.bola"
	DetectorEnumeration = "behavior.enumeration"
)

// Limits of BOLA.
const (
	// MaxObjects bounds the object ownership entries BOLA remembers (least
	// recently seen evicted).
	MaxObjects = 100_000
	// ForeignObjects is how many distinct objects owned by others one
	// principal must read within the window for behavior.bola.
	ForeignObjects = 3
	// PublicPrincipals is how many distinct principals make an object
	// public when they all got it answered 2xx.
	PublicPrincipals = 3
	// EnumerationRatio is the share of 403/404 answers among the distinct
	// ids an actor asked for on one endpoint that makes enumeration.
	EnumerationRatio = 0.5

	maxForeign        = 8    // foreign objects remembered per actor
	maxFiredTemplates = 4    // templates an actor's BOLA findings are remembered for
	maxBOLAExamples   = 3    // masked ids in a finding
	maxEnumSlots      = 2    // endpoints tracked per actor for enumeration
	maxOwnTemplates   = 4096 // templates with public/owned counts
	minPublicIDs      = 3    // public ids before a template can be public
	maxListIDs        = 100  // ids taken from one list response
	maxListBody       = 256 << 10
	maxListSteps      = 20_000 // JSON tokens looked at in one list response
	ownerShards       = 16
	bolaMaxIDSegment  = 128
)

// BOLA finds broken object-level authorization from traffic: one principal
// reading objects the traffic showed belong to others (behavior.bola, high,
// vigil.API1BOLA, vigil.AreaChained) and one actor walking ids on an {id}
// endpoint mostly answered 403 or 404 (behavior.enumeration, medium). Create
// it with NewBOLA.
//
// # Ownership
//
// An endpoint with an object is host + inventory.Template(path) with an {id}
// segment; the object id is the last segment that templated to {id}. Version
// segments (v1, v2, ...) are folded, so an object learned on /api/v2/orders/{id}
// is the same object on /api/v1/orders/{id}. Ownership is learned from 2xx
// answers to authenticated principals (vigil.Actor.Principal non-empty):
//
//   - a GET of /x/{id} makes the principal the object's owner if nobody was
//     (weak ownership);
//   - a GET of a collection /x whose JSON answer is an array of objects, or
//     an object with array values ({"orders": [...]}, {"items": [...]}), makes
//     the principal the owner of every "id" of those array items (at most
//     100; strong ownership: it replaces a weak owner).
//
// An object is public, and never counts, when PublicPrincipals (3) distinct
// principals got it answered 2xx, or when collections listed it to two
// distinct principals (a collection that lists the same object to two
// identities is a catalogue, not a set of owned objects). A template is
// public, and never counts, when 3 of its objects were listed to two
// principals, or when at least 3 of its objects are public and they are at
// least half of its objects: products read by every customer and a partner
// feed. A 2xx read of /x/{id} by principal B counts as a foreign read when
// the object has an owner A ≠ B, no other principal has been seen with it,
// neither it nor its template is public, and the ownership is backed by a
// list: the object itself was listed to A, or the template's collection was
// listed to some principal (the API lists these objects per principal). A
// template only ever read by id (never listed) thus never counts: the first
// reader of a catalogue item cannot be told from its owner. behavior.bola fires
// when a principal makes ForeignObjects (3) distinct foreign reads (GET, PUT,
// PATCH or DELETE answered 2xx) within the window: one could be a shared
// link. It fires at most once per principal and template per window, so an
// attacker walking orders and then addresses is named on both.
//
// Privileged principals are exempt: a principal answered 2xx on a path with
// an "admin" segment (/api/v2/admin/users) is taken to be staff, allowed to
// read anyone's objects. So is a principal that abused broken function-level
// authorization to reach an admin endpoint: a known limit.
//
// # Enumeration
//
// Per actor (vigil.Actor.Key, anonymous actors included) and {id} endpoint
// (host, method, template), the distinct ids asked within the window are
// remembered with whether they were answered 403 or 404. behavior.enumeration
// fires when at least Config.Threshold distinct ids are remembered and at
// least half were 403 or 404. State is created by the first 403 or 404.
//
// # Memory
//
// The ownership table holds at most MaxObjects entries, each a 64-bit hash of
// (host, template, id) with the owner's 64-bit principal hash and two 32-bit
// hashes of other principals, about 68 bytes with the index (TestBOLAMemory
// measures it): about 7 MB when full. Per-template counts are a fixed table
// of at most 4096 templates. An actor is tracked only when it read a foreign
// object, called an admin endpoint, or got a 403/404 on an {id} endpoint:
// about 830 bytes with 3 foreign reads and one enumeration slot full (40
// ids), about 1.5 KB with both slots full.
// Nothing is kept for exchanges without an {id} or a list answer.
type BOLA struct {
	cfg    Config
	window int64
	seed   maphash.Seed
	table  *actortable.Table[bolaActor]
	counts counters
	owners [ownerShards]ownerShard

	tmu   sync.Mutex
	tmpls map[uint64]*tmplCount
}

var _ vigil.Analyzer = (*BOLA)(nil)

type bolaActor struct {
	privileged bool
	fired      [maxFiredTemplates]firedTemplate // BOLA findings raised, by template
	foreign    []foreignRead
	enum       [maxEnumSlots]*enumState
}

// firedTemplate is a behavior.bola finding raised for an actor on one
// template, for the once-per-window rule.
type firedTemplate struct {
	tk uint64 // template key; 0 = free slot
	at int64
}

type foreignRead struct {
	obj uint64
	at  int64
	id  string // masked
}

type enumState struct {
	ep       uint64
	last     int64
	ids      []valEntry // low bit: answered 403/404
	fired    int64
	hasFired bool
}

const deniedBit = 1

type tmplCount struct {
	ids, public uint32
	listed      uint32 // ids learned from lists
	listedTwo   uint32 // ids listed to two principals
}

// ownerShard is one part of the ownership table: a map from object hash to
// an index in ents, with a least-recently-seen list threaded through ents.
type ownerShard struct {
	mu         sync.Mutex
	m          map[uint64]int32
	ents       []ownEntry
	head, tail int32
	limit      int
	_          [64]byte
}

type ownEntry struct {
	obj        uint64
	owner      uint64
	others     [2]uint32 // other principals seen, low 32 bits of their hash, 0 = none
	prev, next int32
	strong     bool // the owner was learned from a list
	listedTwo  bool // listed to two principals
	public     bool
	n          uint8 // distinct principals seen, at most PublicPrincipals
}

// NewBOLA returns a BOLA detector; zero fields of cfg take the defaults.
func NewBOLA(cfg Config) *BOLA {
	cfg = cfg.withDefaults()
	b := &BOLA{cfg: cfg, window: int64(cfg.Window), seed: maphash.MakeSeed(), tmpls: make(map[uint64]*tmplCount)}
	b.table = actortable.New[bolaActor](cfg.MaxActors, &b.counts.Counts)
	for i := range b.owners {
		b.owners[i].m = make(map[uint64]int32)
		b.owners[i].limit = MaxObjects / ownerShards
		b.owners[i].head, b.owners[i].tail = -1, -1
	}
	return b
}

// Config returns the configuration in force, defaults filled in.
func (b *BOLA) Config() Config { return b.cfg }

// Stats returns the detector's counters.
func (b *BOLA) Stats() Stats { return b.counts.stats(DetectorBOLA, DetectorEnumeration) }

// Objects returns how many ownership entries are remembered.
func (b *BOLA) Objects() int {
	n := 0
	for i := range b.owners {
		sh := &b.owners[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// isAdminPath reports whether a path has a segment "admin" (any case).
func isAdminPath(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if strings.EqualFold(seg, "admin") {
			return true
		}
	}
	return false
}

// isVersion reports whether a segment is an API version: v1, V2, v10.
func isVersion(s string) bool {
	if len(s) < 2 || len(s) > 4 || (s[0] != 'v' && s[0] != 'V') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// writeTemplate hashes a template lower-cased with version segments folded.
func writeTemplate(h *maphash.Hash, t string) {
	for t != "" {
		var seg string
		seg, t, _ = strings.Cut(t, "/")
		if isVersion(seg) {
			h.WriteString("v*")
		} else {
			for i := 0; i < len(seg); i++ {
				c := seg[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				h.WriteByte(c)
			}
		}
		h.WriteByte('/')
	}
}

// lastID returns the raw path segment of the last {id} of the template.
func lastID(path, tmpl string) string {
	id := ""
	for path != "" && tmpl != "" {
		var ps, ts string
		ps, path, _ = strings.Cut(path, "/")
		ts, tmpl, _ = strings.Cut(tmpl, "/")
		if ts == inventory.IDSegment && ps != ts && ps != redacted {
			id = ps
		}
	}
	if len(id) > bolaMaxIDSegment {
		id = id[:bolaMaxIDSegment]
	}
	return id
}

func is2xx(st int) bool { return st >= 200 && st < 300 }

// Analyze implements vigil.Analyzer. It never returns an error.
func (b *BOLA) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	st := x.Status()
	ok := is2xx(st)
	denied := st == 403 || st == 404
	if !ok && !denied {
		return nil, nil
	}
	r := &x.Request
	p := x.Actor.Principal
	path := cutPath(r.Path())
	at := exchangeTime(x)
	if ok && p != "" && isAdminPath(path) {
		sh, a := b.table.Acquire(actortable.ActorHash(b.table.Seed(), &x.Actor), at, b.window, true)
		a.State.privileged = true
		sh.Unlock()
		return nil, nil
	}
	m := r.Method
	get := m == "GET" || m == "HEAD"
	if !get && m != "PUT" && m != "PATCH" && m != "DELETE" {
		return nil, nil
	}
	tmpl := inventory.TemplateFor(x, path)
	if tmpl == path { // no {id}: maybe a collection
		if ok && m == "GET" && p != "" && x.Response != nil && len(x.Response.Body) > 0 {
			b.learnList(x, tmpl)
		}
		return nil, nil
	}
	id := lastID(path, tmpl)
	if id == "" {
		return nil, nil
	}
	host := r.Host()
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(host)
	h.WriteByte(' ')
	writeTemplate(&h, tmpl)
	tk := h.Sum64()
	h.WriteByte(0)
	h.WriteString(id)
	obj := h.Sum64()

	var out []vigil.Finding
	if f, fired := b.enumerate(x, m, host, tmpl, tk, obj, denied, at); fired {
		out = append(out, f)
	}
	if ok && p != "" {
		ph := maphash.String(b.table.Seed(), p)
		if b.touch(obj, tk, ph, m == "GET" || m == "HEAD") {
			if f, fired := b.foreignRead(x, host, tmpl, tk, obj, id, at); fired {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// enumerate records an id for enumeration; state is created by a denial.
func (b *BOLA) enumerate(x *vigil.Exchange, method, host, tmpl string, tk, obj uint64, denied bool, at int64) (vigil.Finding, bool) {
	ep := tk ^ maphash.String(b.seed, method)
	sh, a := b.table.Acquire(actortable.ActorHash(b.table.Seed(), &x.Actor), at, b.window, denied)
	defer sh.Unlock()
	if a == nil || a.State.privileged {
		return vigil.Finding{}, false
	}
	now := a.Last
	cut := actortable.SatSub(now, b.window)
	var e *enumState
	for _, s := range a.State.enum {
		if s != nil && s.ep == ep {
			e = s
		}
	}
	if e == nil {
		if !denied {
			return vigil.Finding{}, false
		}
		pick := 0
		for i, s := range a.State.enum {
			if s == nil {
				pick = i
				break
			}
			if s.last < a.State.enum[pick].last {
				pick = i
			}
		}
		if a.State.enum[pick] == nil {
			a.State.enum[pick] = &enumState{}
		}
		e = a.State.enum[pick]
		*e = enumState{ep: ep, ids: e.ids[:0]}
	}
	e.last = now
	i := 0
	for i < len(e.ids) && e.ids[i].at < cut {
		i++
	}
	if i > 0 {
		e.ids = append(e.ids[:0], e.ids[i:]...)
	}
	var d uint64
	if denied {
		d = deniedBit
	}
	e.add(obj&^deniedBit|d, now, 2*b.cfg.Threshold)
	n, nd := len(e.ids), 0
	for _, v := range e.ids {
		if v.key&deniedBit != 0 {
			nd++
		}
	}
	if n < b.cfg.Threshold || float64(nd) < EnumerationRatio*float64(n) {
		return vigil.Finding{}, false
	}
	if !b.counts.fire(&e.hasFired, &e.fired, now, b.window, 1) {
		return vigil.Finding{}, false
	}
	ratio := strconv.Itoa(nd*100/n) + "%"
	return vigil.Finding{
		Detector:   DetectorEnumeration,
		Category:   vigil.API1BOLA,
		Area:       vigil.AreaChained,
		Severity:   vigil.SeverityMedium,
		Confidence: 0.7,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: host, Method: method, Template: tmpl},
		Title:      "Object enumeration: " + strconv.Itoa(n) + " distinct ids asked, " + ratio + " answered 403 or 404",
		Evidence: []vigil.Evidence{
			{Where: "endpoint", Value: method + " " + tmpl, Why: "endpoint enumerated"},
			{Where: "behavior.distinct_ids", Value: strconv.Itoa(n), Why: "distinct ids within " + vigil.FormatDuration(b.cfg.Window)},
			{Where: "behavior.denied_ratio", Value: ratio, Why: strconv.Itoa(nd) + " of " + strconv.Itoa(n) + " ids answered 403 or 404"},
		},
	}, true
}

// add records an id, keeping the denied bit of either answer; beyond limit
// the oldest goes.
func (e *enumState) add(key uint64, at int64, limit int) {
	for i := range e.ids {
		if e.ids[i].key&^deniedBit == key&^deniedBit {
			key |= e.ids[i].key & deniedBit
			copy(e.ids[i:], e.ids[i+1:])
			e.ids[len(e.ids)-1] = valEntry{key: key, at: at}
			return
		}
	}
	if len(e.ids) >= limit {
		e.ids = append(e.ids[:0], e.ids[1:]...)
	}
	if len(e.ids) == cap(e.ids) {
		grown := make([]valEntry, len(e.ids), min(limit, max(8, 2*cap(e.ids))))
		copy(grown, e.ids)
		e.ids = grown
	}
	e.ids = append(e.ids, valEntry{key: key, at: at})
}

// foreignRead records a read of an object owned by another principal.
func (b *BOLA) foreignRead(x *vigil.Exchange, host, tmpl string, tk, obj uint64, id string, at int64) (vigil.Finding, bool) {
	sh, a := b.table.Acquire(actortable.ActorHash(b.table.Seed(), &x.Actor), at, b.window, true)
	defer sh.Unlock()
	if a.State.privileged {
		return vigil.Finding{}, false
	}
	now := a.Last
	cut := actortable.SatSub(now, b.window)
	fr := a.State.foreign[:0]
	for _, f := range a.State.foreign {
		if f.at >= cut && f.obj != obj {
			fr = append(fr, f)
		}
	}
	if len(fr) >= maxForeign {
		fr = append(fr[:0], fr[1:]...)
	}
	if fr == nil {
		fr = make([]foreignRead, 0, maxForeign)
	}
	a.State.foreign = append(fr, foreignRead{obj: obj, at: now, id: mask(id)})
	n := len(a.State.foreign)
	if n < ForeignObjects {
		return vigil.Finding{}, false
	}
	// Once per actor and template per window: an attacker walking orders
	// and then addresses gets a finding on each, so each vulnerable
	// endpoint is named.
	slot := 0
	for i, f := range a.State.fired {
		if f.tk == tk {
			if quiet(true, f.at, now, b.window) {
				b.counts.suppressed.Add(1)
				return vigil.Finding{}, false
			}
			slot = i
			break
		}
		if f.at < a.State.fired[slot].at {
			slot = i // the oldest, or a free one
		}
	}
	a.State.fired[slot] = firedTemplate{tk: tk, at: now}
	b.counts.findings[0].Add(1)
	m := x.Request.Method
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: m + " " + tmpl, Why: "object read answered " + strconv.Itoa(x.Status())},
		{Where: "behavior.foreign_objects", Value: strconv.Itoa(n), Why: "distinct objects owned by other principals accessed within " + vigil.FormatDuration(b.cfg.Window)},
	}
	for i := n - 1; i >= 0 && i >= n-maxBOLAExamples; i-- {
		ev = append(ev, vigil.Evidence{Where: "object.id", Value: a.State.foreign[i].id, Why: "owned by another principal (masked)"})
	}
	return vigil.Finding{
		Detector:   DetectorBOLA,
		Category:   vigil.API1BOLA,
		Area:       vigil.AreaChained,
		Severity:   vigil.SeverityHigh,
		Confidence: 0.8,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: host, Method: m, Template: tmpl},
		Title:      "Broken object-level authorization: " + strconv.Itoa(n) + " objects owned by other principals accessed",
		Evidence:   ev,
	}, true
}

// touch records that principal ph got object obj answered 2xx by a read of
// /x/{id} and reports whether it was a foreign read.
func (b *BOLA) touch(obj, tk, ph uint64, read bool) bool {
	sh := &b.owners[obj>>60&(ownerShards-1)]
	sh.mu.Lock()
	i, found := sh.m[obj]
	if !found {
		if read {
			sh.insert(obj, ph, false)
			sh.mu.Unlock()
			b.tmplAdd(tk, tmplCount{ids: 1})
			return false
		}
		sh.mu.Unlock()
		return false
	}
	sh.touchLRU(i)
	e := &sh.ents[i]
	foreign := e.owner != ph && e.n == 1 && !e.public
	strong := e.strong
	becamePublic := e.see(ph)
	sh.mu.Unlock()
	if becamePublic {
		b.tmplAdd(tk, tmplCount{public: 1})
	}
	if foreign {
		public, listed := b.tmplState(tk)
		foreign = !public && (strong || listed)
	}
	return foreign
}

// see adds a principal to the entry and reports whether it became public.
func (e *ownEntry) see(ph uint64) bool {
	if e.owner == ph || e.public {
		return false
	}
	lo := uint32(ph) | 1
	for _, o := range e.others {
		if o == lo {
			return false
		}
	}
	for j := range e.others {
		if e.others[j] == 0 {
			e.others[j] = lo
			break
		}
	}
	if e.n < PublicPrincipals {
		e.n++
	}
	if e.n >= PublicPrincipals {
		e.public = true
		return true
	}
	return false
}

func (b *BOLA) tmplAdd(tk uint64, d tmplCount) {
	b.tmu.Lock()
	defer b.tmu.Unlock()
	c := b.tmpls[tk]
	if c == nil {
		if len(b.tmpls) >= maxOwnTemplates {
			return
		}
		c = &tmplCount{}
		b.tmpls[tk] = c
	}
	c.ids += d.ids
	c.public += d.public
	c.listed += d.listed
	c.listedTwo += d.listedTwo
}

// tmplState says whether a template is public (minPublicIDs ids listed to
// two principals, or minPublicIDs public ids that are at least half of its
// ids) and whether its collection was listed to a principal.
func (b *BOLA) tmplState(tk uint64) (public, listed bool) {
	b.tmu.Lock()
	defer b.tmu.Unlock()
	c := b.tmpls[tk]
	if c == nil {
		return false, false
	}
	public = c.listedTwo >= minPublicIDs || (c.public >= minPublicIDs && 2*c.public >= c.ids)
	return public, c.listed > 0
}

// learnList takes the ids of a collection's 2xx JSON answer as owned by the
// principal.
func (b *BOLA) learnList(x *vigil.Exchange, tmpl string) {
	body := x.Response.Body
	if len(body) > maxListBody {
		body = body[:maxListBody]
	}
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(x.Request.Host())
	h.WriteByte(' ')
	writeTemplate(&h, strings.TrimRight(tmpl, "/"))
	h.WriteString(inventory.IDSegment + "/") // as writeTemplate(tmpl + "/{id}")
	tk := h.Sum64()
	ph := maphash.String(b.table.Seed(), x.Actor.Principal)
	var d tmplCount
	s := lister{jsonCursor: jsonCursor{b: body}, steps: maxListSteps}
	s.list()
	for _, id := range s.out[:s.n] {
		if len(id) == 0 || len(id) > bolaMaxIDSegment || string(id) == redacted {
			continue
		}
		h2 := h
		h2.WriteByte(0)
		h2.Write(id)
		obj := h2.Sum64()
		sh := &b.owners[obj>>60&(ownerShards-1)]
		sh.mu.Lock()
		i, found := sh.m[obj]
		if !found {
			sh.insert(obj, ph, true)
			d.ids++
			d.listed++
			sh.mu.Unlock()
			continue
		}
		sh.touchLRU(i)
		e := &sh.ents[i]
		switch {
		case e.owner == ph:
			if !e.strong {
				d.listed++
			}
			e.strong = true
		case e.strong: // listed to a second principal: a catalogue
			was := e.public
			e.see(ph)
			if !e.listedTwo {
				d.listedTwo++
			}
			e.listedTwo, e.public = true, true
			if !was {
				d.public++
			}
		default: // a list beats a read: the reader was not the owner
			old := e.owner
			e.owner, e.strong = ph, true
			if e.see(old) {
				d.public++
			}
			d.listed++
		}
		sh.mu.Unlock()
	}
	if d != (tmplCount{}) {
		b.tmplAdd(tk, d)
	}
}

func (sh *ownerShard) insert(obj, owner uint64, strong bool) {
	var i int32
	if len(sh.ents) >= sh.limit && sh.tail >= 0 {
		i = sh.tail
		sh.unlinkLRU(i)
		delete(sh.m, sh.ents[i].obj)
	} else {
		sh.ents = append(sh.ents, ownEntry{})
		i = int32(len(sh.ents) - 1)
	}
	sh.ents[i] = ownEntry{obj: obj, owner: owner, strong: strong, n: 1, prev: -1, next: -1}
	sh.m[obj] = i
	sh.pushLRU(i)
}

func (sh *ownerShard) touchLRU(i int32) {
	if sh.head == i {
		return
	}
	sh.unlinkLRU(i)
	sh.pushLRU(i)
}

func (sh *ownerShard) unlinkLRU(i int32) {
	e := &sh.ents[i]
	if e.prev >= 0 {
		sh.ents[e.prev].next = e.next
	} else {
		sh.head = e.next
	}
	if e.next >= 0 {
		sh.ents[e.next].prev = e.prev
	} else {
		sh.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (sh *ownerShard) pushLRU(i int32) {
	e := &sh.ents[i]
	e.prev, e.next = -1, sh.head
	if sh.head >= 0 {
		sh.ents[sh.head].prev = i
	}
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
}

// listIDs puts in out the "id" of every object item of a JSON array that
// is the whole body or a value of its top-level object, at most maxListIDs,
// and returns how many.
func listIDs(b []byte, out *[maxListIDs][]byte) int {
	s := lister{jsonCursor: jsonCursor{b: b}, steps: maxListSteps}
	s.list()
	*out = s.out
	return s.n
}

func (s *lister) list() {
	s.ws()
	if s.i >= len(s.b) {
		return
	}
	switch s.b[s.i] {
	case '[':
		s.array()
	case '{':
		s.i++
		for s.steps > 0 && s.n < maxListIDs {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] == '}' {
				return
			}
			if _, ok := s.str(); !ok || !s.colon() {
				return
			}
			var ok bool
			if s.i < len(s.b) && s.b[s.i] == '[' {
				ok = s.array()
			} else {
				ok = s.skip(1)
			}
			if !ok {
				return
			}
			if more, _ := s.next('}'); !more {
				return
			}
		}
	}
}

type lister struct {
	jsonCursor
	steps int
	n     int
	out   [maxListIDs][]byte
}

func (s *lister) add(id []byte) {
	if s.n < maxListIDs {
		s.out[s.n] = id
		s.n++
	}
}

// array reads an array, taking the ids of its object items.
func (s *lister) array() bool {
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for s.steps > 0 && s.n < maxListIDs {
		s.ws()
		var ok bool
		if s.i < len(s.b) && s.b[s.i] == '{' {
			ok = s.item()
		} else {
			ok = s.skip(2)
		}
		if !ok {
			return false
		}
		if more, ok := s.next(']'); !more {
			return ok
		}
	}
	return false
}

// item reads an object and passes its top-level "id" scalar to fn.
func (s *lister) item() bool {
	s.i++
	for s.steps > 0 {
		s.steps--
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return true
		}
		k, ok := s.str()
		if !ok || !s.colon() {
			return false
		}
		if string(k) == "id" && s.i < len(s.b) && s.b[s.i] != '{' && s.b[s.i] != '[' {
			start := s.i
			if s.b[s.i] == '"' {
				v, ok := s.str()
				if !ok {
					return false
				}
				s.add(v)
			} else {
				if !s.skip(3) {
					return false
				}
				s.add(s.b[start:s.i])
			}
		} else if !s.skip(3) {
			return false
		}
		if more, ok := s.next('}'); !more {
			return ok
		}
	}
	return false
}

// skip passes over one value.
func (s *lister) skip(depth int) bool {
	s.steps--
	if depth > maxJSONDepth || s.steps <= 0 || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == end {
			s.i++
			return true
		}
		for s.steps > 0 {
			s.ws()
			if c == '{' {
				if _, ok := s.str(); !ok || !s.colon() {
					return false
				}
			}
			if !s.skip(depth + 1) {
				return false
			}
			if more, ok := s.next(end); !more {
				return ok
			}
		}
		return false
	default:
		return len(s.scalar()) > 0
	}
}
