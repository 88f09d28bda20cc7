package detect

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
)

// LimitsConfig sets what the resource limits detector calls abuse.
type LimitsConfig struct {
	MaxPageSize int64 // a page size above it is reported; 0 = 1000
	MaxBodySize int64 // a JSON request body above it is reported; 0 = 10 MiB
}

// Limits finds requests that ask for unbounded work: page sizes far above
// any sane default (limit, per_page, page_size, size, top, ...) in the query,
// a form, JSON at any depth, GraphQL arguments and /per_page/N paths, and
// oversized JSON request bodies.
type Limits struct{ cfg LimitsConfig }

var _ vigil.Analyzer = (*Limits)(nil)

// NewLimits returns the resource limits detector.
func NewLimits(cfg LimitsConfig) *Limits {
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 1000
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 10 << 20
	}
	return &Limits{cfg: cfg}
}

// queryPageNames hold a page size in a query string or form; bodyPageNames
// in JSON, where "size", "count", "rows", "hits", "num", "max" and "fetch"
// mean too many other things (a file's size, a sheet's rows, a page's hits).
// Names are compared normalised (pii.NormKeyIn): page[size], $top, _limit,
// itemsPerPage and max-results are pagesize, top, limit, itemsperpage and
// maxresults.
var (
	queryPageNames = map[string]bool{"limit": true, "perpage": true, "pagesize": true, "size": true, "count": true, "top": true, "topn": true, "first": true, "last": true, "take": true, "maxresults": true, "rows": true, "max": true, "pagelimit": true, "batchsize": true, "fetchsize": true, "num": true, "fetch": true, "hits": true}
	bodyPageNames  = map[string]bool{"limit": true, "perpage": true, "pagesize": true, "top": true, "topn": true, "first": true, "last": true, "take": true, "maxresults": true, "pagelimit": true, "batchsize": true, "fetchsize": true}
	// pathPageNames are read from /per_page/100000-style paths, where
	// the short words are names of things (/charts/top/100, /names/first).
	pathPageNames = map[string]bool{"limit": true, "perpage": true, "pagesize": true, "maxresults": true, "pagelimit": true}
	// pagingNames with a number, and pagingKeys with any value, next to a
	// JSON "size" make it a page size rather than a byte count:
	// {"query":{…},"from":0,"size":10000} (Elasticsearch),
	// {"page":1,"size":5000}. "offset" does not: a chunked upload sends
	// {"offset":…,"size":…} in bytes.
	pagingNames = map[string]bool{"from": true, "page": true, "pagenumber": true, "pageindex": true, "pageno": true}
	pagingKeys  = map[string]bool{"query": true, "sort": true, "searchafter": true}
	// pagingObjects name a JSON object that holds paging parameters: in
	// {"pagination":{"offset":0,"size":50000}} or {"page":{"count":…}}
	// the short pagedNames are page sizes, even next to an offset.
	// pagingPrefixes do the same for flattened names (paging[count],
	// pagination.size); "page" is left out there, since pageCount and
	// page_rows count a document's pages.
	pagingObjects  = map[string]bool{"pagination": true, "paging": true, "pager": true, "page": true, "pageable": true}
	pagingPrefixes = [...]string{"pagination", "paging", "pager"}
	pagedNames     = map[string]bool{"size": true, "count": true, "rows": true, "max": true, "num": true}
)

// pageNouns name what a page holds: "max_items", "numResults",
// "row_limit" and "results_per_page" are page sizes, "max_price" and
// "credit_limit" are not. limitNouns name a limit on paging.
var (
	pageNouns  = [...]string{"items", "item", "results", "result", "rows", "row", "records", "record", "hits", "hit", "entries", "entry", "docs", "documents", "objects", "keys"}
	limitNouns = [...]string{"pagination", "paging", "query", "search", "fetch"}
)

