package inventory

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory/schema"
	"github.com/vigilsec/vigil/inventory/spec"
)

// Class is where an endpoint stands against the specs.
type Class string

// Classes, in report order.
const (
	// Documented: in the spec, and traffic matches it.
	Documented Class = "documented"
	// Drift: in the spec, but traffic shows what the spec does not say
	// (parameters, fields, statuses, media types, missing auth, sensitive
	// data).
	Drift Class = "drift"
	// Shadow: answering in traffic, not in the spec.
	Shadow Class = "shadow"
	// Zombie: deprecated in the spec, or an older version of a documented
	// endpoint (/v1/x while /v2/x is documented), still answering.
	Zombie Class = "zombie"
	// Orphan: in the spec, never seen in traffic.
	Orphan Class = "orphan"
	// ThirdParty: a host that is not the team's own (outbound calls through
	// a sensor), not in the spec.
	ThirdParty Class = "third-party"
	// Unanswered: only ever answered 404/405/501 (a typo or a scanner's
	// guess, not an API): left out of the report unless asked for.
	Unanswered Class = "unanswered"
)

// Entry is one endpoint's classification.
type Entry struct {
	vigil.Endpoint
	Class   Class    `json:"class"`
	Party   string   `json:"party,omitempty"`
	Count   int64    `json:"count"`            // requests seen
	SpecOp  string   `json:"spec,omitempty"`   // the matching spec operation ("GET /api/v2/orders/{id}"), or the documented twin of a zombie
	Source  string   `json:"source,omitempty"` // the spec file
	Reasons []string `json:"reasons,omitempty"`
}

// Classify holds the profiles against the specs: one entry per profile, then
// one per spec operation no profile matched (orphans). Entries are sorted
// by class order, host and template. A nil set classifies nothing against a
// spec: endpoints are shadow (or third party).
func Classify(ps []*Profile, set *spec.Set) []Entry {
	if set == nil {
		set = spec.NewSet()
	}
	seen := map[*spec.Operation]bool{}
	var out []Entry
	ps = inferParties(ps, set)
	common := clientHeaders(ps)
	for _, p := range ps {
		e, op := classifyOne(p, set, common[p.Host])
		if op != nil {
			seen[op] = true
		}
		out = append(out, e)
	}
	for _, op := range set.Ops() {
		if seen[op] {
			continue
		}
		host := op.Host
		out = append(out, Entry{
			Endpoint: vigil.Endpoint{Host: host, Method: op.Method, Template: op.Path},
			Class:    Orphan, SpecOp: op.Method + " " + op.Path, Source: sourceOf(op),
			Reasons: []string{"documented, never seen in traffic"},
		})
	}
	order := map[Class]int{Shadow: 0, Zombie: 1, Drift: 2, ThirdParty: 3, Orphan: 4, Documented: 5, Unanswered: 6}
	slices.SortStableFunc(out, func(a, b Entry) int {
		if d := order[a.Class] - order[b.Class]; d != 0 {
			return d
		}
		return strings.Compare(a.Host+a.Template+a.Method, b.Host+b.Template+b.Method)
	})
	return out
}

// match finds p's operation: by its host, or, for a host that is not a
// third party's, as an alias of the specs' hosts (spec.Set.MatchAlias).
func match(set *spec.Set, p *Profile, method string) *spec.Operation {
	if p.Party == PartyThird {
		return set.Match(p.Host, method, p.Template)
	}
	return set.MatchAlias(p.Host, method, p.Template)
}

func sourceOf(op *spec.Operation) string {
	if op.Spec == nil {
		return ""
	}
	return op.Spec.Source
}

// inferParties settles the profiles whose party is unknown (no first-party
// host was configured): a host that serves documented operations is first
// party, and so is every host when no spec says otherwise; a host serving
// none while others do is third party. The profiles are copied, not changed.
func inferParties(ps []*Profile, set *spec.Set) []*Profile {
	documented := map[string]bool{}
	any := false
	for _, p := range ps {
		if p.Party == "" && set.Match(p.Host, p.Method, p.Template) != nil {
			documented[p.Host], any = true, true
		}
	}
	out := make([]*Profile, len(ps))
	for i, p := range ps {
		out[i] = p
		if p.Party != "" {
			continue
		}
		c := *p
		c.Party = PartyFirst
		if any && !documented[p.Host] {
			c.Party = PartyThird
		}
		out[i] = &c
	}
	return out
}

// clientHeaders finds, per host, the headers sent to at least a third of
// its answering endpoints (six or more): what a client app adds to every
// call (X-App-Version, X-Device-Id) is not an endpoint's parameter, so it is
// no drift.
func clientHeaders(ps []*Profile) map[string]map[string]bool {
	eps := map[string]int{}
	seen := map[string]map[string]int{}
	for _, p := range ps {
		if !answered(p) {
			continue
		}
		eps[p.Host]++
		for _, q := range p.Params {
			if q.In != "header" {
				continue
			}
			if seen[p.Host] == nil {
				seen[p.Host] = map[string]int{}
			}
			seen[p.Host][strings.ToLower(q.Name)]++
		}
	}
	out := map[string]map[string]bool{}
	for host, hs := range seen {
		for h, n := range hs {
			if eps[host] >= 6 && 3*n >= eps[host] {
				if out[host] == nil {
					out[host] = map[string]bool{}
				}
				out[host][h] = true
			}
		}
	}
	return out
}

