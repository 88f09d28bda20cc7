// Package schema infers the JSON schema of an endpoint's request or response
// bodies from sampled traffic, and notes which sensitive data classes (e-mail
// addresses, card numbers, secrets …) flow through each field.
//
// A Node is an inferred schema, merged over many observed documents. It is
// bounded however hostile the traffic:
//
//   - a document is at most MaxDocumentSize (1 MiB); a bigger one is an error;
//   - nesting is inferred to MaxDepth (32) levels; a container at the last
//     level records its type, its contents are skipped;
//   - an object node keeps at most MaxProperties (256) property names, and a
//     key is at most MaxKeyLen (256) bytes;
//   - a tree has at most MaxNodes (2,048) nodes, the root included;
//   - the first MaxArrayItems (1,000) elements of an array are looked at, the
//     rest skipped;
//   - enum tracking stops for good once a field has shown more than MaxEnum
//     (8) distinct strings, one longer than MaxEnumValueLen (64) bytes, or one
//     with a sensitive data class (so values such as e-mail addresses never
//     end up in an enum).
//
// Whatever is dropped (a skipped subtree, property, array element or node)
// adds one to Truncated. The limits hold on UnmarshalJSON too. Memory: a
// node is about 200 bytes plus its key and enum values; a full tree of
// hostile content (2,048 nodes, 256-byte keys, full enums of 64-byte values)
// measured about 1.2 MB (600 bytes per node), and TestNodeMemory holds it
// under 3 MiB; a typical tree takes about 200 bytes per node.
//
// Field paths are dotted property names from the top of the body, array
// items adding "[]": {"items":[{"id":1}],"total":2} gives "items",
// "items[]", "items[].id" and "total"; a top-level array gives "[]",
// "[].id". Keys are kept as they are, even when they contain "." or "[", so
// two keys may spell the same path ({"a.b":1} and {"a":{"b":1}}); Fields
// then merges them into one entry.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The limits of a Node (see the package documentation).
const (
	MaxDocumentSize     = 1 << 20
	MaxDepth            = 32
	MaxProperties       = 256
	MaxNodes            = 2048
	MaxArrayItems       = 1000
	MaxKeyLen           = 256
	MaxEnum             = 8
	MaxEnumValueLen     = 64
	MinEnumObservations = 20
)

// JSON types, as bits in the order of their names.
const (
	tArray uint8 = 1 << iota
	tBoolean
	tInteger
	tNull
	tNumber
	tObject
	tString
)

var typeNames = [...]string{"array", "boolean", "integer", "null", "number", "object", "string"}

// Node is an inferred JSON schema, merged over many observations. The zero
// value is an empty schema ready to use; New returns the same. A Node is not
// safe for concurrent use: give each worker its own and Merge them.
type Node struct {
	root      *node
	count     int64
	truncated int64
	nodes     int
	stamp     uint64 // last object stamp handed out (see node.stamp)
	// classes is the union of every node's classes (Classes), kept up to
	// date wherever a node's classes grow, and worked out afresh by
	// UnmarshalJSON.
	classes Class
}

// node is one position in the tree: the root, a property or array items.
type node struct {
	seen    int64 // values observed; a property counts once per parent object
	objects int64 // of which objects
	strs    int64 // of which strings
	filled  int64 // of which non-empty strings
	types   uint8
	fmts    uint8 // formats every non-empty string had (valid when filled > 0)
	enumOff bool
	hints   hint   // what the key says about values
	name    string // the key (array items: the array's key), for child hints
	classes Class
	stamp   uint64 // the last parent object this property was counted in
	enum    []string
	props   map[string]*node
	items   *node
}

// New returns an empty schema.
func New() *Node {
	n := &Node{}
	n.init()
	return n
}

func (n *Node) init() {
	if n.root == nil {
		n.root = &node{}
		n.nodes = 1
	}
}

// Count returns the number of documents observed (merged ones included).
func (n *Node) Count() int64 { return n.count }

// Truncated returns how many observations or properties the limits dropped.
func (n *Node) Truncated() int64 { return n.truncated }

// Nodes returns the number of nodes in the tree (at most MaxNodes).
func (n *Node) Nodes() int { return n.nodes }

// Classes returns the union of the data classes seen anywhere in the tree.
func (n *Node) Classes() Class { return n.classes }

// treeClasses is Classes worked out from the tree.
func (n *Node) treeClasses() Class {
	var c Class
	var walk func(*node)
	walk = func(nd *node) {
		c |= nd.classes
		for _, ch := range nd.props {
			walk(ch)
		}
		if nd.items != nil {
			walk(nd.items)
		}
	}
	if n.root != nil {
		walk(n.root)
	}
	return c
}