// pageSizeName says whether a normalised name is a page size: one of names,
// "…perpage", "…pagesize", a page noun after "max" or "num", a page or
// limit noun before "limit", or a paging prefix before a paged name.
func pageSizeName(n []byte, names map[string]bool) bool {
	if names[string(n)] || bytes.Contains(n, []byte("perpage")) || bytes.HasSuffix(n, []byte("pagesize")) {
		return true
	}
	for _, p := range pagingPrefixes {
		if rest, ok := bytes.CutPrefix(n, []byte(p)); ok && (pagedNames[string(rest)] || bodyPageNames[string(rest)]) {
			return true
		}
	}
	if rest, ok := bytes.CutSuffix(n, []byte("limit")); ok {
		return oneOf(rest, pageNouns[:]) || oneOf(rest, limitNouns[:])
	}
	rest, ok := bytes.CutPrefix(n, []byte("max"))
	if !ok {
		rest, ok = bytes.CutPrefix(n, []byte("num"))
	}
	return ok && oneOf(rest, pageNouns[:])
}

func oneOf(b []byte, words []string) bool {
	for _, w := range words {
		if string(b) == w {
			return true
		}
	}
	return false
}

// Analyze implements vigil.Analyzer.
func (d *Limits) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	rq := &x.Request
	s := d.scan(x, nil)
	if rq.URL != nil && (rq.URL.RawQuery != "" || strings.ContainsAny(rq.URL.Path, "0123456789")) || len(rq.Body) > 0 {
		return runScan(s, rq), nil
	}
	return s.findings(), nil // no parameters: only the body size is judged
}

func (d *Limits) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, limitsScan{d: d, x: x})
}

type limitsScan struct {
	d   *Limits
	x   *vigil.Exchange
	out []vigil.Finding

	pageSeg int // 1 + the index of a path segment naming a page size

	// A big JSON "size" and the objects holding a paging key, by a hash of
	// the path of their parent object.
	size      bool
	sizeIn    uint64
	sizeWhere string
	sizeValue string
	paging    [4]uint64
	npaging   int

	// GraphQL page sizes given by a variable ("first: $n"), and the
	// variables whose value is above the bar.
	varArgs [4]varArg
	nvarArg int
	bigVars [4]bigVar
	nbigVar int
}

// bigVar is a GraphQL variable above the bar.
type bigVar struct {
	name, where, value string
	op                 int // operationOf the leaf it came from
}

// varArg is a page-size argument that takes a variable ("first: $n").
type varArg struct {
	name string
	op   int
}

// operationOf tells the operations of a batched GraphQL request apart
// ([{"query":…,"variables":…}, …]): 1 + the index in the batch of the
// object that holds l, 0 for a request with one operation. A variable is
// matched to an argument of its own operation only.
func operationOf(l *Leaf) int {
	if len(l.frames) > 0 && l.frames[0].array {
		return 1 + l.frames[0].index
	}
	return 0
}

// addBigVar notes a GraphQL variable whose value is above the bar.
func (s *limitsScan) addBigVar(name, where, value string, op int) {
	if s.nbigVar < len(s.bigVars) && name != "" && s.above(value) {
		s.bigVars[s.nbigVar] = bigVar{name: shorten(name), where: where, value: shorten(value), op: op}
		s.nbigVar++
	}
}

func (s *limitsScan) leaf(l *Leaf) bool {
	switch l.Kind {
	case KindNumber:
	case KindKey:
		if l.Source != SourceJSON {
			return true
		}
	case KindString:
		// Most values are words: of those only a GraphQL document, in a
		// field named query, is read. The test costs less than the name's.
		if l.Source != SourcePath && !numberLead(l.Value) && strings.IndexByte(l.Value, '(') < 0 {
			return true
		}
	default:
		return true
	}
	var nb [64]byte
	n := pii.NormKeyIn(&nb, l.Key)
	switch {
	case l.Kind == KindKey: // JSON only (above)
		if pagingKeys[string(n)] {
			return s.pagingKey(l)
		}
		return true
	case l.Source == SourceQuery || l.Source == SourceForm:
		// The number before the composed name: most numbers are small.
		if s.above(l.Value) && pageSizeName(n, queryPageNames) {
			return s.judge(l.Loc(), l.Value)
		}
	case l.Source == SourceJSON:
		big := s.above(l.Value)
		if big && l.Kind == KindNumber && (l.Parent() == "variables" || len(l.frames) == 1 && strings.HasSuffix(l.prefix, ".variables")) {
			s.variable(l) // a GraphQL variable, whatever its name
		}
		switch {
		case big && pageSizeName(n, bodyPageNames):
			return s.judge(l.Loc(), l.Value)
		case big && pagedNames[string(n)] && inPagingObject(l):
			return s.judge(l.Loc(), l.Value)
		case string(n) == "size":
			return s.sizeValueAt(l)
		case pagingNames[string(n)]:
			return s.pagingKey(l)
		}
	case l.Source == SourcePath:
		return s.pathSegment(l)
	}
	if l.Kind == KindString && string(n) == "query" && strings.IndexByte(l.Value, '(') >= 0 && strings.IndexByte(l.Value, '{') >= 0 {
		return s.graphQL(l)
	}
	return true
}

