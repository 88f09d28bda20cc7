package scan

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vigilsec/vigil"
)

// The replay of detected attacks: findings of Vigil's detectors (from a
// store) are grouped by replay template, operation and parameter, and each
// group runs the templates its replay template uses, aimed at the
// attack's parameter, with their own safe payloads: a failure confirms the
// attack. The attacker's payload is never sent.

// Limits of the replay of detected attacks.
const (
	// MaxDetectedPerDetector is how many findings DetectedFrom reads per
	// detector (the newest), and MaxDetected how many in all: replays are
	// grouped by operation and parameter, so a few per group are enough.
	MaxDetectedPerDetector = 1000
	MaxDetected            = 20_000
	// maxReplayTargets caps the replays of one run; further groups are
	// counted in one skipped result.
	maxReplayTargets = 500
	// maxReplayIDs is how many finding ids a result names.
	maxReplayIDs = 5
	// maxReplayList caps the detectors and uses of a replay template, and
	// the parameters and notes of one replay.
	maxReplayList = 50
	// maxReplayPlaces caps the parameters one replay tests.
	maxReplayPlaces = 8
)

// ReplaySpec is the replay block of a template of kind replay: which
// findings it replays, and the templates whose safe payloads confirm them.
type ReplaySpec struct {
	// Detectors are the dotted ids of the detectors whose findings are
	// replayed. "*" alone takes every finding no other replay template of
	// the run takes, and reports it as skipped (nothing to replay it with).
	Detectors []string `yaml:"detectors"`
	// Title, a regular expression, must match the finding's title.
	Title string `yaml:"title"`
	// Evidence, a regular expression, must match the "why" of one of the
	// finding's evidence items; only those items' parameters are replayed.
	Evidence string `yaml:"evidence"`
	// Uses are the ids of the templates run against the finding's
	// operation (and parameter): the first that fails confirms the attack.
	Uses []string `yaml:"uses"`

	title, evidence *regexp.Regexp
}

func (s *ReplaySpec) compile() error {
	if s == nil || len(s.Detectors) == 0 {
		return errors.New("kind replay needs replay.detectors")
	}
	if len(s.Detectors) > maxReplayList || len(s.Uses) > maxReplayList {
		return fmt.Errorf("replay: at most %d detectors and %d uses", maxReplayList, maxReplayList)
	}
	wild := slices.Contains(s.Detectors, "*")
	switch {
	case wild && len(s.Detectors) > 1:
		return errors.New(`replay.detectors: "*" stands alone`)
	case wild && (len(s.Uses) > 0 || s.Title != "" || s.Evidence != ""):
		return errors.New(`replay.detectors ["*"] only reports what no other replay test takes: no uses, title or evidence`)
	case !wild && len(s.Uses) == 0:
		return errors.New("replay.uses: name the templates that confirm the attack")
	}
	for _, d := range s.Detectors {
		if d == "" || len(d) > 100 {
			return fmt.Errorf("replay.detectors: %q is not a detector id", d)
		}
	}
	for _, u := range s.Uses {
		if !templateID.MatchString(u) {
			return fmt.Errorf("replay.uses: %q is not a template id", u)
		}
	}
	var err error
	if s.Title != "" {
		if s.title, err = regexp.Compile(s.Title); err != nil {
			return fmt.Errorf("replay.title: %w", err)
		}
	}
	if s.Evidence != "" {
		if s.evidence, err = regexp.Compile(s.Evidence); err != nil {
			return fmt.Errorf("replay.evidence: %w", err)
		}
	}
	return nil
}

// wild reports whether the spec takes the findings no other one takes.
func (s *ReplaySpec) wild() bool { return len(s.Detectors) == 1 && s.Detectors[0] == "*" }

