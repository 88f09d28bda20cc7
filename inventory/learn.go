package inventory

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Learned-cardinality bounds and thresholds of a Learner.
const (
	// DefaultMaxLiterals is how many distinct literal values one path
	// position may take before it is learned as a parameter.
	DefaultMaxLiterals = 24
	// DefaultShapeRun is how many distinct literal values of one
	// digit-bearing shape ("GC-1434", "GC-5468": letters, a dash, four
	// digits) make a position a parameter earlier.
	DefaultShapeRun = 4
	// DefaultMaxNodes bounds the learned path tree of all hosts together.
	DefaultMaxNodes = 100_000
	// maxDepth is the deepest position learned; deeper segments fold into
	// Other.
	maxDepth = 24
	// keepHits and keepOver: after a position becomes a parameter, a
	// literal value keeps its own endpoint only with keepHits requests and
	// keepOver times the median of its siblings (see learn).
	keepHits = 8
	keepOver = 5
	// learnAfter: a position is judged on its count of values once it has
	// seen learnAfter times MaxLiterals requests, so that the values that
	// stand out have had the time to (a scanner's first burst does not
	// fold the real API's prefix).
	learnAfter = 4
	// maxSegment: longer literal segments are parameters (no endpoint is
	// named by a 128-byte word).
	maxSegment = 96
)

// A Learner turns request paths into endpoint templates, learning from the
// traffic which positions are parameters. It starts from Template's fixed
// rules (numbers, UUIDs, hex digests, e-mails, dates, tokens, codes such as
// "GC-1434"), and adds learned cardinality: a position under one prefix that
// takes more than MaxLiterals distinct values, or ShapeRun values of one
// digit-bearing shape, becomes a parameter. Values that carry a real share
// of that position's traffic stay literal ("/users/me"), so do version
// segments ("v1", "v2"). A scanner's random paths collapse the positions they
// vary, so they end in a few "{id}" templates, never in one endpoint each.
//
// Memory is bounded: at most MaxNodes positions in all (about 200 bytes each
// plus the segment's text, at most 96 bytes); when the tree is full, a new
// value becomes a parameter, and below maxDepth segments everything folds
// into Other.
//
// A Learner is safe for concurrent use. Lookups of known paths take a read
// lock and allocate nothing beyond the template string.
type Learner struct {
	maxLiterals, shapeRun, maxNodes int

	mu    sync.RWMutex
	hosts map[string]*node
	nodes int

	// gen grows each time a position becomes a parameter: templates made
	// before may now map elsewhere (see Retemplate).
	gen      atomic.Uint64
	collapse atomic.Int64 // positions learned as parameters
}

// node is one path position under a prefix.
type node struct {
	hits     atomic.Int64     // requests through this position
	literals map[string]*node // literal values seen here
	param    *node            // the parameter child, once there is one
	// learned: unseen literal values here go to param.
	learned bool
	// shapes counts distinct literal values per digit-bearing shape, until
	// learned.
	shapes map[string]int
}

// LearnerConfig bounds a Learner; zero values take the defaults.
type LearnerConfig struct {
	MaxLiterals int // DefaultMaxLiterals
	ShapeRun    int // DefaultShapeRun
	MaxNodes    int // DefaultMaxNodes
}

// NewLearner returns an empty Learner.
func NewLearner(c LearnerConfig) *Learner {
	if c.MaxLiterals <= 0 {
		c.MaxLiterals = DefaultMaxLiterals
	}
	if c.ShapeRun <= 0 {
		c.ShapeRun = DefaultShapeRun
	}
	if c.MaxNodes <= 0 {
		c.MaxNodes = DefaultMaxNodes
	}
	return &Learner{maxLiterals: c.MaxLiterals, shapeRun: c.ShapeRun, maxNodes: c.MaxNodes, hosts: map[string]*node{}}
}

// LearnerStats describe a Learner.
type LearnerStats struct {
	Nodes       int    // positions in the tree
	Learned     int64  // positions learned as parameters
	Generation  uint64 // grows with Learned
	NodesCapped bool   // the tree is full
}