// inPagingObject says whether a JSON leaf sits in an object named by
// pagingObjects.
func inPagingObject(l *Leaf) bool {
	var nb [64]byte
	return pagingObjects[string(pii.NormKeyIn(&nb, l.Parent()))]
}

// numberLead says whether v may read as a number (strconv.ParseFloat):
// after spaces, a digit, a sign, a point or the "i" of "Inf".
func numberLead(v string) bool {
	v = strings.TrimLeft(v, " \t")
	return v != "" && (v[0] >= '0' && v[0] <= '9' || strings.IndexByte("+-.iI", v[0]) >= 0)
}

// above reads v as a number above the bar.
func (s *limitsScan) above(v string) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return err == nil && f > float64(s.d.cfg.MaxPageSize)
}

// judge reports v, a page size found at where, when it is above the bar;
// false when it did (one page-size finding is enough).
func (s *limitsScan) judge(where, v string) bool {
	max := s.d.cfg.MaxPageSize
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f > float64(max)) { // NaN is no page size
		return true
	}
	sev := vigil.SeverityLow
	if f > 10*float64(max) {
		sev = vigil.SeverityMedium
	}
	ev := []vigil.Evidence{{Where: where, Value: shorten(v),
		Why: "page size " + shorten(v) + " is above " + strconv.FormatInt(max, 10)}}
	s.out = append(s.out, finding("detect.resource.limits", s.x, vigil.API4ResourceConsumption, sev, 0.8, "Excessive page size", ev))
	return false
}

// pathSegment judges /per_page/100000: a number right after a segment
// naming a page size. "limit" so only in reads: PUT /cards/7/limit/5000
// sets a credit limit.
func (s *limitsScan) pathSegment(l *Leaf) bool {
	if l.Decoded {
		return true
	}
	if s.pageSeg == l.index && s.pageSeg > 0 {
		return s.judge(l.Loc(), l.Value)
	}
	var nb [64]byte
	n := pii.NormKeyIn(&nb, l.Value)
	if pageSizeName(n, pathPageNames) && (string(n) != "limit" || s.x.Request.Method == "GET" || s.x.Request.Method == "HEAD") {
		s.pageSeg = l.index + 1
	}
	return true
}

// parentHash identifies the JSON object holding a leaf: a hash of its path.
func parentHash(l *Leaf) uint64 {
	h := uint64(14695981039346656037) // FNV-1a
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * 1099511628211
		}
		h = (h ^ '/') * 1099511628211
	}
	add(l.prefix)
	for _, f := range l.frames[:max(len(l.frames)-1, 0)] {
		if f.array {
			add(strconv.Itoa(f.index))
		} else {
			add(f.key)
		}
	}
	return h
}

// sizeValueAt notes a JSON "size" above the bar, a page size if a paging
// key sits next to it.
func (s *limitsScan) sizeValueAt(l *Leaf) bool {
	if s.size || !s.above(l.Value) {
		return true
	}
	s.size, s.sizeIn, s.sizeWhere, s.sizeValue = true, parentHash(l), l.Loc(), shorten(l.Value)
	for _, p := range s.paging[:s.npaging] {
		if p == s.sizeIn {
			return s.judge(s.sizeWhere, s.sizeValue)
		}
	}
	return true
}

// pagingKey notes an object holding a paging key: one of pagingKeys, or
// one of pagingNames with a number.
func (s *limitsScan) pagingKey(l *Leaf) bool {
	if l.Kind != KindKey {
		if _, err := strconv.ParseFloat(strings.TrimSpace(l.Value), 64); err != nil {
			return true // "from": "alice@example.com" is a mail, not an offset
		}
	}
	h := parentHash(l)
	if s.size && s.sizeIn == h {
		return s.judge(s.sizeWhere, s.sizeValue)
	}
	if s.npaging < len(s.paging) {
		s.paging[s.npaging] = h
		s.npaging++
	}
	return true
}