// classifyOne classifies one profile; op is the spec operation it matches
// (a HEAD matches its GET), nil when none.
func classifyOne(p *Profile, set *spec.Set, common map[string]bool) (e Entry, op *spec.Operation) {
	e = Entry{Endpoint: p.Endpoint, Party: p.Party, Count: p.Count}
	op = match(set, p, p.Method)
	if op == nil && p.Method == "HEAD" {
		op = match(set, p, "GET")
	}
	if op != nil {
		e.SpecOp, e.Source = op.Method+" "+op.Path, sourceOf(op)
		if op.Deprecated && answered(p) {
			e.Class = Zombie
			e.Reasons = []string{"deprecated in the spec, still answering"}
			return e, op
		}
		e.Reasons = drift(p, op, common)
		e.Class = Documented
		if len(e.Reasons) > 0 {
			e.Class = Drift
		}
		return e, op
	}
	if !answered(p) {
		e.Class = Unanswered
		e.Reasons = []string{"answered only " + statusList(p)}
		return e, op
	}
	if twin := versionTwin(p, set); twin != nil {
		e.Class, e.SpecOp, e.Source = Zombie, twin.Method+" "+twin.Path, sourceOf(twin)
		e.Reasons = []string{fmt.Sprintf("undocumented older version of %s %s, still answering", twin.Method, twin.Path)}
		return e, op
	}
	if p.Party == PartyThird {
		e.Class = ThirdParty
		e.Reasons = []string{"a third-party host"}
		return e, op
	}
	e.Class = Shadow
	e.Reasons = []string{"answering (" + statusList(p) + "), not in the spec"}
	if p.Unauthenticated2xx > 0 {
		e.Reasons = append(e.Reasons, fmt.Sprintf("%d successful answers without credentials", p.Unauthenticated2xx))
	}
	return e, op
}

// answered reports whether the endpoint ever answered other than "not
// found": it exists.
func answered(p *Profile) bool {
	for s, n := range p.Statuses {
		if n > 0 && s != 0 && s != 404 && s != 405 && s != 501 {
			return true
		}
	}
	return false
}

func statusList(p *Profile) string {
	ss := make([]int, 0, len(p.Statuses))
	for s := range p.Statuses {
		ss = append(ss, s)
	}
	slices.Sort(ss)
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Itoa(s)
	}
	return strings.Join(parts, ", ")
}

// versionTwin finds a documented operation that differs from p only by its
// version segment, at a newer version: p is its zombie twin.
func versionTwin(p *Profile, set *spec.Set) *spec.Operation {
	segs := strings.Split(p.Template, "/")
	for i, s := range segs {
		v, ok := versionNumber(s)
		if !ok {
			continue
		}
		for _, op := range set.Ops() {
			if op.Method != p.Method && !(p.Method == "HEAD" && op.Method == "GET") {
				continue
			}
			os := strings.Split(spec.NormalizePath(op.Path), "/")
			if len(os) != len(segs) {
				continue
			}
			ov, ok := versionNumber(os[i])
			if !ok || ov <= v {
				continue
			}
			cand := slices.Clone(segs)
			cand[i] = os[i]
			if set.Match(p.Host, op.Method, strings.Join(cand, "/")) == op {
				return op
			}
		}
	}
	return nil
}

// versionNumber reads "v2" → 2, "v1.1" → 1.1.
func versionNumber(s string) (float64, bool) {
	if !versionSegment(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[1:], 64)
	return f, err == nil
}

// drift lists what traffic shows of p that op does not document.
func drift(p *Profile, op *spec.Operation, common map[string]bool) []string {
	var out []string
	documented := map[string]bool{}
	for _, q := range op.Params {
		documented[strings.ToLower(q.In+":"+q.Name)] = true
	}
	var undocumented []string
	for _, q := range p.Params {
		if q.In == "header" && common[strings.ToLower(q.Name)] {
			continue
		}
		if !documented[strings.ToLower(q.In+":"+q.Name)] {
			undocumented = append(undocumented, q.In+" "+q.Name)
		}
	}
	if len(undocumented) > 0 {
		slices.Sort(undocumented)
		out = append(out, "undocumented parameters: "+strings.Join(undocumented, ", "))
	}
	var statuses []string
	for s, n := range p.Statuses {
		if n > 0 && s != 0 && !statusDocumented(op, s) {
			statuses = append(statuses, strconv.Itoa(s))
		}
	}
	if len(statuses) > 0 {
		slices.Sort(statuses)
		out = append(out, "undocumented statuses: "+strings.Join(statuses, ", "))
	}
	if extra := undocumentedTypes(p.RequestTypes, op.RequestTypes); len(extra) > 0 {
		out = append(out, "undocumented request media types: "+strings.Join(extra, ", "))
	}
	var respTypes []string
	for _, r := range op.Responses {
		respTypes = append(respTypes, r.ContentTypes...)
	}
	if extra := undocumentedTypes(p.ResponseTypes, respTypes); len(extra) > 0 {
		out = append(out, "undocumented response media types: "+strings.Join(extra, ", "))
	}
	out = append(out, fieldDrift(p, op)...)
	if op.Auth && p.Unauthenticated2xx > 0 {
		out = append(out, fmt.Sprintf("the spec requires authentication, but %d requests without credentials got 2xx", p.Unauthenticated2xx))
	}
	return out
}