// ObserveJSON merges one JSON document into the schema. A document bigger
// than MaxDocumentSize or not valid JSON is an error and leaves n unchanged.
func (n *Node) ObserveJSON(data []byte) error {
	if len(data) > MaxDocumentSize {
		return fmt.Errorf("schema: document of %d bytes is over the %d byte limit", len(data), MaxDocumentSize)
	}
	if !validJSON(data) {
		err := json.Unmarshal(data, new(json.RawMessage))
		if err == nil { // cannot happen; keep the error non-nil regardless
			err = fmt.Errorf("invalid")
		}
		return fmt.Errorf("schema: observe document: %w", err)
	}
	n.init()
	w := walker{t: n, s: data}
	w.ws()
	n.root.seen++
	w.value(n.root, 1)
	n.count++
	return nil
}

// newChild adds a property node named key under parent. It returns nil,
// counting the drop, when a limit forbids it.
func (n *Node) newChild(parent *node, key string) *node {
	if len(key) > MaxKeyLen || len(parent.props) >= MaxProperties || n.nodes >= MaxNodes {
		n.truncated++
		return nil
	}
	if parent.props == nil {
		parent.props = make(map[string]*node)
	}
	c := &node{name: key, hints: keyHints(key, parent.name)}
	parent.props[key] = c
	n.nodes++
	return c
}

// newItems adds the array items node under parent, or returns nil counting
// the drop.
func (n *Node) newItems(parent *node) *node {
	if n.nodes >= MaxNodes {
		n.truncated++
		return nil
	}
	parent.items = &node{name: parent.name, hints: parent.hints}
	n.nodes++
	return parent.items
}

// validUTF8 replaces invalid UTF-8 so that stored keys and enum values
// survive a JSON round trip unchanged.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// observeString notes one string value.
func (nd *node) observeString(s string) {
	nd.types |= tString
	nd.strs++
	if s != "" {
		f := formatsOf(s)
		if nd.filled == 0 {
			nd.fmts = f
		} else {
			nd.fmts &= f
		}
		nd.filled++
	}
	c := classify(nd.hints, s, true)
	nd.classes |= c
	nd.noteEnum(s, c)
}

// noteEnum tracks the distinct values of a small string set.
func (nd *node) noteEnum(s string, c Class) {
	if nd.enumOff {
		return
	}
	s = validUTF8(s) // before the length check: what is stored is what counts
	if c != 0 || len(s) > MaxEnumValueLen {
		nd.enumOff, nd.enum = true, nil
		return
	}
	i, found := slices.BinarySearch(nd.enum, s)
	if found {
		return
	}
	if len(nd.enum) == MaxEnum {
		nd.enumOff, nd.enum = true, nil
		return
	}
	nd.enum = slices.Insert(nd.enum, i, strings.Clone(s))
}

// walker reads one valid JSON document into a tree.
type walker struct {
	t *Node
	s []byte
	i int
}

func (w *walker) ws() {
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value reads the value at w.i into nd.
func (w *walker) value(nd *node, depth int) {
	switch c := w.s[w.i]; c {
	case '{':
		w.object(nd, depth)
	case '[':
		w.array(nd, depth)
	case '"':
		raw, esc := w.str()
		var s string
		if esc {
			s = unquote(raw)
		} else {
			s = borrow(raw[1 : len(raw)-1])
		}
		nd.observeString(s)
		w.t.classes |= nd.classes
	case 't':
		w.i += 4
		nd.types |= tBoolean
	case 'f':
		w.i += 5
		nd.types |= tBoolean
	case 'n':
		w.i += 4
		nd.types |= tNull
	default:
		start, integer := w.i, true
		for w.i < len(w.s) {
			c := w.s[w.i]
			if c == '.' || c == 'e' || c == 'E' {
				integer = false
			} else if !isDigit(c) && c != '-' && c != '+' {
				break
			}
			w.i++
		}
		if integer {
			nd.types |= tInteger
		} else {
			nd.types |= tNumber
		}
		if w.i-start >= 7 {
			nd.classes |= classify(nd.hints, borrow(w.s[start:w.i]), false)
			w.t.classes |= nd.classes
		}
	}
}

// str reads a string at w.i and returns it with its quotes, and whether it
// has escapes.
func (w *walker) str() (raw []byte, esc bool) {
	start := w.i
	w.i++
	// Most strings have no escape: jump to the next quote, and walk byte
	// by byte only from a backslash.
	if j := bytes.IndexByte(w.s[w.i:], '"'); j >= 0 && bytes.IndexByte(w.s[w.i:w.i+j], '\\') < 0 {
		w.i += j + 1
		return w.s[start:w.i], false
	}
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case '\\':
			esc = true
			w.i += 2
			continue
		case '"':
			w.i++
			return w.s[start:w.i], esc
		}
		w.i++
	}
	return w.s[start:], esc
}