// variable notes a GraphQL variable above the bar: its use as a page size
// is judged once the query is read.
func (s *limitsScan) variable(l *Leaf) { s.addBigVar(l.Key, l.Loc(), l.Value, operationOf(l)) }

// graphQL judges the page-size arguments of a GraphQL document:
// orders(last: 50000), users(first: $n) with a big $n, and
// query($n: Int = 99999), a variable's default.
func (s *limitsScan) graphQL(l *Leaf) bool {
	where := ""
	ok := true
	graphQLArgs(l.Value, func(name, val string) bool {
		if name[0] == '$' {
			s.addBigVar(name[1:], l.Loc(), val, operationOf(l))
			return true
		}
		var nb [64]byte
		if !pageSizeName(pii.NormKeyIn(&nb, name), bodyPageNames) {
			return true
		}
		if val[0] == '$' {
			if s.nvarArg < len(s.varArgs) {
				s.varArgs[s.nvarArg] = varArg{name: shorten(val[1:]), op: operationOf(l)}
				s.nvarArg++
			}
			return true
		}
		if where == "" {
			where = l.Loc()
		}
		ok = s.judge(where+"("+shorten(name)+")", val)
		return ok
	})
	return ok
}

// graphQLArgs calls fn with each "name: value" of a GraphQL document whose
// value is a literal or a variable ("first: 50000", "limit: $n"), and with
// "$n", "99999" for a variable's default ("$n: Int = 99999"), until fn
// returns false. Strings and comments are skipped; aliases ("a: orders")
// come out too, their value a name.
func graphQLArgs(q string, fn func(name, val string) bool) {
	word := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' }
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '"':
			for i++; i < len(q) && q[i] != '"'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
		case '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case ':':
			j := i
			for j > 0 && space(q[j-1]) {
				j--
			}
			k := j
			for k > 0 && word(q[k-1]) {
				k--
			}
			if k > 0 && q[k-1] == '$' {
				k--
			}
			v := i + 1
			for v < len(q) && space(q[v]) {
				v++
			}
			if k < j && q[k] == '$' { // a variable definition: skip its type
				for v < len(q) && (word(q[v]) || space(q[v]) || strings.IndexByte("![]", q[v]) >= 0) {
					v++
				}
				if v == len(q) || q[v] != '=' {
					continue
				}
				for v++; v < len(q) && space(q[v]); v++ {
				}
			}
			e := v
			if e < len(q) && q[e] == '$' {
				e++
			}
			for e < len(q) && (word(q[e]) || q[e] == '.' || q[e] == '-' || q[e] == '+') {
				e++
			}
			if k < j && v < e && !fn(q[k:j], q[v:e]) {
				return
			}
		}
	}
}

func (s *limitsScan) findings() []vigil.Finding {
	if len(s.out) == 0 {
		s.graphQLVariables()
	}
	rq := &s.x.Request
	if rq.BodySize > s.d.cfg.MaxBodySize && jsonRequest(rq) {
		n := strconv.FormatInt(rq.BodySize, 10)
		ev := []vigil.Evidence{{Where: "body", Value: n + " bytes",
			Why: "JSON body of " + n + " bytes is above " + strconv.FormatInt(s.d.cfg.MaxBodySize, 10)}}
		s.out = append(s.out, finding("detect.resource.limits", s.x, vigil.API4ResourceConsumption, vigil.SeverityMedium, 0.8, "Oversized request body", ev))
	}
	return s.out
}

// graphQLVariables reports a variable above the bar that a page-size
// argument takes ("first: $n" with "variables": {"n": 99999}).
func (s *limitsScan) graphQLVariables() {
	for _, a := range s.varArgs[:s.nvarArg] {
		for _, v := range s.bigVars[:s.nbigVar] {
			if v.name == a.name && v.op == a.op {
				s.judge(v.where+" ($"+a.name+")", v.value)
				return
			}
		}
	}
}

func jsonRequest(r *vigil.Request) bool {
	ct := ""
	if r.Header != nil {
		ct = strings.ToLower(headerValue(r.Header, "Content-Type"))
	}
	return strings.Contains(ct, "json") || ct == "" && looksJSONBytes(r.Body)
}
