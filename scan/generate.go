package scan

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Limits of the request generator and the value pool.
const (
	maxGenDepth    = 6   // nesting of generated objects and arrays
	maxGenNodes    = 500 // values generated for one body or parameter
	maxPoolValues  = 16  // values kept per identity and name
	maxPatternLen  = 64  // longest string generated from a pattern
	maxFlatFields  = 2000
	maxFlatDepth   = 12
	genStringStart = "vigil"
)

// pool is what the scan learned from responses, per identity: object ids
// per collection ("/api/v2/orders" → 1001, 1002) and values per field name
// ("quote_id" → "q_000012"). It feeds producer values to consumers.
type pool struct {
	mu      sync.Mutex
	ids     map[string][]string // identity \x00 collection
	created map[string][]string // the same, for objects the scan created
	fields  map[string][]string // identity \x00 field name
}

func newPool() *pool {
	return &pool{ids: map[string][]string{}, created: map[string][]string{}, fields: map[string][]string{}}
}

func addCapped(m map[string][]string, k, v string) {
	if v == "" {
		return
	}
	for _, x := range m[k] {
		if x == v {
			return
		}
	}
	if len(m[k]) < maxPoolValues {
		m[k] = append(m[k], v)
	}
}

// learn records the ids and named values of a JSON response to op.
func (p *pool) learn(who string, op *Operation, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	coll := ""
	switch {
	case op.Method == "POST" && len(op.PathParams()) == 0:
		coll = op.Path // a create: its id belongs to the collection it was posted to
	case op.Method == "GET" && len(op.PathParams()) == 0:
		coll = op.Path // a listing
	}
	var walk func(x any, depth int, inArray bool)
	walk = func(x any, depth int, inArray bool) {
		if depth > maxFlatDepth {
			return
		}
		switch t := x.(type) {
		case map[string]any:
			for k, c := range t {
				s := scalar(c)
				if s != "" {
					addCapped(p.fields, who+"\x00"+strings.ToLower(k), s)
					if k == "id" && coll != "" && (depth == 0 || inArray) && depth <= 2 {
						addCapped(p.ids, who+"\x00"+coll, s)
						if op.Method == "POST" && depth == 0 {
							addCapped(p.created, who+"\x00"+coll, s)
						}
					}
				}
				walk(c, depth+1, false)
			}
		case []any:
			for i, c := range t {
				if i >= maxPoolValues {
					break
				}
				walk(c, depth+1, true)
			}
		}
	}
	walk(v, 0, false)
}

func (p *pool) id(who, coll string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.ids[who+"\x00"+coll]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// createdID returns the newest object the scan created in coll as who.
func (p *pool) createdID(who, coll string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.created[who+"\x00"+coll]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (p *pool) allIDs(who, coll string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ids[who+"\x00"+coll]...)
}

func (p *pool) field(who, name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.fields[who+"\x00"+strings.ToLower(name)]; len(v) > 0 {
		return v[len(v)-1] // the newest: quotes and payments are single use
	}
	return ""
}

// scalar renders a JSON scalar as text, "" for objects, arrays and null.
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		if len(t) <= 256 {
			return t
		}
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// generator builds valid example requests from schemas.
type generator struct {
	api  *API
	pool *pool
	mu   sync.Mutex
	seq  int
}

func (g *generator) next() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	return g.seq
}

// Request is one request to send: a path relative to the target, headers
// and a body.
type Request struct {
	Method string
	Path   string // with the query, relative to the target's base
	Header map[string]string
	Body   []byte // JSON, or nil
}

// built is a generated request before encoding, so that tests can change
// one value.
type built struct {
	op     *Operation
	path   map[string]string
	query  url.Values
	header map[string]string
	body   any // nil when the operation has no body
}