// borrow is b as a string without a copy, for a value that is only looked
// at while the document is walked: observeString and classify keep nothing
// of it (noteEnum stores a clone), and the document is not changed during
// the walk.
func borrow(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// unquote decodes a JSON string with escapes (its quotes included).
func unquote(raw []byte) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

func (w *walker) object(nd *node, depth int) {
	nd.types |= tObject
	nd.objects++
	if depth >= MaxDepth {
		w.skipDeep()
		return
	}
	w.i++
	w.t.stamp++
	stamp := w.t.stamp
	w.ws()
	if w.s[w.i] == '}' {
		w.i++
		return
	}
	for {
		raw, esc := w.str()
		w.ws()
		w.i++ // ':'
		w.ws()
		var child *node
		if !esc {
			child = nd.props[string(raw[1:len(raw)-1])]
		}
		if child == nil {
			key := string(raw[1 : len(raw)-1])
			if esc {
				key = unquote(raw)
			}
			key = validUTF8(key)
			if child = nd.props[key]; child == nil {
				child = w.t.newChild(nd, key)
			}
		}
		if child == nil {
			w.skip()
		} else {
			if child.stamp != stamp {
				child.stamp = stamp
				child.seen++
			}
			w.value(child, depth+1)
		}
		w.ws()
		if w.s[w.i] == ',' {
			w.i++
			w.ws()
			continue
		}
		w.i++ // '}'
		return
	}
}

func (w *walker) array(nd *node, depth int) {
	nd.types |= tArray
	if depth >= MaxDepth {
		w.skipDeep()
		return
	}
	w.i++
	w.ws()
	if w.s[w.i] == ']' {
		w.i++
		return
	}
	items := nd.items
	if items == nil {
		items = w.t.newItems(nd)
	}
	for k := 0; ; k++ {
		if items != nil && k < MaxArrayItems {
			items.seen++
			w.value(items, depth+1)
		} else {
			if items != nil {
				w.t.truncated++
			}
			w.skip()
		}
		w.ws()
		if w.s[w.i] == ',' {
			w.i++
			w.ws()
			continue
		}
		w.i++ // ']'
		return
	}
}

// skipDeep skips a container past the depth limit, counting it when it is
// not empty.
func (w *walker) skipDeep() {
	j := w.i + 1
	for j < len(w.s) && (w.s[j] == ' ' || w.s[j] == '\t' || w.s[j] == '\n' || w.s[j] == '\r') {
		j++
	}
	if j < len(w.s) && w.s[j] != '}' && w.s[j] != ']' {
		w.t.truncated++
	}
	w.skip()
}

// skip passes over one value without recursion.
func (w *walker) skip() {
	depth := 0
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case '"':
			w.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				w.i++
				return
			}
		default:
			if depth == 0 {
				for w.i < len(w.s) && !strings.ContainsRune(",]} \t\n\r", rune(w.s[w.i])) {
					w.i++
				}
				return
			}
		}
		w.i++
	}
}

// Merge merges the inferred schema o into n, as if n had observed o's
// documents too (limits apply; whatever does not fit counts in Truncated).
// o is not changed; merging n into itself doubles its counts.
func (n *Node) Merge(o *Node) {
	if o == nil || o.root == nil {
		return
	}
	if o == n {
		o = n.clone()
	}
	n.init()
	n.count += o.count
	n.truncated += o.truncated
	n.mergeNode(n.root, o.root, 1)
}

func (n *Node) clone() *Node {
	c := New()
	c.count, c.truncated = n.count, n.truncated
	c.mergeNode(c.root, n.root, 1)
	return c
}

// mergeNode merges src into dst at the given depth.
func (n *Node) mergeNode(dst, src *node, depth int) {
	if src.filled > 0 {
		if dst.filled == 0 {
			dst.fmts = src.fmts
		} else {
			dst.fmts &= src.fmts
		}
	}
	dst.seen += src.seen
	dst.objects += src.objects
	dst.strs += src.strs
	dst.filled += src.filled
	dst.types |= src.types
	dst.classes |= src.classes
	n.classes |= dst.classes
	if src.enumOff {
		dst.enumOff, dst.enum = true, nil
	}
	for _, v := range src.enum {
		dst.noteEnum(v, 0)
	}
	if depth >= MaxDepth && (len(src.props) > 0 || src.items != nil) {
		n.truncated++
		return
	}
	for _, k := range slices.Sorted(maps.Keys(src.props)) {
		c := dst.props[k]
		if c == nil {
			if c = n.newChild(dst, k); c == nil {
				continue
			}
		}
		n.mergeNode(c, src.props[k], depth+1)
	}
	if src.items != nil {
		c := dst.items
		if c == nil {
			c = n.newItems(dst)
		}
		if c != nil {
			n.mergeNode(c, src.items, depth+1)
		}
	}
}