// match reports whether the spec takes f, and the evidence items that
// matched (all of them without an evidence expression).
func (s *ReplaySpec) match(f *vigil.Finding) ([]vigil.Evidence, bool) {
	if !slices.Contains(s.Detectors, f.Detector) || (s.title != nil && !s.title.MatchString(f.Title)) {
		return nil, false
	}
	if s.evidence == nil {
		return f.Evidence, true
	}
	var items []vigil.Evidence
	for _, e := range f.Evidence {
		if s.evidence.MatchString(e.Why) {
			items = append(items, e)
		}
	}
	return items, len(items) > 0
}

// FindingSource is where detected attacks are read from: a vigil.Store
// (store/sqlite) that vigil proxy or vigil analyze filled.
type FindingSource interface {
	Findings(ctx context.Context, f vigil.FindingFilter) ([]vigil.Finding, error)
}

// DetectedFrom reads the findings the replay templates of ts replay: the
// newest MaxDetectedPerDetector of each detector they name and, when one
// takes any detector ("*"), the newest MaxDetectedPerDetector of all; at
// most MaxDetected in all.
func DetectedFrom(ctx context.Context, src FindingSource, ts []*Template) ([]vigil.Finding, error) {
	var dets []string
	wild := false
	for _, t := range ts {
		if t.Kind != KindReplay || t.Replay == nil {
			continue
		}
		for _, d := range t.Replay.Detectors {
			if d == "*" {
				wild = true
			} else if !slices.Contains(dets, d) {
				dets = append(dets, d)
			}
		}
	}
	slices.Sort(dets)
	var out []vigil.Finding
	seen := map[string]bool{}
	add := func(fs []vigil.Finding) {
		for _, f := range fs {
			if len(out) >= MaxDetected {
				return
			}
			if f.ID != "" {
				if seen[f.ID] {
					continue
				}
				seen[f.ID] = true
			}
			out = append(out, f)
		}
	}
	for _, d := range dets {
		fs, err := src.Findings(ctx, vigil.FindingFilter{Detector: d, Limit: MaxDetectedPerDetector})
		if err != nil {
			return nil, fmt.Errorf("read the findings of %s: %w", d, err)
		}
		add(fs)
	}
	if wild {
		fs, err := src.Findings(ctx, vigil.FindingFilter{Limit: MaxDetectedPerDetector})
		if err != nil {
			return nil, fmt.Errorf("read the findings: %w", err)
		}
		add(fs)
	}
	return out, nil
}

// replayTarget is one replay: a replay template against one operation,
// aimed at the parameters the attacks used, with the findings it came
// from.
type replayTarget struct {
	t      *Template
	op     *Operation // nil when skipped without an operation
	opName string     // the operation, or the finding's endpoint
	places []place    // the parameters to aim at
	whole  bool       // also run the templates on the operation as they select
	skip   string     // set: not replayed, and why
	notes  []string   // parts of the findings that are not replayed, and why

	ids       []string // the first maxReplayIDs finding ids
	count     int      // findings
	detectors []string
	endpoints []string // wild targets: the endpoints of the findings
}

// from names the findings a replay came from.
func (tg *replayTarget) from() string {
	var b strings.Builder
	b.WriteString("from ")
	if tg.count == 1 {
		b.WriteString("finding ")
	} else {
		b.WriteString(strconv.Itoa(tg.count) + " findings ")
	}
	b.WriteString(strings.Join(tg.ids, ", "))
	if n := tg.count - len(tg.ids); n > 0 && len(tg.ids) > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	if len(tg.detectors) > 0 {
		b.WriteString(" (" + strings.Join(tg.detectors, ", ") + ")")
	}
	return strings.TrimSpace(b.String())
}