// build generates a valid request for op as identity who ("" = anonymous).
func (g *generator) build(op *Operation, who string) *built {
	b := &built{op: op, path: map[string]string{}, query: url.Values{}, header: map[string]string{}}
	params := op.PathParams()
	for i, name := range params {
		v := ""
		if i == len(params)-1 {
			if coll := op.Collection(); coll != "" && (op.Method == "DELETE" || (op.Admin() && op.StateChanging())) {
				v = g.pool.createdID(who, coll) // delete (or administer) only what the scan made
			} else if coll != "" {
				v = g.pool.id(who, coll)
			}
		}
		if v == "" {
			v = g.pool.field(who, name)
		}
		if v == "" {
			for _, p := range op.Params {
				if p.In == "path" && p.Name == name {
					v = fmt.Sprint(g.paramValue(p, who))
				}
			}
		}
		if v == "" {
			v = "1"
		}
		b.path[name] = v
	}
	for _, p := range op.Params {
		switch p.In {
		case "query":
			if p.Required || p.Example != nil || (p.Schema != nil && (p.Schema.Example != nil || p.Schema.Default != nil)) {
				b.query.Set(p.Name, fmt.Sprint(g.paramValue(p, who)))
			}
		case "header":
			if p.Required {
				b.header[p.Name] = fmt.Sprint(g.paramValue(p, who))
			}
		}
	}
	if op.Body != nil {
		budget := maxGenNodes
		b.body = g.value(op.Body, "", who, 0, &budget)
	}
	return b
}

func (g *generator) paramValue(p Param, who string) any {
	if p.Example != nil {
		return p.Example
	}
	if v := g.pool.field(who, p.Name); v != "" && (p.In == "path" || strings.HasSuffix(strings.ToLower(p.Name), "id")) {
		return v
	}
	if p.Schema == nil {
		return genStringStart
	}
	budget := maxGenNodes
	return g.value(p.Schema, p.Name, who, 0, &budget)
}

// request encodes b.
func (b *built) request() *Request {
	path := b.op.Path
	for k, v := range b.path {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	if q := b.query.Encode(); q != "" {
		path += "?" + q
	}
	r := &Request{Method: b.op.Method, Path: path, Header: map[string]string{}}
	for k, v := range b.header {
		r.Header[k] = v
	}
	if b.body != nil {
		r.Body, _ = json.Marshal(b.body)
		r.Header["Content-Type"] = "application/json"
	} else if b.op.BodyRequired || b.op.Body != nil {
		r.Body = []byte("{}")
		r.Header["Content-Type"] = "application/json"
	}
	return r
}

// clone copies b deeply enough to change one value.
func (b *built) clone() *built {
	c := &built{op: b.op, path: map[string]string{}, query: url.Values{}, header: map[string]string{}}
	for k, v := range b.path {
		c.path[k] = v
	}
	for k, v := range b.query {
		c.query[k] = append([]string(nil), v...)
	}
	for k, v := range b.header {
		c.header[k] = v
	}
	if b.body != nil {
		raw, _ := json.Marshal(b.body)
		_ = json.Unmarshal(raw, &c.body)
	}
	return c
}

// value generates an example for schema s. name is the property or
// parameter name, used to pick producer values from the pool.
func (g *generator) value(s *openapi3.Schema, name, who string, depth int, budget *int) any {
	if s == nil || depth > maxGenDepth || *budget <= 0 {
		return nil
	}
	*budget--
	if name != "" && !s.Type.Is("object") && !s.Type.Is("array") {
		if v := g.pooled(s, name, who); v != nil {
			return v
		}
	}
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0:
		return s.Examples[0]
	case s.Const != nil:
		return s.Const
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		out := map[string]any{}
		for _, ref := range s.AllOf {
			if ref == nil {
				continue
			}
			if m, ok := g.value(ref.Value, name, who, depth+1, budget).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	}
	for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(list) > 0 && list[0] != nil {
			return g.value(list[0].Value, name, who, depth+1, budget)
		}
	}
	switch {
	case s.Type.Is("object") || (s.Type.IsEmpty() && len(s.Properties) > 0):
		out := map[string]any{}
		for _, k := range sortedProps(s) {
			ref := s.Properties[k]
			if ref == nil || ref.Value == nil || ref.Value.ReadOnly {
				continue
			}
			req := false
			for _, r := range s.Required {
				req = req || r == k
			}
			p := ref.Value
			if !req && p.Example == nil && p.Default == nil && len(p.Examples) == 0 {
				continue
			}
			out[k] = g.value(p, k, who, depth+1, budget)
		}
		return out
	case s.Type.Is("array"):
		n := max(1, int(s.MinItems))
		out := make([]any, 0, n)
		for range min(n, 3) {
			if s.Items != nil {
				out = append(out, g.value(s.Items.Value, singular(name), who, depth+1, budget))
			}
		}
		return out
	case s.Type.Is("integer"):
		return int64(number(s, 1))
	case s.Type.Is("number"):
		return number(s, 1.5)
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("string") || s.Type.IsEmpty():
		return g.str(s)
	}
	return nil
}

