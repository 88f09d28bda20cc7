package spec

import (
	"slices"
	"strings"
)

// Set holds several specs at once (one per host or service) and matches
// requests to their operations through a segment trie built by NewSet.
// A Set is read-only after NewSet and safe for concurrent use.
type Set struct {
	ops   []*Operation
	hosts []string
	root  *node
}

// node is one position in the segment trie.
type node struct {
	literal  map[string]*node    // exact segments
	patterns []*pattern          // segments with text around parameters, most literal text first
	byKey    map[string]*pattern // patterns by key, while building
	param    *node               // a whole-segment parameter, "{id}"
	ops      []*Operation        // operations whose path ends here
}

// pattern is a segment with literal text around one or more parameters:
// "{name}.json" has the parts "" and ".json"; each parameter matches one or
// more characters.
type pattern struct {
	key   string   // the segment with parameter names dropped: "{}.json"
	parts []string // the literal text between the parameters
	next  *node
}

// NewSet indexes the operations of specs for Match. Nil specs are skipped.
// When two specs document the same method, path and host, the first wins.
func NewSet(specs ...*Spec) *Set {
	s := &Set{root: &node{}}
	hosts := map[string]bool{}
	for _, sp := range specs {
		if sp == nil {
			continue
		}
		for _, h := range sp.Hosts {
			hosts[h] = true
		}
		for _, op := range sp.Ops {
			if op != nil {
				s.ops = append(s.ops, op)
				s.insert(op)
			}
		}
	}
	for h := range hosts {
		s.hosts = append(s.hosts, h)
	}
	slices.Sort(s.hosts)
	s.root.finish()
	return s
}

// finish orders every node's patterns, most literal text first, and drops
// the build-time index. Paths have at most MaxSegments segments, so the
// recursion is shallow.
func (n *node) finish() {
	n.byKey = nil
	slices.SortStableFunc(n.patterns, func(a, b *pattern) int {
		return literalLen(b.parts) - literalLen(a.parts)
	})
	for _, c := range n.literal {
		c.finish()
	}
	for _, p := range n.patterns {
		p.next.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
}

// Ops returns every operation of the set's specs, in spec order.
func (s *Set) Ops() []*Operation {
	return slices.Clone(s.ops)
}

// Hosts returns the union of the specs' hosts: the first-party hosts.
func (s *Set) Hosts() []string {
	return slices.Clone(s.hosts)
}

// insert adds an operation to the trie.
func (s *Set) insert(op *Operation) {
	n := s.root
	rest := strings.Trim(op.Path, "/")
	for rest != "" {
		seg := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		n = n.child(seg)
	}
	n.ops = append(n.ops, op)
}

// child returns (creating it) the node below n for one spec segment.
func (n *node) child(seg string) *node {
	parts, isParam := segmentParts(seg)
	switch {
	case isParam:
		if n.param == nil {
			n.param = &node{}
		}
		return n.param
	case parts == nil:
		if n.literal == nil {
			n.literal = map[string]*node{}
		}
		c := n.literal[seg]
		if c == nil {
			c = &node{}
			n.literal[seg] = c
		}
		return c
	}
	key := strings.Join(parts, "{}")
	if p := n.byKey[key]; p != nil {
		return p.next
	}
	p := &pattern{key: key, parts: parts, next: &node{}}
	n.patterns = append(n.patterns, p)
	if n.byKey == nil {
		n.byKey = map[string]*pattern{}
	}
	n.byKey[key] = p
	return p.next
}

// segmentParts classifies a spec path segment: a whole parameter ("{id}"),
// literal text (nil parts), or a pattern, whose literal parts it returns.
// Unbalanced braces make a literal.
func segmentParts(seg string) (parts []string, isParam bool) {
	if !strings.Contains(seg, "{") {
		return nil, false
	}
	rest := seg
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return nil, false
			}
			parts = append(parts, rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 || strings.IndexByte(rest[:open], '}') >= 0 || strings.IndexByte(rest[open+1:open+end], '{') >= 0 {
			return nil, false
		}
		parts = append(parts, rest[:open])
		rest = rest[open+end+1:]
	}
	if len(parts) == 2 && parts[0] == "" && parts[1] == "" {
		return nil, true
	}
	return parts, false
}