// resolveReplays finds the templates each replay template of ts uses:
// among ts, else among known, else the built-in ones.
func resolveReplays(ts, known []*Template) (map[string][]*Template, error) {
	out := map[string][]*Template{}
	var builtin []*Template
	for _, t := range ts {
		if t.Kind != KindReplay || t.Replay == nil || t.Replay.wild() {
			continue
		}
		for _, id := range t.Replay.Uses {
			byID := func(x *Template) bool { return x.ID == id }
			var u *Template
			if i := slices.IndexFunc(ts, byID); i >= 0 {
				u = ts[i]
			} else if i := slices.IndexFunc(known, byID); i >= 0 {
				u = known[i]
			} else {
				if builtin == nil {
					var err error
					if builtin, err = BuiltinTemplates(); err != nil {
						return nil, err
					}
				}
				if j := slices.IndexFunc(builtin, byID); j >= 0 {
					u = builtin[j]
				}
			}
			if u == nil {
				return nil, fmt.Errorf("scan: template %s uses %s, which is no template", t.ID, id)
			}
			if u.Kind == KindReplay || u.Variant == "observed" {
				return nil, fmt.Errorf("scan: template %s uses %s, a replay of its own", t.ID, id)
			}
			out[t.ID] = append(out[t.ID], u)
		}
	}
	return out, nil
}

// targeted reports whether the templates are aimed at one parameter.
func targeted(uses []*Template) bool {
	return slices.ContainsFunc(uses, func(u *Template) bool {
		return u.Kind == KindInject || u.Kind == KindSSRF || u.Kind == KindMassAssign
	})
}

// planReplays groups the findings of cfg.Findings into replays: one per
// replay template, operation and parameter.
func (r *runner) planReplays() {
	var reps []*Template
	var wild *Template
	for _, t := range r.cfg.Templates {
		switch {
		case t.Kind != KindReplay || t.Replay == nil:
		case t.Replay.wild():
			if wild == nil {
				wild = t
			}
		default:
			reps = append(reps, t)
		}
	}
	if len(reps) == 0 && wild == nil {
		return
	}
	byKey := map[string]*replayTarget{}
	synthetic := map[string]*Operation{}
	dropped := 0
	add := func(key string, tg replayTarget, f *vigil.Finding) {
		x := byKey[key]
		switch {
		case x == nil:
			if len(r.replays) >= maxReplayTargets {
				dropped++
				return
			}
			x = &tg
			byKey[key] = x
			r.replays = append(r.replays, x)
		case tg.skip != "":
			x.note(tg.skip)
		default:
			if x.skip != "" { // the first findings could not be replayed, these can
				x.note(x.skip)
				x.skip, x.op = "", tg.op
			}
			x.whole = x.whole || tg.whole
			for _, p := range tg.places {
				if !slices.Contains(x.places, p) {
					if len(x.places) >= maxReplayPlaces {
						x.note(fmt.Sprintf("more than %d parameters: %s %s left out", maxReplayPlaces, p.in, p.name))
						continue
					}
					x.places = append(x.places, p)
				}
			}
		}
		x.count++
		if f.ID != "" && len(x.ids) < maxReplayIDs && !slices.Contains(x.ids, f.ID) {
			x.ids = append(x.ids, f.ID)
		}
		if !slices.Contains(x.detectors, f.Detector) {
			x.detectors = append(x.detectors, f.Detector)
		}
	}
	for i := range r.cfg.Findings {
		f := &r.cfg.Findings[i]
		claimed := false
		for _, t := range reps {
			items, ok := t.Replay.match(f)
			if !ok {
				continue
			}
			claimed = true
			tg := r.replayTarget(t, f, items, synthetic)
			add(t.ID+"\x00"+tg.opName, tg, f)
		}
		if claimed || wild == nil {
			continue
		}
		key := wild.ID + "\x00" + f.Detector
		add(key, replayTarget{t: wild, skip: "no replay test takes these findings of " + f.Detector}, f)
		if x := byKey[key]; x != nil {
			x.addEndpoint(endpointName(f.Endpoint))
		}
	}
	if dropped > 0 && len(r.replays) > 0 {
		r.replays = append(r.replays, &replayTarget{t: r.replays[0].t, opName: "*", count: dropped,
			skip: fmt.Sprintf("more than %d replays: the findings of the others left out", maxReplayTargets)})
	}
}