// Stats returns the Learner's counters.
func (l *Learner) Stats() LearnerStats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return LearnerStats{Nodes: l.nodes, Learned: l.collapse.Load(), Generation: l.gen.Load(), NodesCapped: l.nodes >= l.maxNodes}
}

// Generation grows each time a position becomes a parameter.
func (l *Learner) Generation() uint64 { return l.gen.Load() }

// Observe learns from one request path of host and returns its template.
func (l *Learner) Observe(host, path string) string {
	return l.walk(host, path, true)
}

// Retemplate maps a template made earlier (or a path) to what the Learner
// makes of it now, without learning from it. Templates made before a
// position became a parameter move to the parameter's template.
func (l *Learner) Retemplate(host, template string) string {
	return l.walk(host, template, false)
}

// walk maps path through host's tree. With learn, it counts the request and
// grows the tree; without, it only reads.
func (l *Learner) walk(host, path string, learn bool) string {
	if path == "" || path == "/" {
		return "/"
	}
	if t, due, ok := l.lookup(host, path, learn); ok {
		if due != nil {
			l.mu.Lock()
			if l.due(due) {
				l.learn(due)
			}
			l.mu.Unlock()
		}
		return t
	}
	if !learn {
		return Template(path)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t, _ := l.grow(host, path)
	return t
}

// lookup is the read-locked path: it succeeds when every segment is already
// in the tree. With learn it counts the hits, and returns a position that
// has just become due for learning (see due), if any.
func (l *Learner) lookup(host, path string, learn bool) (_ string, due *node, _ bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	root := l.hosts[host]
	if root == nil {
		return "", nil, false
	}
	var t tmpl
	n := root
	for seg, rest, more := nextSegment(path); ; seg, rest, more = nextSegment(rest) {
		if t.full() {
			t.fold()
			break
		}
		next, param := n.route(seg)
		if next == nil {
			return "", nil, false
		}
		t.add(seg, param)
		n = next
		if !more {
			break
		}
	}
	if learn {
		n = root
		for i := 0; ; i++ {
			// A position is reconsidered each time its traffic doubles
			// past the threshold, whether or not new values arrive.
			if h := n.hits.Add(1); h&(h-1) == 0 && due == nil && l.due(n) {
				due = n
			}
			if i == t.n {
				break
			}
			n, _ = n.route(t.segs[i])
		}
	}
	return t.render(path), due, true
}

// due says whether n should become a parameter position now.
func (l *Learner) due(n *node) bool {
	return !n.learned && len(n.literals) > l.maxLiterals && n.hits.Load() >= int64(learnAfter*l.maxLiterals)
}

// tmpl collects a template's segments without allocating.
type tmpl struct {
	segs   [maxDepth]string
	param  [maxDepth]bool
	n      int
	folded bool
}

func (t *tmpl) full() bool { return t.n == maxDepth }
func (t *tmpl) fold()      { t.folded = true }
func (t *tmpl) add(seg string, param bool) {
	t.segs[t.n], t.param[t.n] = seg, param
	t.n++
}

// render builds the template; it returns path itself when they are equal.
func (t *tmpl) render(path string) string {
	size := 0
	same := !t.folded
	for i := 0; i < t.n; i++ {
		if t.param[i] {
			size += 1 + len(IDSegment)
			same = same && t.segs[i] == IDSegment
		} else {
			size += 1 + len(t.segs[i])
		}
	}
	if same && size == len(path) && canonical(path) {
		return path
	}
	var b strings.Builder
	b.Grow(size + 1 + len(Other))
	for i := 0; i < t.n; i++ {
		b.WriteByte('/')
		if t.param[i] {
			b.WriteString(IDSegment)
		} else {
			b.WriteString(t.segs[i])
		}
	}
	if t.folded {
		b.WriteString("/" + Other)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// route picks the child of n for seg without changing the tree: the literal
// child, else the parameter child when seg is an identifier, a parameter
// template segment, or the position is learned. nil when neither exists.
func (n *node) route(seg string) (next *node, param bool) {
	if isParamSegment(seg) {
		return n.param, true
	}
	if c := n.literals[seg]; c != nil {
		return c, false
	}
	if n.learned || isID(seg) || len(seg) > maxSegment {
		return n.param, true
	}
	return nil, false
}

// grow walks path, creating positions and learning; l.mu is held.
func (l *Learner) grow(host, path string) (string, bool) {
	root := l.hosts[host]
	if root == nil {
		if l.nodes >= l.maxNodes {
			return Template(path), false
		}
		root = &node{}
		l.hosts[host] = root
		l.nodes++
	}
	root.hits.Add(1)
	var t tmpl
	n := root
	for seg, rest, more := nextSegment(path); ; seg, rest, more = nextSegment(rest) {
		if t.full() {
			t.fold()
			break
		}
		next, param := l.child(n, seg)
		next.hits.Add(1)
		t.add(seg, param)
		n = next
		if !more {
			break
		}
	}
	return t.render(path), true
}

// child returns (creating it if need be) n's child for seg; l.mu is held.
func (l *Learner) child(n *node, seg string) (*node, bool) {
	if next, param := n.route(seg); next != nil {
		return next, param
	}
	if isParamSegment(seg) || n.learned || isID(seg) || len(seg) > maxSegment {
		return l.paramChild(n), true
	}
	if l.nodes >= l.maxNodes {
		// Full: new values are parameters.
		return l.paramChild(n), true
	}
	c := &node{}
	if n.literals == nil {
		n.literals = map[string]*node{}
	}
	n.literals[seg] = c
	l.nodes++
	if l.shouldLearn(n, seg) {
		l.learn(n)
		if n.literals[seg] == nil { // folded into the parameter
			return n.param, true
		}
	}
	return c, false
}

// paramChild returns n's parameter child, creating it (even beyond the node
// cap, once per position: the cap is then exceeded by at most one node per
// full position, which the fold below keeps rare).
func (l *Learner) paramChild(n *node) *node {
	if n.param == nil {
		n.param = &node{}
		l.nodes++
	}
	return n.param
}

// shouldLearn says whether n, which just got literal seg, is a parameter
// position.
func (l *Learner) shouldLearn(n *node, seg string) bool {
	if versionSegment(seg) {
		return false
	}
	if l.due(n) {
		return true
	}
	sh, ok := shape(seg)
	if !ok {
		return false
	}
	if n.shapes == nil {
		n.shapes = map[string]int{}
	}
	if len(n.shapes) >= 64 && n.shapes[sh] == 0 {
		return false // bounded: many shapes here, the literal count decides
	}
	n.shapes[sh]++
	return n.shapes[sh] >= l.shapeRun
}

// learn makes n a parameter position: literal values fold into the
// parameter child, with their subtrees, except versions and the values that
// stand out of the crowd ("/users/me" among usernames, "/api" among a
// scanner's random words). A value stands out with keepHits requests and
// either a fifth of the position's traffic, or a fiftieth of it, keepOver
// times the median value's, and a subtree unlike the folded values' (most
// of its child segments are none of theirs). A popular id in a skewed crowd
// has the crowd's subtree, so it folds.
func (l *Learner) learn(n *node) {
	n.learned = true
	n.shapes = nil
	l.collapse.Add(1)
	l.gen.Add(1)
	hits := make([]int64, 0, len(n.literals))
	var total int64
	for _, c := range n.literals {
		h := c.hits.Load()
		hits = append(hits, h)
		total += h
	}
	slices.Sort(hits)
	var median int64
	if len(hits) > 0 {
		median = hits[len(hits)/2]
	}
	var fold, maybe []string
	for seg, c := range n.literals {
		h := c.hits.Load()
		switch {
		case versionSegment(seg):
		case h >= keepHits && h*5 >= total:
		case h < keepHits || h*50 < total || h < keepOver*median:
			fold = append(fold, seg)
		default:
			maybe = append(maybe, seg)
		}
	}
	crowd := map[string]bool{} // child segments of the folded values
	for _, seg := range fold {
		for k := range n.literals[seg].literals {
			crowd[k] = true
		}
	}
	for _, seg := range maybe {
		kids := n.literals[seg].literals
		shared := 0
		for k := range kids {
			if crowd[k] {
				shared++
			}
		}
		if len(kids) == 0 || 2*shared >= len(kids) { // like the crowd
			fold = append(fold, seg)
		}
	}
	p := l.paramChild(n)
	for _, seg := range fold {
		c := n.literals[seg]
		delete(n.literals, seg)
		l.nodes--
		l.merge(p, c)
	}
}

// merge moves src's counts and subtree into dst; l.mu is held.
func (l *Learner) merge(dst, src *node) {
	dst.hits.Add(src.hits.Load())
	for seg, c := range src.literals {
		if d := dst.literals[seg]; d != nil {
			l.nodes--
			l.merge(d, c)
			continue
		}
		if dst.learned && !versionSegment(seg) {
			// A parameter position takes no new literal values.
			l.nodes--
			l.merge(l.paramChild(dst), c)
			continue
		}
		if dst.literals == nil {
			dst.literals = map[string]*node{}
		}
		dst.literals[seg] = c
	}
	if src.param != nil {
		if dst.param == nil {
			dst.param = src.param
		} else {
			l.nodes--
			l.merge(dst.param, src.param)
		}
	}
	dst.learned = dst.learned || src.learned
	if dst.learned {
		dst.shapes = nil
	}
	if l.due(dst) {
		l.learn(dst)
	}
}

// nextSegment splits the first segment off path ("/a/b" → "a", "/b", true).
// Empty segments ("//") are skipped.
func nextSegment(path string) (seg, rest string, more bool) {
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	i := strings.IndexByte(path, '/')
	if i < 0 {
		return path, "", false
	}
	rest = path[i:]
	return path[:i], rest, strings.Trim(rest, "/") != ""
}

// isParamSegment reports a template's parameter segment: "{id}", "{code}".
func isParamSegment(s string) bool {
	return len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' && s != Other
}

// versionSegment matches API version segments: "v1", "v2", "V10", "v1.1".
func versionSegment(s string) bool {
	if len(s) < 2 || len(s) > 6 || (s[0] != 'v' && s[0] != 'V') || !isDigit(s[1]) {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// isCode matches business codes: one to five letters, an optional '-' or
// '_', then four or more digits ("GC-1434", "ORD2024001", "inv_00012").
// Three digits are not enough: "h264" stays a word.
func isCode(s string) bool {
	i := 0
	for i < len(s) && i < 6 && isLetter(s[i]) {
		i++
	}
	if i == 0 || i > 5 {
		return false
	}
	if i < len(s) && (s[i] == '-' || s[i] == '_') {
		i++
	}
	digits := len(s) - i
	return digits >= 4 && isDecimal(s[i:])
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// shape abstracts a segment to its character classes, runs collapsed
// ("GC-1434" → "A-9", "user_17" → "a_9"), and says whether it bears a digit:
// only digit-bearing shapes suggest generated values.
func shape(s string) (string, bool) {
	var b [32]byte
	n, digit := 0, false
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		var k byte
		switch {
		case isDigit(c):
			k, digit = '9', true
		case 'a' <= c && c <= 'z':
			k = 'a'
		case 'A' <= c && c <= 'Z':
			k = 'A'
		default:
			k = c
		}
		if k == prev && (k == '9' || k == 'a' || k == 'A') {
			continue
		}
		if n == len(b) {
			return "", false
		}
		b[n] = k
		n++
		prev = k
	}
	return string(b[:n]), digit
}

// canonical: path starts with "/", has no empty segment and no trailing "/".
func canonical(path string) bool {
	return len(path) > 0 && path[0] == '/' && path[len(path)-1] != '/' && !strings.Contains(path, "//")
}
