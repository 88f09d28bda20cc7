package recon

import (
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

// probe counts a distinct unknown template towards a probe burst.
func (d *Detector) probe(x *vigil.Exchange, o *observation, a *actor, now int64) (vigil.Finding, bool) {
	k := a.state(kindProbe, now, d.window)
	key := d.hash(strings.ToLower(inventory.TemplateFor(x, o.path)))
	if k.add(entry{key: key, at: now, flags: o.flags(d)}) {
		k.remember(now, o.path, o.status, o.flags(d), 0)
	}
	if len(k.ents) < d.cfg.ProbeBurst || k.quiet(now, d.window) {
		return vigil.Finding{}, false
	}
	title := "Shadow API probing: " + strconv.Itoa(len(k.ents)) + " unknown endpoints within " + vigil.FormatDuration(d.cfg.Window)
	return d.finding(kindProbe, x, k, vigil.SeverityMedium, title, now), true
}

// wordlist counts a distinct wordlist entry.
func (d *Detector) wordlist(x *vigil.Exchange, o *observation, a *actor, now int64) (vigil.Finding, bool) {
	k := a.state(kindWordlist, now, d.window)
	if k.add(entry{key: d.hash(o.word.key()), at: now, flags: o.flags(d)}) {
		k.remember(now, o.path, o.status, o.flags(d), 0)
	}
	if len(k.ents) < wordlistThreshold || k.quiet(now, d.window) {
		return vigil.Finding{}, false
	}
	sev := vigil.SeverityMedium
	if k.any(flagBody) {
		sev = vigil.SeverityHigh
	}
	title := "Shadow API probing: " + strconv.Itoa(len(k.ents)) + " well-known sensitive paths"
	return d.finding(kindWordlist, x, k, sev, title, now), true
}

// specHunting counts a distinct API description file. Two fire when one of
// them was missed (a reader of the docs gets both), three in any case.
func (d *Detector) specHunting(x *vigil.Exchange, o *observation, a *actor, now int64) (vigil.Finding, bool) {
	k := a.state(kindSpec, now, d.window)
	key := d.hash(strings.ToLower(strings.TrimRight(o.path, "/")))
	if k.add(entry{key: key, at: now, flags: o.flags(d)}) {
		k.remember(now, o.path, o.status, o.flags(d), 0)
	}
	n := len(k.ents)
	if !(n >= specThreshold && k.any(flagMiss) || n >= specSureThreshold) || k.quiet(now, d.window) {
		return vigil.Finding{}, false
	}
	sev := vigil.SeverityLow
	if n >= specMediumThreshold {
		sev = vigil.SeverityMedium
	}
	title := "Shadow API probing: " + strconv.Itoa(n) + " API description files requested"
	return d.finding(kindSpec, x, k, sev, title, now), true
}

// versionRolling counts a distinct (template, version) pair and watches the
// actor leave its main version for an older unknown one.
func (d *Detector) versionRolling(x *vigil.Exchange, o *observation, a *actor, now int64) (vigil.Finding, bool) {
	k := a.state(kindVersion, now, d.window)
	group := d.versionlessHash(x, o.path, o.verSeg)
	e := entry{key: group ^ uint64(o.ver)*goldenRatio64, group: group, at: now, ver: o.ver, flags: o.flags(d)}
	if k.add(e) {
		k.remember(now, o.path, o.status, e.flags, o.ver)
	}
	n, newest := k.versions(group)
	main, hasMain := a.mainVersion()
	moved := d.cfg.Known != nil && hasMain && o.ver.olderThan(main) && !o.known
	if !(n >= versionThreshold || moved) || k.quiet(now, d.window) {
		return vigil.Finding{}, false
	}
	sev := vigil.SeverityMedium
	if d.zombie(k, group, newest, main) {
		sev = vigil.SeverityHigh
	}
	tmpl := versionless(o.path, o.verSeg)
	title := "Shadow API probing: " + strconv.Itoa(n) + " API versions of " + tmpl
	if moved && n < versionThreshold {
		title = "Shadow API probing: older unknown API version " + o.ver.String() + " of " + tmpl + " (the actor uses " + main.String() + ")"
	}
	return d.finding(kindVersion, x, k, sev, title, now), true
}

// zombie says whether an older version of the group than its newest or the
// actor's main version answered 2xx while not known: a zombie twin found.
func (d *Detector) zombie(k *kindState, group uint64, newest, main version) bool {
	for _, e := range k.ents {
		if e.group != group || e.flags&flagSuccess == 0 {
			continue
		}
		if d.cfg.Known != nil && e.flags&flagUnknown == 0 {
			continue
		}
		if e.ver.olderThan(newest) || e.ver.olderThan(main) {
			return true
		}
	}
	return false
}

// versions counts the distinct versions of a group in the window and
// returns the newest.
func (k *kindState) versions(group uint64) (n int, newest version) {
	for _, e := range k.ents {
		if e.group == group {
			n++
			if newest.olderThan(e.ver) || !newest.ok() {
				newest = e.ver
			}
		}
	}
	return n, newest
}

// any says whether an entry in the window has one of flags.
func (k *kindState) any(flags uint8) bool {
	for _, e := range k.ents {
		if e.flags&flags != 0 {
			return true
		}
	}
	return false
}

// flags are the entry flags of an observation.
func (o *observation) flags(d *Detector) uint8 {
	var f uint8
	if o.miss || o.status == 0 {
		f |= flagMiss
	}
	if o.status >= 200 && o.status < 300 {
		f |= flagSuccess
	}
	if o.body {
		f |= flagBody
	}
	if d.cfg.Known != nil && !o.known {
		f |= flagUnknown
	}
	return f
}

// versionless returns the template of p with its seg-th non-empty segment
// (the version) replaced by "{v}", lower-cased.
func versionless(p string, seg int) string {
	t := inventory.Template(p)
	var b strings.Builder
	b.Grow(len(t) + 3)
	i := 0
	for j, s := range strings.Split(t, "/") {
		if j > 0 {
			b.WriteByte('/')
		}
		if s == "" {
			continue
		}
		if i == seg {
			b.WriteString("{v}")
		} else {
			b.WriteString(strings.ToLower(s))
		}
		i++
	}
	return b.String()
}

// versionlessHash hashes versionless(p, seg) with at most the one
// allocation of inventory.Template, which it skips when the pipeline has
// recorded p's template in x (inventory.TemplateFor).
func (d *Detector) versionlessHash(x *vigil.Exchange, p string, seg int) uint64 {
	var h maphash.Hash
	h.SetSeed(d.table.Seed())
	t := inventory.TemplateFor(x, p)
	for i := 0; t != ""; {
		var s string
		s, t, _ = strings.Cut(t, "/")
		h.WriteByte('/')
		if s == "" {
			continue
		}
		if i == seg {
			h.WriteString("{v}")
		} else {
			for j := 0; j < len(s); j++ {
				c := s[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				h.WriteByte(c)
			}
		}
		i++
	}
	return h.Sum64()
}

func (d *Detector) hash(s string) uint64 { return maphash.String(d.table.Seed(), s) }

// finding builds a finding of kind kd from the state's examples and marks
// the state as fired.
func (d *Detector) finding(kd kind, x *vigil.Exchange, k *kindState, sev vigil.Severity, title string, now int64) vigil.Finding {
	ev := make([]vigil.Evidence, 0, len(k.examples))
	for _, e := range k.examples {
		ev = append(ev, vigil.Evidence{Where: "request.path", Value: e.path, Why: why(kd, e)})
	}
	k.fire(now)
	d.counts.findings[kd].Add(1)
	return vigil.Finding{
		Detector:   kinds[kd].id,
		Category:   vigil.API9InventoryManagement,
		Area:       vigil.AreaShadow,
		Severity:   sev,
		Confidence: kinds[kd].conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint: vigil.Endpoint{
			Host:     x.Request.Host(),
			Method:   x.Request.Method,
			Template: inventory.TemplateFor(x, cutPath(x.Request.Path())),
		},
		Title:    title,
		Evidence: ev,
	}
}

// why is an example's reason.
func why(kd kind, e example) string {
	var s string
	switch kd {
	case kindProbe:
		s = "unknown endpoint"
	case kindWordlist:
		s = "well-known sensitive path"
	case kindSpec:
		s = "API description file"
	case kindVersion:
		s = "API version " + e.ver.String()
	}
	if e.status == 0 {
		s += ", no answer"
	} else {
		s += ", answered " + strconv.Itoa(e.status)
	}
	if e.flags&flagUnknown != 0 {
		s += ", not a known endpoint"
	}
	return s
}