// statusDocumented: the operation lists the status, its class ("4XX") or a
// default response.
func statusDocumented(op *spec.Operation, s int) bool {
	if len(op.Responses) == 0 {
		return true // nothing documented: nothing to drift from
	}
	code := strconv.Itoa(s)
	if _, ok := op.Responses[code]; ok {
		return true
	}
	if _, ok := op.Responses[code[:1]+"XX"]; ok {
		return true
	}
	_, ok := op.Responses["default"]
	return ok
}

// undocumentedTypes lists the media types seen that the spec does not
// declare; a spec declaring none, or "*/*", accepts everything.
func undocumentedTypes(seen map[string]int64, declared []string) []string {
	if len(declared) == 0 {
		return nil
	}
	ok := map[string]bool{}
	for _, d := range declared {
		d = strings.ToLower(d)
		if d == "*/*" {
			return nil
		}
		ok[d] = true
	}
	var extra []string
	for t := range seen {
		if ok[t] {
			continue
		}
		major, _, _ := strings.Cut(t, "/")
		if ok[major+"/*"] {
			continue
		}
		extra = append(extra, t)
	}
	slices.Sort(extra)
	return extra
}

// maxListed bounds the fields named in one drift reason.
const maxListed = 8

// fieldDrift compares the inferred body fields with the documented ones:
// undocumented request fields (a mass-assignment hint), undocumented
// response fields, and sensitive response fields the spec does not declare.
// A body the spec gives no schema for has nothing to drift from.
func fieldDrift(p *Profile, op *spec.Operation) []string {
	var out []string
	if p.RequestSchema != nil && len(op.RequestFields) > 0 {
		if extra, _ := undocumentedFields(p.RequestSchema.Fields(), op.RequestFields); len(extra) > 0 {
			out = append(out, "undocumented request fields: "+listed(extra))
		}
	}
	var extra, sensitive []string
	for status, n := range p.ResponseSchemas {
		r, ok := documentedResponse(op, status)
		if !ok || len(r.Fields) == 0 {
			continue
		}
		e, sens := undocumentedFields(n.Fields(), r.Fields)
		extra = append(extra, e...)
		sensitive = append(sensitive, sens...)
	}
	extra, sensitive = uniqueSorted(extra), uniqueSorted(sensitive)
	if len(sensitive) > 0 {
		out = append(out, "sensitive response fields the spec does not declare: "+listed(sensitive))
	}
	if len(extra) > 0 {
		out = append(out, "undocumented response fields: "+listed(extra))
	}
	return out
}

// undocumentedFields lists the seen fields not documented (array item
// entries "x[]" aside), and those of them that carry sensitive data, with
// their classes.
func undocumentedFields(seen []schema.Field, documented []string) (extra, sensitive []string) {
	doc := make(map[string]bool, len(documented))
	for _, d := range documented {
		doc[d] = true
	}
	for _, f := range seen {
		if doc[f.Path] || strings.HasSuffix(f.Path, "[]") || underUndocumented(f.Path, doc) {
			continue
		}
		extra = append(extra, f.Path)
		if f.Classes != 0 {
			sensitive = append(sensitive, f.Path+" ("+f.Classes.String()+")")
		}
	}
	return extra, sensitive
}

// underUndocumented: a field below an undocumented parent is reported through
// its parent only, unless it carries sensitive data.
func underUndocumented(path string, doc map[string]bool) bool {
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '.' {
			parent := strings.TrimSuffix(path[:i], "[]")
			if parent != "" && !doc[parent] && !doc[path[:i]] {
				return true
			}
		}
	}
	return false
}

// documentedResponse finds the spec's response for a status: exact, class
// ("2XX") or default.
func documentedResponse(op *spec.Operation, status string) (spec.Response, bool) {
	if r, ok := op.Responses[status]; ok {
		return r, true
	}
	if len(status) == 3 {
		if r, ok := op.Responses[status[:1]+"XX"]; ok {
			return r, true
		}
	}
	r, ok := op.Responses["default"]
	return r, ok
}

func uniqueSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func listed(s []string) string {
	if len(s) > maxListed {
		return strings.Join(s[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}
