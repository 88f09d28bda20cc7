package spec

import (
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Limits on schema walks. A field path has at most MaxDepth steps (a
// property name or an array's "[]"); a body lists at most MaxFields fields.
const (
	MaxDepth  = 8
	MaxFields = 2000

	maxHops     = 8         // $ref/allOf/oneOf/anyOf steps within one level
	maxBodyWork = 100_000   // schema visits for one body
	maxWork     = 2_000_000 // schema visits for one Parse
)

// walker flattens body schemas into field paths for one Parse, within a
// shared work budget, caching the result for schemas used more than once.
type walker struct {
	budget    int
	truncated bool
	cache     map[*openapi3.Schema]walked
}

// walked is the flattened form of one body schema.
type walked struct {
	fields, required []string
}

// body collects the fields of one body schema.
type body struct {
	fields   map[string]bool // field path → required
	seen     map[visit]bool
	work     int
	overflow bool
}

// visit is one schema met at one field path; each is expanded once.
type visit struct {
	s      *openapi3.Schema
	prefix string
	req    bool
}

// pending is a schema waiting to be expanded: found at a field path
// (prefix), required or not, with the required property names of an
// enclosing allOf, hops composition steps below the field.
type pending struct {
	s      *openapi3.Schema
	prefix string
	req    bool
	names  []string
	hops   int
}

// Fields returns the flattened field paths of a JSON schema, sorted and
// deduplicated. This is the convention shared with the inference of schemas
// from traffic: dotted property paths from the top of the body, and "[]"
// for the items of an array, so {"items":[{"id":1}],"total":2} has the
// fields "items", "items[]", "items[].id" and "total", and a top-level
// array of {"id":1} has "[]" and "[].id". $ref is followed; allOf, oneOf and
// anyOf give the union of their members' fields. Recursive schemas are
// unrolled up to MaxDepth steps.
func Fields(schema *openapi3.Schema) []string {
	w := &walker{budget: maxWork}
	return w.schemaFields(schema).fields
}

// isJSON reports whether a media type carries a JSON body (wildcards
// included, since they are commonly given a JSON schema).
func isJSON(mt string) bool {
	switch {
	case mt == "application/json", mt == "text/json", mt == "*/*", mt == "application/*":
		return true
	case strings.HasSuffix(mt, "+json"):
		return true
	}
	return false
}

// contentFields unions the fields (and required fields) of the JSON media
// types in a content map.
func (w *walker) contentFields(content openapi3.Content) (fields, required []string) {
	if len(content) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	n := 0
	for _, k := range keys {
		mt := content[k]
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || !isJSON(mediaType(k)) {
			continue
		}
		r := w.schemaFields(mt.Schema.Value)
		fields = append(fields, r.fields...)
		required = append(required, r.required...)
		n++
	}
	if n > 1 {
		slices.Sort(fields)
		fields = slices.Compact(fields)
		slices.Sort(required)
		required = slices.Compact(required)
	}
	return fields, required
}

// schemaFields flattens one body schema, from the cache when it was seen.
func (w *walker) schemaFields(s *openapi3.Schema) walked {
	if s == nil {
		return walked{}
	}
	if r, ok := w.cache[s]; ok {
		return r
	}
	b := &body{fields: map[string]bool{}, seen: map[visit]bool{}}
	w.flatten(b, s)
	var r walked
	for f, req := range b.fields {
		r.fields = append(r.fields, f)
		if req {
			r.required = append(r.required, f)
		}
	}
	slices.Sort(r.fields)
	slices.Sort(r.required)
	if w.cache == nil {
		w.cache = map[*openapi3.Schema]walked{}
	}
	w.cache[s] = r
	return r
}

// flatten adds the fields of a body schema level by level, so that when a
// limit cuts the list short the deepest fields are the ones left out.
// Compositions ($ref, allOf, oneOf, anyOf) stay on the level of the field
// they describe; properties and array items go one level down.
func (w *walker) flatten(b *body, root *openapi3.Schema) {
	cur := []pending{{s: root, req: true}}
	for level := 0; len(cur) > 0; level++ {
		var next []pending
		for i := 0; i < len(cur); i++ {
			if w.budget <= 0 || b.work >= maxBodyWork {
				w.truncated, b.overflow = true, true
			}
			if b.overflow {
				return
			}
			w.budget--
			b.work++
			p := cur[i]
			v := visit{p.s, p.prefix, p.req}
			if p.s == nil || b.seen[v] {
				continue
			}
			b.seen[v] = true
			cur = append(cur, compositions(p)...)
			if level < MaxDepth {
				next = w.children(b, p, next)
			}
		}
		cur = next
	}
}

// compositions lists the allOf, oneOf and anyOf members of a pending
// schema, to expand on the same level. Only allOf members can make a
// property required.
func compositions(p pending) []pending {
	if p.hops >= maxHops {
		return nil
	}
	s := p.s
	var out []pending
	names := requiredNames(s, p.names)
	for _, sub := range s.AllOf {
		if sub != nil && sub.Value != nil {
			out = append(out, pending{sub.Value, p.prefix, p.req, names, p.hops + 1})
		}
	}
	for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, sub := range list {
			if sub != nil && sub.Value != nil {
				out = append(out, pending{sub.Value, p.prefix, false, nil, p.hops + 1})
			}
		}
	}
	return out
}

// children adds the fields a pending schema declares (its properties, and
// "[]" for an array) and appends them to next for expansion.
func (w *walker) children(b *body, p pending, next []pending) []pending {
	s := p.s
	names := requiredNames(s, p.names)
	for _, name := range sortedKeys(s.Properties) {
		path := name
		if p.prefix != "" {
			path = p.prefix + "." + name
		}
		req := p.req && slices.Contains(names, name)
		if !b.add(w, path, req) {
			return next
		}
		if sub := s.Properties[name]; sub != nil && sub.Value != nil {
			next = append(next, pending{s: sub.Value, prefix: path, req: req})
		}
	}
	if s.Items != nil || s.Type.Includes(openapi3.TypeArray) {
		path := p.prefix + "[]"
		if !b.add(w, path, false) {
			return next
		}
		if s.Items != nil && s.Items.Value != nil {
			next = append(next, pending{s: s.Items.Value, prefix: path, req: p.req})
		}
	}
	return next
}

// add records a field, reporting false once the body is full.
func (b *body) add(w *walker, path string, req bool) bool {
	if had, ok := b.fields[path]; ok {
		b.fields[path] = had || req
		return true
	}
	if len(b.fields) >= MaxFields {
		w.truncated, b.overflow = true, true
		return false
	}
	b.fields[path] = req
	return true
}

// requiredNames returns the property names s requires, with those of its
// allOf members and the inherited ones.
func requiredNames(s *openapi3.Schema, inherited []string) []string {
	n := len(s.Required)
	for _, sub := range s.AllOf {
		if sub != nil && sub.Value != nil {
			n += len(sub.Value.Required)
		}
	}
	if n == 0 {
		return inherited
	}
	out := make([]string, 0, len(inherited)+n)
	out = append(out, inherited...)
	out = append(out, s.Required...)
	for _, sub := range s.AllOf {
		if sub != nil && sub.Value != nil {
			out = append(out, sub.Value.Required...)
		}
	}
	return out
}

// sortedKeys returns a schema map's keys in order, so that what the limits
// cut is always the same.
func sortedKeys(m openapi3.Schemas) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
