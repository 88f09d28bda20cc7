package scan

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vigilsec/vigil/inventory/spec"
)

// API is the tested API: the operations of one spec, with the schemas the
// request generator needs.
type API struct {
	Title string
	Ops   []*Operation
}

// Operation is one documented operation.
type Operation struct {
	Method string // upper case
	// Path is the full path template: server base path + spec path,
	// "/api/v2/orders/{id}".
	Path string
	ID   string // operationId
	Tags []string
	// Auth is set when the spec demands credentials for the operation.
	Auth bool
	// Params are the path, query and header parameters with their schemas.
	Params []Param
	// Body is the JSON request body schema; nil when there is none (or it
	// is not JSON).
	Body         *openapi3.Schema
	BodyRequired bool
	// Response is the first 2xx JSON response schema, nil when none.
	Response *openapi3.Schema
	// ResponseFields are the documented field paths of every 2xx JSON
	// response (spec.Fields convention: "items[].id").
	ResponseFields map[string]bool
	// Documented are the documented statuses ("200", "4XX", "default").
	Documented []string
}

// Param is one parameter of an operation.
type Param struct {
	Name     string
	In       string // path, query or header
	Required bool
	Schema   *openapi3.Schema
	Example  any
}

// String is "METHOD /path".
func (o *Operation) String() string { return o.Method + " " + o.Path }

// StateChanging reports whether the method changes state (skipped by
// --safe).
func (o *Operation) StateChanging() bool {
	switch o.Method {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	return true
}

// PathParams returns the names of the path parameters, in path order.
func (o *Operation) PathParams() []string {
	var out []string
	for _, seg := range strings.Split(o.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// Collection is the path before the last path parameter: the collection an
// object of this operation belongs to ("/api/v2/orders" for
// "/api/v2/orders/{id}"), and "" when the path has none.
func (o *Operation) Collection() string {
	segs := strings.Split(o.Path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if strings.HasPrefix(segs[i], "{") {
			return strings.Join(segs[:i], "/")
		}
	}
	return ""
}

// Admin reports whether the operation is meant for administrators: tagged
// admin, or with an "admin" path segment.
func (o *Operation) Admin() bool {
	for _, t := range o.Tags {
		if strings.EqualFold(t, "admin") {
			return true
		}
	}
	for _, seg := range strings.Split(strings.ToLower(o.Path), "/") {
		if seg == "admin" || seg == "admins" || seg == "administration" {
			return true
		}
	}
	return false
}

// LoadAPI reads a spec file: OpenAPI 3.0/3.1 or Swagger 2.0, YAML or JSON.
func LoadAPI(path string) (*API, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, spec.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("spec: %s: read: %w", path, err)
	}
	return ParseAPI(path, data)
}

// ParseAPI reads one spec document. The checks of package inventory/spec
// apply (size, text, no external $ref); the document is then loaded again
// here for its schemas.
func ParseAPI(source string, data []byte) (a *API, err error) {
	s, err := spec.Parse(source, data)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("spec: %s: cannot load: internal error: %v", source, r)
		}
	}()
	// The document package spec loaded: parsing it again costs as much.
	doc := s.Doc()
	if doc == nil || doc.Paths == nil {
		return nil, fmt.Errorf("spec: %s: cannot load: no paths", source)
	}
	a = &API{Title: s.Title}
	seen := map[string]bool{}
	paths := doc.Paths.Map()
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item := paths[p]
		if item == nil {
			continue
		}
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			method = strings.ToUpper(method)
			// The full path (server base + p) package spec gave it: of the
			// paths ending in p, the one with the shortest base
			// ("/api/orders", not "/api/admin/orders", for "/orders").
			full, found := p, false
			for _, so := range s.Ops {
				if so.Method == method && strings.HasSuffix(so.Path, p) && (!found || len(so.Path) < len(full)) {
					full, found = so.Path, true
				}
			}
			if seen[method+" "+full] {
				continue
			}
			seen[method+" "+full] = true
			a.Ops = append(a.Ops, newOp(doc, method, full, item, op))
		}
	}
	slices.SortFunc(a.Ops, func(x, y *Operation) int {
		if c := strings.Compare(x.Path, y.Path); c != 0 {
			return c
		}
		return strings.Compare(x.Method, y.Method)
	})
	if len(a.Ops) == 0 {
		return nil, fmt.Errorf("spec: %s: no operations", source)
	}
	return a, nil
}

func newOp(doc *openapi3.T, method, path string, item *openapi3.PathItem, op *openapi3.Operation) *Operation {
	o := &Operation{Method: method, Path: path, ID: op.OperationID, Tags: op.Tags, ResponseFields: map[string]bool{}}
	sec := doc.Security
	if op.Security != nil {
		sec = *op.Security
	}
	o.Auth = len(sec) > 0 && !slices.ContainsFunc(sec, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 })
	byKey := map[string]Param{}
	var order []string
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			if p.In != "path" && p.In != "query" && p.In != "header" {
				continue
			}
			x := Param{Name: p.Name, In: p.In, Required: p.Required || p.In == "path", Example: p.Example}
			if p.Schema != nil {
				x.Schema = p.Schema.Value
			}
			k := p.In + ":" + p.Name
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = x
		}
	}
	for _, k := range order {
		o.Params = append(o.Params, byKey[k])
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		if s := jsonSchema(op.RequestBody.Value.Content); s != nil {
			o.Body, o.BodyRequired = s, op.RequestBody.Value.Required
		}
	}
	if op.Responses != nil {
		codes := make([]string, 0, op.Responses.Len())
		for code := range op.Responses.Map() {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		o.Documented = codes
		for _, code := range codes {
			ref := op.Responses.Value(code)
			if ref == nil || ref.Value == nil || !strings.HasPrefix(code, "2") {
				continue
			}
			s := jsonSchema(ref.Value.Content)
			if s == nil {
				continue
			}
			if o.Response == nil {
				o.Response = s
			}
			for _, f := range spec.Fields(s) {
				o.ResponseFields[f] = true
			}
		}
	}
	return o
}

// jsonSchema returns the schema of the JSON media type of content.
func jsonSchema(c openapi3.Content) *openapi3.Schema {
	for _, k := range slices.Sorted(maps.Keys(c)) {
		mt := strings.ToLower(strings.TrimSpace(strings.Split(k, ";")[0]))
		if mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "*/*" {
			if m := c[k]; m != nil && m.Schema != nil && m.Schema.Value != nil {
				return m.Schema.Value
			}
		}
	}
	return nil
}