// note records a part of the findings that is not replayed.
func (tg *replayTarget) note(s string) {
	if s != tg.skip && !slices.Contains(tg.notes, s) && len(tg.notes) < maxReplayList {
		tg.notes = append(tg.notes, s)
	}
}

// addEndpoint records an endpoint of a wild target's findings and names
// its operation after them: the endpoint, or how many there are.
func (tg *replayTarget) addEndpoint(ep string) {
	if slices.Contains(tg.endpoints, ep) || len(tg.endpoints) >= maxReplayTargets {
		return
	}
	tg.endpoints = append(tg.endpoints, ep)
	if len(tg.endpoints) == 1 {
		tg.opName = ep
	} else {
		tg.opName = strconv.Itoa(len(tg.endpoints)) + " endpoints"
	}
}

func endpointName(e vigil.Endpoint) string {
	if e.Method == "" && e.Template == "" {
		return "(no endpoint)"
	}
	return e.Method + " " + e.Template
}

// replayTarget turns one finding into a replay of template t: the
// finding's operation in the spec (or a GET with a query parameter outside
// it), aimed at the parameters its evidence names when t's templates aim
// at one.
func (r *runner) replayTarget(t *Template, f *vigil.Finding, items []vigil.Evidence, synthetic map[string]*Operation) replayTarget {
	ep := endpointName(f.Endpoint)
	skip := func(format string, args ...any) replayTarget {
		return replayTarget{t: t, opName: ep, skip: fmt.Sprintf(format, args...)}
	}
	if f.Endpoint.Method == "" || !strings.HasPrefix(f.Endpoint.Template, "/") {
		return skip("the finding names no endpoint")
	}
	method := strings.ToUpper(f.Endpoint.Method)
	op := r.cfg.API.match(method, f.Endpoint.Template)
	if !targeted(r.replayUses[t.ID]) {
		if op == nil {
			return skip("%s is not in the spec (outside it only GETs with a query parameter are replayed)", ep)
		}
		return replayTarget{t: t, op: op, opName: op.String(), whole: true}
	}
	var places []place
	reason := ""
	for _, e := range items {
		p, why := placeOf(e.Where, op, f.Endpoint.Template)
		switch {
		case p != nil && !slices.Contains(places, *p):
			places = append(places, *p)
		case p == nil && why != "" && reason == "":
			reason = why
		}
	}
	if len(places) == 0 && reason != "" {
		if op != nil {
			ep = op.String()
		}
		return skip("%s", reason)
	}
	if op == nil {
		if method != "GET" || strings.Contains(f.Endpoint.Template, "{") || len(places) == 0 ||
			slices.ContainsFunc(places, func(p place) bool { return p.in != "query" }) {
			return skip("%s is not in the spec (outside it only GETs with a query parameter are replayed)", ep)
		}
		op = synthetic[f.Endpoint.Template]
		if op == nil {
			op = &Operation{Method: "GET", Path: f.Endpoint.Template, Auth: true, ResponseFields: map[string]bool{}}
			synthetic[f.Endpoint.Template] = op
		}
		for _, p := range places {
			if !slices.ContainsFunc(op.Params, func(x Param) bool { return x.In == "query" && x.Name == p.name }) {
				op.Params = append(op.Params, Param{Name: p.name, In: "query", Required: true, Schema: openapi3.NewStringSchema()})
			}
		}
	}
	return replayTarget{t: t, op: op, opName: op.String(), places: places, whole: len(places) == 0}
}

