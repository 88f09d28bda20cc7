package schema

import (
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ClassesExtension is the OpenAPI extension under which OpenAPI lists a
// schema's sensitive data classes.
const ClassesExtension = "x-vigil-classes"

// Field is one flattened field of an inferred schema.
type Field struct {
	// Path is the dotted property path from the top of the body, array items
	// adding "[]" (see the package documentation).
	Path string
	// Types lists the JSON types seen, sorted: "array", "boolean",
	// "integer", "null", "number", "object", "string". A number without
	// fraction or exponent is "integer".
	Types []string
	// Format is, for strings, "email", "uuid", "date-time", "date", "uri",
	// "ipv4" or "ipv6" when every non-empty value seen had it; else "".
	Format string
	// Required is true for a property present in every observed parent
	// object; array items ("x[]") are never Required.
	Required bool
	// Enum lists a small value set: at most MaxEnum distinct strings, each at
	// most MaxEnumValueLen bytes, over at least MinEnumObservations string
	// values, with no sensitive data class, for a field whose only types are
	// "string" and possibly "null"; else nil.
	Enum []string
	// Classes are the sensitive data classes seen in the field's values.
	Classes Class
}

// Fields returns the schema flattened, sorted by Path, one entry per path
// (keys that spell the same path are merged: types, enum values and classes
// united, Required only if required in both, Format only if the same).
func (n *Node) Fields() []Field {
	if n.root == nil {
		return nil
	}
	var out []Field
	var walk func(nd *node, path string)
	walk = func(nd *node, path string) {
		for _, k := range slices.Sorted(maps.Keys(nd.props)) {
			c := nd.props[k]
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = append(out, c.field(p, nd.objects > 0 && c.seen >= nd.objects))
			walk(c, p)
		}
		if nd.items != nil {
			p := path + "[]"
			out = append(out, nd.items.field(p, false))
			walk(nd.items, p)
		}
	}
	walk(n.root, "")
	slices.SortStableFunc(out, func(a, b Field) int { return strings.Compare(a.Path, b.Path) })
	return dedupe(out)
}

// field describes nd under path.
func (nd *node) field(path string, required bool) Field {
	f := Field{Path: path, Types: nd.typeNames(false), Required: required, Classes: nd.classes}
	if nd.types&tString != 0 && nd.filled > 0 {
		f.Format = formatName(nd.fmts)
	}
	if nd.hasEnum() {
		f.Enum = slices.Clone(nd.enum)
	}
	return f
}

// hasEnum reports whether nd's values form a reportable enum.
func (nd *node) hasEnum() bool {
	return !nd.enumOff && len(nd.enum) > 0 && nd.strs >= MinEnumObservations && nd.types&^tNull == tString
}

// typeNames lists nd's types; for OpenAPI, "number" subsumes "integer".
func (nd *node) typeNames(openAPI bool) []string {
	t := nd.types
	if openAPI && t&tNumber != 0 {
		t &^= tInteger
	}
	var out []string
	for i, name := range typeNames {
		if t&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// dedupe merges adjacent fields with the same path.
func dedupe(fs []Field) []Field {
	out := fs[:0]
	for _, f := range fs {
		if len(out) == 0 || out[len(out)-1].Path != f.Path {
			out = append(out, f)
			continue
		}
		p := &out[len(out)-1]
		p.Types = unionSorted(p.Types, f.Types)
		p.Required = p.Required && f.Required
		if p.Format != f.Format {
			p.Format = ""
		}
		if p.Enum != nil && f.Enum != nil {
			if e := unionSorted(p.Enum, f.Enum); len(e) <= MaxEnum {
				p.Enum = e
			} else {
				p.Enum = nil
			}
		} else {
			p.Enum = nil
		}
		p.Classes |= f.Classes
	}
	return out
}

func unionSorted(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// OpenAPI returns the schema as an OpenAPI 3.1 schema: a type list
// ("null" included when seen; "number" standing for "integer" too), format,
// properties, required, items and enum (with null when null was seen). The
// data classes of a schema are listed under the ClassesExtension extension.
// A position never observed gives an empty schema.
func (n *Node) OpenAPI() *openapi3.Schema {
	if n.root == nil {
		return &openapi3.Schema{}
	}
	return n.root.openAPI()
}

func (nd *node) openAPI() *openapi3.Schema {
	s := &openapi3.Schema{}
	if names := nd.typeNames(true); len(names) > 0 {
		t := openapi3.Types(names)
		s.Type = &t
	}
	if nd.types&tString != 0 && nd.filled > 0 {
		s.Format = formatName(nd.fmts)
	}
	if nd.hasEnum() {
		for _, v := range nd.enum {
			s.Enum = append(s.Enum, v)
		}
		if nd.types&tNull != 0 {
			s.Enum = append(s.Enum, nil)
		}
	}
	if len(nd.props) > 0 {
		s.Properties = make(openapi3.Schemas, len(nd.props))
		for _, k := range slices.Sorted(maps.Keys(nd.props)) {
			c := nd.props[k]
			s.Properties[k] = openapi3.NewSchemaRef("", c.openAPI())
			if nd.objects > 0 && c.seen >= nd.objects {
				s.Required = append(s.Required, k)
			}
		}
	}
	if nd.items != nil {
		s.Items = openapi3.NewSchemaRef("", nd.items.openAPI())
	}
	if nd.classes != 0 {
		s.Extensions = map[string]any{ClassesExtension: nd.classes.Names()}
	}
	return s
}