func literalLen(parts []string) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return n
}

// matches reports whether a concrete segment fits the pattern, each
// parameter taking at least one character.
func (p *pattern) matches(seg string) bool {
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if !strings.HasPrefix(seg, first) {
		return false
	}
	rest := seg[len(first):]
	for _, mid := range p.parts[1 : len(p.parts)-1] {
		if len(rest) < 1 {
			return false
		}
		i := strings.Index(rest[1:], mid)
		if i < 0 {
			return false
		}
		rest = rest[1+i+len(mid):]
	}
	return len(rest) > len(last) && strings.HasSuffix(rest, last)
}

// Match returns the operation documenting a request, or nil when none
// does. path may be concrete ("/api/v2/orders/8812") or a template whose
// parameter segments are written "{id}" or "{anything}"; a query string is
// ignored, and so is a trailing slash. A spec parameter segment matches any
// non-empty segment, and a literal segment is preferred to a parameter at
// the same position ("/users/me" before "/users/{id}"). The method must
// match (case-insensitively); HEAD falls back to GET. An operation with no
// Host matches any host; otherwise the host must be the same,
// case-insensitively, with a default port (":80", ":443") ignored.
//
// Match allocates nothing.
func (s *Set) Match(host, method, path string) *Operation {
	if s == nil || s.root == nil {
		return nil
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimRight(path, "/")
	path = strings.TrimPrefix(path, "/")
	return s.root.match(path, path == "", host, method)
}

// MatchAlias is Match, except that a host no spec names is taken for an alias
// of the specs' hosts: traffic often reaches the API by another name
// ("10.0.0.5:8080" for what the spec calls "api.shop.test"). A host a spec
// names gets no second chance. Host names are compared without their port.
func (s *Set) MatchAlias(host, method, path string) *Operation {
	if op := s.Match(host, method, path); op != nil || s == nil {
		return op
	}
	name := hostName(host)
	for _, h := range s.hosts {
		if strings.EqualFold(hostName(h), name) {
			return nil
		}
	}
	for _, h := range s.hosts {
		if op := s.Match(h, method, path); op != nil {
			return op
		}
	}
	return nil
}

// hostName drops a host's port.
func hostName(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

// match walks the trie for the segments in rest (none left when done).
func (n *node) match(rest string, done bool, host, method string) *Operation {
	if done {
		return n.pick(host, method)
	}
	seg, tail, last := rest, "", true
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		seg, tail, last = rest[:i], rest[i+1:], false
	}
	tmpl := isTemplate(seg)
	if !tmpl {
		if c := n.literal[seg]; c != nil {
			if op := c.match(tail, last, host, method); op != nil {
				return op
			}
		}
		for _, p := range n.patterns {
			if p.matches(seg) {
				if op := p.next.match(tail, last, host, method); op != nil {
					return op
				}
			}
		}
	}
	if n.param != nil && seg != "" {
		return n.param.match(tail, last, host, method)
	}
	return nil
}

// isTemplate reports whether a request path segment is a templater's
// parameter, "{id}" or "{...}".
func isTemplate(seg string) bool {
	return len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// pick chooses among the operations ending at n: the method itself before
// GET for HEAD, and the request's host before any host.
func (n *node) pick(host, method string) *Operation {
	var best *Operation
	bestRank := 0
	for _, op := range n.ops {
		var rank int
		switch {
		case strings.EqualFold(op.Method, method):
			rank = 4
		case op.Method == "GET" && strings.EqualFold(method, "HEAD"):
			rank = 2
		default:
			continue
		}
		switch {
		case op.Host != "" && sameHost(op.Host, host):
			rank++
		case op.Host != "":
			continue
		}
		if rank > bestRank {
			best, bestRank = op, rank
		}
	}
	return best
}

// sameHost compares hosts case-insensitively, ignoring a default port.
func sameHost(a, b string) bool {
	return strings.EqualFold(trimDefaultPort(a), trimDefaultPort(b))
}

func trimDefaultPort(h string) string {
	h = strings.TrimSuffix(h, ":80")
	h = strings.TrimSuffix(h, ":443")
	return strings.TrimSuffix(h, ".")
}
