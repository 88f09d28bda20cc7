package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Kinds of Change.
const (
	ChangeRemoved    = "removed"
	ChangeAdded      = "added"
	ChangeDeprecated = "deprecated"
	ChangeBreaking   = "breaking"
)

// Change is one difference between two versions of a spec.
type Change struct {
	Kind   string // ChangeRemoved, ChangeAdded, ChangeDeprecated or ChangeBreaking
	Method string
	Path   string // the new spec's path, or the old one's for a removed operation
	Detail string // what changed, in words
}

// String formats a change for a log line.
func (c Change) String() string {
	return c.Kind + " " + c.Method + " " + c.Path + ": " + c.Detail
}

// Compare reports what changed from old to new, sorted by path, method,
// kind and detail. Operations are paired by method and path, with path
// parameter names ignored ("/orders/{id}" is "/orders/{orderId}") and hosts
// ignored. Besides removed, added and newly deprecated operations, it
// reports as breaking: authentication newly required, a required parameter
// or request field added (or an optional one made required), a parameter
// removed, a request content type removed and a response status removed.
// A nil spec has no operations.
func Compare(old, new *Spec) []Change {
	oldOps, newOps := opIndex(old), opIndex(new)
	var out []Change
	for k, o := range oldOps {
		if _, ok := newOps[k]; !ok {
			out = append(out, Change{ChangeRemoved, o.Method, o.Path, "operation removed"})
		}
	}
	for k, n := range newOps {
		o, ok := oldOps[k]
		if !ok {
			out = append(out, Change{ChangeAdded, n.Method, n.Path, "operation added"})
			continue
		}
		if n.Deprecated && !o.Deprecated {
			out = append(out, Change{ChangeDeprecated, n.Method, n.Path, "operation deprecated"})
		}
		for _, d := range breaking(o, n) {
			out = append(out, Change{ChangeBreaking, n.Method, n.Path, d})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		for _, c := range [...]int{
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Method, b.Method),
			strings.Compare(a.Kind, b.Kind),
		} {
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.Detail, b.Detail)
	})
	return out
}

// opIndex keys a spec's operations by method and normalised path; with
// several hosts, the first operation (the any-host one, if there is one)
// stands for all.
func opIndex(s *Spec) map[string]*Operation {
	m := map[string]*Operation{}
	if s == nil {
		return m
	}
	for _, op := range s.Ops {
		k := op.Method + " " + NormalizePath(op.Path)
		if _, ok := m[k]; !ok {
			m[k] = op
		}
	}
	return m
}

// NormalizePath writes every parameter of a path as "{}", so that paths
// differing only in parameter names compare equal:
// "/orders/{orderId}/items/{id}.json" gives "/orders/{}/items/{}.json".
func NormalizePath(p string) string {
	if !strings.Contains(p, "{") {
		return p
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(p[open:], '}')
		if end < 0 || strings.IndexByte(p[open:open+end], '/') >= 0 {
			break
		}
		b.WriteString(p[:open])
		b.WriteString("{}")
		p = p[open+end+1:]
	}
	b.WriteString(p)
	return b.String()
}

// breaking lists the changes from o to n that can break a client.
func breaking(o, n *Operation) []string {
	var out []string
	if n.Auth && !o.Auth {
		out = append(out, "authentication now required")
	}
	oldParams := paramIndex(o.Params)
	newParams := paramIndex(n.Params)
	for k, p := range newParams {
		if !p.Required {
			continue
		}
		switch op, ok := oldParams[k]; {
		case !ok:
			out = append(out, fmt.Sprintf("required %s parameter %q added", p.In, p.Name))
		case !op.Required:
			out = append(out, fmt.Sprintf("%s parameter %q now required", p.In, p.Name))
		}
	}
	for k, p := range oldParams {
		if _, ok := newParams[k]; !ok {
			out = append(out, fmt.Sprintf("%s parameter %q removed", p.In, p.Name))
		}
	}
	for _, f := range n.RequestRequired {
		switch {
		case slices.Contains(o.RequestRequired, f):
		case slices.Contains(o.RequestFields, f):
			out = append(out, fmt.Sprintf("request field %q now required", f))
		default:
			out = append(out, fmt.Sprintf("required request field %q added", f))
		}
	}
	for _, t := range o.RequestTypes {
		if !slices.Contains(n.RequestTypes, t) {
			out = append(out, fmt.Sprintf("request content type %q removed", t))
		}
	}
	for status := range o.Responses {
		if _, ok := n.Responses[status]; !ok {
			out = append(out, fmt.Sprintf("response %s removed", status))
		}
	}
	return out
}

// paramIndex keys the non-path parameters by location and name (path
// parameters are part of the path, which already pairs the operations).
func paramIndex(ps []Param) map[string]Param {
	m := make(map[string]Param, len(ps))
	for _, p := range ps {
		if p.In != "path" {
			m[p.In+" "+p.Name] = p
		}
	}
	return m
}