// pooled returns a value a producer answered for this name: "quote_id" from
// an earlier quote, an object id for "product_id" from the products
// listing.
func (g *generator) pooled(s *openapi3.Schema, name, who string) any {
	lname := strings.ToLower(name)
	if lname == "id" || !strings.HasSuffix(lname, "id") {
		return nil // only references to other objects come from the pool
	}
	v := g.pool.field(who, lname)
	if v == "" {
		if base, ok := strings.CutSuffix(lname, "_id"); ok && base != "" {
			for _, op := range g.api.Ops {
				if op.Method == "GET" && len(op.PathParams()) == 0 && strings.HasSuffix(op.Path, "/"+base+"s") {
					if v = g.pool.id(who, op.Path); v == "" {
						v = g.pool.id("", op.Path)
					}
					if v != "" {
						break
					}
				}
			}
		}
	}
	if v == "" {
		return nil
	}
	if s.Type.Is("integer") || s.Type.Is("number") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			if s.Type.Is("integer") {
				return int64(f)
			}
			return f
		}
		return nil
	}
	return v
}

func number(s *openapi3.Schema, def float64) float64 {
	v := def
	if s.Min != nil && v < *s.Min {
		v = *s.Min
		if s.ExclusiveMin.IsTrue() {
			v++
		}
	}
	if s.Max != nil && v > *s.Max {
		v = *s.Max
	}
	return v
}

func (g *generator) str(s *openapi3.Schema) string {
	n := g.next()
	var v string
	switch strings.ToLower(s.Format) {
	case "email":
		v = fmt.Sprintf("vigil.scan+%d@example.test", n)
	case "uri", "url", "iri":
		v = "https://example.test/vigil"
	case "date-time":
		v = "2024-01-02T03:04:05Z"
	case "date":
		v = "2024-01-02"
	case "time":
		v = "03:04:05"
	case "uuid":
		v = fmt.Sprintf("3f1c2d4e-5a6b-4c7d-8e9f-%012d", n)
	case "ipv4":
		v = "192.0.2.1"
	case "ipv6":
		v = "2001:db8::1"
	case "hostname":
		v = "example.test"
	case "password":
		v = "Vigil-Scan-Passw0rd!"
	case "byte":
		v = "dmlnaWw="
	default:
		if s.Pattern != "" {
			if p, ok := fromPattern(s.Pattern); ok {
				return p
			}
		}
		v = fmt.Sprintf("%s%d", genStringStart, n)
	}
	for uint64(len(v)) < s.MinLength {
		v += "x"
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// fromPattern generates a string matching a regular expression pattern (the
// first alternative, the fewest repetitions, the first character of each
// class), and false when the result does not match.
func fromPattern(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var sb strings.Builder
	var gen func(r *syntax.Regexp, depth int)
	gen = func(r *syntax.Regexp, depth int) {
		if depth > 20 || sb.Len() > maxPatternLen {
			return
		}
		switch r.Op {
		case syntax.OpLiteral:
			sb.WriteString(string(r.Rune))
		case syntax.OpCharClass:
			if len(r.Rune) > 0 {
				c := r.Rune[0]
				if c < ' ' {
					c = 'a'
				}
				sb.WriteRune(c)
			}
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			sb.WriteByte('a')
		case syntax.OpCapture:
			gen(r.Sub[0], depth+1)
		case syntax.OpPlus:
			gen(r.Sub[0], depth+1)
		case syntax.OpRepeat:
			for range min(max(r.Min, 0), maxPatternLen) {
				gen(r.Sub[0], depth+1)
			}
		case syntax.OpConcat:
			for _, s := range r.Sub {
				gen(s, depth+1)
			}
		case syntax.OpAlternate:
			gen(r.Sub[0], depth+1)
		}
	}
	gen(re, 0)
	out := sb.String()
	ok, err := regexp.MatchString(pattern, out)
	return out, err == nil && ok && len(out) <= maxPatternLen
}

func sortedProps(s *openapi3.Schema) []string {
	return slices.Sorted(maps.Keys(s.Properties))
}

func singular(name string) string {
	if s, ok := strings.CutSuffix(name, "s"); ok {
		return s
	}
	return name
}