// placeOf maps an evidence location ("query.q", "path.3", "body.user.role")
// to the parameter or top-level body property it names. A location that is
// a request value the scan cannot send (a header, a form field) gives the
// reason instead; one that is no request value (behaviour evidence) gives
// neither.
func placeOf(where string, op *Operation, template string) (*place, string) {
	src, rest, _ := strings.Cut(where, ".")
	first, _, _ := strings.Cut(rest, ".")
	switch src {
	case "query":
		if first != "" {
			return &place{"query", first}, ""
		}
	case "body":
		if first == "" {
			return nil, "the attack was in a raw (non-JSON) body: only query, path and JSON body values are replayed"
		}
		return &place{"body", first}, ""
	case "path":
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return nil, ""
		}
		path := template
		if op != nil {
			path = op.Path
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		if n < len(segs) && strings.HasPrefix(segs[n], "{") && strings.HasSuffix(segs[n], "}") && op != nil {
			return &place{"path", segs[n][1 : len(segs[n])-1]}, ""
		}
		return nil, fmt.Sprintf("the attack was in path segment %d, which is not a path parameter of the operation", n+1)
	case "header", "cookie", "form", "multipart":
		return nil, fmt.Sprintf("the attack was in %s: only query, path and JSON body values are replayed", where)
	}
	return nil, ""
}

// stage says when a replay runs: after the others when one of its
// templates changes state that other tests rely on, last for DELETE.
func (tg *replayTarget) stage(uses []*Template) int {
	if tg.op == nil || tg.skip != "" {
		return 0
	}
	if tg.op.Method == "DELETE" {
		return 2
	}
	for _, u := range uses {
		if u.Kind == KindMassAssign || u.Kind == KindRateLimit || u.Kind == KindMethod || (u.Kind == KindBOLA && tg.op.Method != "GET") {
			return 1
		}
	}
	return 0
}

// replay runs the templates a replay uses against its operation, aimed at
// each parameter the attacks used: the first failure confirms the attack
// (fail), else a pass says it was not reproduced.
func (r *runner) replay(ctx context.Context, tg *replayTarget) verdict {
	from := tg.from()
	if len(tg.notes) > 0 {
		from = "also not replayed: " + strings.Join(tg.notes, "; ") + "; " + from
	}
	if tg.skip != "" {
		return skipf("not replayed: %s; %s", tg.skip, from)
	}
	op := tg.op
	var focuses []*place
	for i := range tg.places {
		focuses = append(focuses, &tg.places[i])
	}
	if tg.whole || len(focuses) == 0 {
		focuses = append(focuses, nil)
	}
	var passes, notes []string
	var passed verdict
	var failed *verdict
	ran := 0
	for _, u := range r.replayUses[tg.t.ID] {
		for _, fc := range focuses {
			sel := u.Select
			if fc != nil {
				sel.params = nil // the attack's parameter is the one to test
			}
			if !kindApplies(u, op) || !sel.applies(op) {
				continue
			}
			ran++
			if r.cfg.Safe && stateChanging(task{t: u, op: op}) {
				notes = append(notes, u.ID+": state-changing test skipped by --safe")
				break
			}
			c := *u
			c.focus = fc
			v := r.check(ctx, &c, op)
			switch v.status {
			case StatusFail:
				v.detail = fmt.Sprintf("confirmed, the attack would work: %s: %s; %s", u.ID, v.detail, from)
				return v
			case StatusPass:
				passes = append(passes, u.ID+": "+v.detail)
				passed = v
			case StatusError:
				if failed == nil {
					failed = &v
				}
				notes = append(notes, u.ID+": "+v.detail)
			default:
				if v.detail == "" {
					v.detail = "not applicable"
				}
				notes = append(notes, u.ID+": "+v.detail)
			}
		}
	}
	if len(passes) > 0 {
		passed.detail = "not reproduced: " + strings.Join(append(passes, notes...), "; ") + "; " + from
		return passed
	}
	if failed != nil {
		failed.detail = "no verdict: " + strings.Join(notes, "; ") + "; " + from
		return *failed
	}
	if ran == 0 {
		var ids []string
		for _, u := range r.replayUses[tg.t.ID] {
			ids = append(ids, u.ID)
		}
		return skipf("not replayed: %s does not apply to %s; %s", strings.Join(ids, ", "), op, from)
	}
	return skipf("not replayed: %s; %s", strings.Join(notes, "; "), from)
}
