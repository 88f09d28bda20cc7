package correlate

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
)

// incident is an open incident and the state behind it. Every slice in inc
// is bounded (see the caps in correlate.go).
type incident struct {
	inc        vigil.Incident
	stages     uint8 // bit per vigil.Stage reached
	critical   bool  // exploitation followed recon or credential access, or data left after exploitation
	principals []string
	exploits   []string // distinct exploitation detectors, up to 2
	// principalOut is set once a stage finding targeted the principal;
	// targeted lists the addresses critical stage findings targeted.
	principalOut bool
	targeted     []string
	keys         []string // actor keys indexed to it
	detectors    map[string]bool
}

func bit(s vigil.Stage) uint8 { return 1 << uint(s) }

// chained reports whether the stages reached make a chain: exploitation or
// exfiltration with recon or credential access, or exfiltration with
// exploitation. The order the findings arrived in does not matter.
func chained(m uint8) bool {
	early := bit(vigil.StageRecon) | bit(vigil.StageCredentialAccess)
	late := bit(vigil.StageExploitation) | bit(vigil.StageExfiltration)
	return (m&early != 0 && m&late != 0) || m&late == late
}

// target notes that a critical stage finding targeted addr.
func (in *incident) target(addr string) {
	if addr != "" {
		in.targeted = addCapped(in.targeted, addr, maxKeys)
	}
}

// addrs counts the distinct addresses among the incident's actors.
func (in *incident) addrs() int {
	var seen []string
	for _, a := range in.inc.Actors {
		if a.Addr != "" && !slices.Contains(seen, a.Addr) {
			seen = append(seen, a.Addr)
		}
	}
	return len(seen)
}

// accepts reports whether the incident may take findings of principal p:
// it has no principal, or only p. Two distinct principals are never joined.
func (in *incident) accepts(p string) bool {
	for _, q := range in.principals {
		if q != p {
			return false
		}
	}
	return true
}

// stageWeight is the score of the furthest stage reached.
var stageWeight = [...]float64{vigil.StageRecon: 10, vigil.StageCredentialAccess: 25, vigil.StageExploitation: 50, vigil.StageExfiltration: 65}

// severityWeight is the score added for the most severe finding.
var severityWeight = [...]float64{vigil.SeverityInfo: 0, vigil.SeverityLow: 0, vigil.SeverityMedium: 2, vigil.SeverityHigh: 5, vigil.SeverityCritical: 10}

// join adds a finding and emits the stage findings it calls for; it reports
// false for a finding already in the incident (the same ID, e.g. a batch the
// pipeline retried).
func (in *incident) join(c *Correlator, f *vigil.Finding, stage vigil.Stage, t time.Time) bool {
	if f.ID != "" && slices.Contains(in.inc.FindingIDs, f.ID) {
		return false
	}
	in.addActor(f)
	if p := principalOf(f); p != "" {
		in.principals = addCapped(in.principals, p, maxActors)
	}
	in.inc.Findings++
	if f.ID != "" {
		in.inc.FindingIDs = dropMiddle(append(in.inc.FindingIDs, f.ID), maxIDs)
	}
	if t.Before(in.inc.FirstSeen) || in.inc.FirstSeen.IsZero() {
		in.inc.FirstSeen = t
	}
	if t.After(in.inc.LastSeen) {
		in.inc.LastSeen = t
	}
	if f.Severity > in.inc.Severity {
		in.inc.Severity = f.Severity
	}
	if f.Area != "" {
		in.inc.Areas = addCapped(in.inc.Areas, f.Area, maxAreas)
	}
	if in.detectors == nil {
		in.detectors = map[string]bool{}
	}
	if !in.detectors[f.Detector] && len(in.detectors) < maxDetectors {
		in.detectors[f.Detector] = true
	}
	in.addEntry(c, vigil.TimelineEntry{Time: t, Detector: f.Detector, Stage: stage, Severity: f.Severity,
		Endpoint: f.Endpoint, FindingID: f.ID, Actor: f.Actor.Key()})

	prev, wasCritical := in.stages, in.critical
	in.stages |= bit(stage)
	in.inc.Stage = max(in.inc.Stage, stage)
	if stage == vigil.StageExploitation {
		in.exploits = addCapped(in.exploits, f.Detector, 2)
	}
	in.critical = in.critical || chained(in.stages) || len(in.exploits) >= 2
	switch {
	case in.critical && !wasCritical:
		c.emit(in.stageFinding(f, stage, prev, vigil.SeverityCritical, t, false))
		in.target(f.Actor.Addr)
		// Every address the incident already holds gets the verdict too:
		// the first steps of a chain may have come from another one.
		for _, a := range in.inc.Actors {
			if a.Addr != "" && !slices.Contains(in.targeted, a.Addr) {
				g := *f
				g.Actor = a
				c.emit(in.stageFinding(&g, stage, prev, vigil.SeverityCritical, t, false))
				in.target(a.Addr)
			}
		}
	case in.critical && f.Actor.Addr != "" && !slices.Contains(in.targeted, f.Actor.Addr):
		// A new address of an incident already past the critical point:
		// the same verdict for it, so that a client rotating addresses is
		// stopped at its first finding from each.
		c.emit(in.stageFinding(f, in.inc.Stage, in.stages, vigil.SeverityCritical, t, false))
		in.target(f.Actor.Addr)
	case prev&bit(stage) == 0:
		c.emit(in.stageFinding(f, stage, prev, vigil.SeverityMedium, t, false))
	}
	if in.critical && !in.principalOut && len(in.principals) == 1 && in.addrs() > 1 {
		// One account used from several addresses: stop the account.
		in.principalOut = true
		c.emit(in.stageFinding(f, in.inc.Stage, in.stages, vigil.SeverityCritical, t, true))
	}
	if in.critical {
		in.inc.Severity = vigil.SeverityCritical
	}
	in.inc.Score = in.score()
	in.inc.Title = in.title()
	c.dirty[in] = true
	c.open.Get(in.inc.ID) // most recently active
	return true
}

// addActor lists f's actor, with the principal it is keyed on; the first
// one gives the incident its ActorKey.
func (in *incident) addActor(f *vigil.Finding) {
	a := f.Actor
	a.Principal = principalOf(f)
	if len(in.inc.Actors) == 0 {
		in.inc.ActorKey = a.Key()
	}
	in.inc.Actors = addCapped(in.inc.Actors, a, maxActors)
}

// addEntry inserts into the timeline in time order and drops the middle
// beyond the cap.
func (in *incident) addEntry(c *Correlator, e vigil.TimelineEntry) {
	tl := in.inc.Timeline
	i, _ := slices.BinarySearchFunc(tl, e.Time, func(x vigil.TimelineEntry, t time.Time) int {
		if x.Time.After(t) {
			return 1
		}
		return -1 // equal times keep arrival order
	})
	tl = slices.Insert(tl, i, e)
	if len(tl) > c.cfg.MaxTimeline {
		tl = slices.Delete(tl, c.cfg.MaxTimeline/2, c.cfg.MaxTimeline/2+1)
		in.inc.TimelineDropped++
	}
	in.inc.Timeline = tl
}

// addCapped appends v to s unless s holds it already or is full at max.
func addCapped[T comparable](s []T, v T, max int) []T {
	if len(s) < max && !slices.Contains(s, v) {
		return append(s, v)
	}
	return s
}

// dropMiddle keeps the first and last halves of s beyond n.
func dropMiddle(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return slices.Delete(s, n/2, n/2+len(s)-n)
}

// stageFinding is the finding that tells the store and the responder the
// incident reached stage (or turned critical). Its actor is what a policy
// rule should act on: the address of the finding's actor, without its
// principal (a JWT subject is a claim), or with toPrincipal the incident's
// principal alone (one account used from several addresses).
func (in *incident) stageFinding(f *vigil.Finding, stage vigil.Stage, before uint8, sev vigil.Severity, t time.Time, toPrincipal bool) vigil.Finding {
	why := "first stage of the incident"
	if chain := stageList(before); len(chain) > 0 {
		why = "after " + strings.Join(chain, ", ")
	}
	actor := vigil.Actor{Addr: f.Actor.Addr, Fingerprint: f.Actor.Fingerprint}
	if actor.Addr == "" {
		actor.Principal = principalOf(f)
	}
	id := fmt.Sprintf("%s/%s/%d", in.inc.ID, stage, in.inc.Findings)
	title := fmt.Sprintf("incident %s reached %s (%s)", in.inc.ID, stage, why)
	if sev == vigil.SeverityCritical {
		title = fmt.Sprintf("incident %s is a chained attack: %s", in.inc.ID, strings.Join(stageList(in.stages), " → "))
	}
	if toPrincipal {
		actor = vigil.Actor{Principal: in.principals[0]}
		id = in.inc.ID + "/principal"
		title = fmt.Sprintf("incident %s is a chained attack by one account from %d addresses", in.inc.ID, in.addrs())
	}
	return vigil.Finding{
		ID:         id,
		Detector:   DetectorStage,
		Category:   f.Category,
		Area:       f.Area,
		Severity:   sev,
		Confidence: 1,
		Time:       t,
		ExchangeID: f.ExchangeID,
		Actor:      actor,
		Endpoint:   f.Endpoint,
		Title:      title,
		Evidence: []vigil.Evidence{
			{Where: "incident", Value: in.inc.ID, Why: fmt.Sprintf("%s reached %s", f.Detector, stage)},
		},
	}
}

// stagesIn lists the stages set in mask, in kill-chain order.
func stagesIn(mask uint8) []vigil.Stage {
	var out []vigil.Stage
	for s := vigil.StageRecon; s <= vigil.StageExfiltration; s++ {
		if mask&bit(s) != 0 {
			out = append(out, s)
		}
	}
	return out
}

// stageList names the stages set in mask, in kill-chain order.
func stageList(mask uint8) []string {
	var out []string
	for _, s := range stagesIn(mask) {
		out = append(out, s.String())
	}
	return out
}

// score rises with the furthest stage, the number of stages, the worst
// severity and the number of areas; 0 to 100. docs/incidents.md.
func (in *incident) score() float64 {
	n := bits.OnesCount8(in.stages)
	sc := stageWeight[in.inc.Stage] + 10*float64(max(0, n-1)) + severityWeight[min(max(in.inc.Severity, 0), vigil.SeverityCritical)] + 5*float64(max(0, len(in.inc.Areas)-1))
	return min(100, sc)
}

// title names the stages and the detectors. It leaves the actor out: the
// store redacts titles, and a principal such as "jwt:7" reads as a secret.
func (in *incident) title() string {
	ds := in.sortedDetectors()
	if len(ds) > 3 {
		ds = append(ds[:3], fmt.Sprintf("+%d more", len(in.detectors)-3))
	}
	actors := "1 actor"
	if n := len(in.inc.Actors); n != 1 {
		actors = fmt.Sprintf("%d actors", n)
	}
	return fmt.Sprintf("%s (%s; %s)", strings.Join(stageList(in.stages), " → "), strings.Join(ds, ", "), actors)
}

func (in *incident) sortedDetectors() []string {
	out := make([]string, 0, len(in.detectors))
	for d := range in.detectors {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// absorb merges from into in.
func (in *incident) absorb(c *Correlator, from *incident) {
	for _, a := range from.inc.Actors {
		in.inc.Actors = addCapped(in.inc.Actors, a, maxActors)
	}
	for _, p := range from.principals {
		in.principals = addCapped(in.principals, p, maxActors)
	}
	for _, e := range from.inc.Timeline {
		in.addEntry(c, e)
	}
	in.inc.TimelineDropped += from.inc.TimelineDropped
	for _, id := range from.inc.FindingIDs {
		if !slices.Contains(in.inc.FindingIDs, id) {
			in.inc.FindingIDs = dropMiddle(append(in.inc.FindingIDs, id), maxIDs)
		}
	}
	for _, id := range from.inc.ActionIDs {
		in.inc.ActionIDs = addCapped(in.inc.ActionIDs, id, maxActs)
	}
	for _, a := range from.inc.Areas {
		in.inc.Areas = addCapped(in.inc.Areas, a, maxAreas)
	}
	for d := range from.detectors {
		if len(in.detectors) < maxDetectors {
			in.detectors[d] = true
		}
	}
	in.inc.Findings += from.inc.Findings
	if from.inc.FirstSeen.Before(in.inc.FirstSeen) {
		in.inc.FirstSeen = from.inc.FirstSeen
	}
	if from.inc.LastSeen.After(in.inc.LastSeen) {
		in.inc.LastSeen = from.inc.LastSeen
	}
	in.stages |= from.stages
	for _, d := range from.exploits {
		in.exploits = addCapped(in.exploits, d, 2)
	}
	in.critical = in.critical || from.critical || chained(in.stages) || len(in.exploits) >= 2
	in.inc.Stage = max(in.inc.Stage, from.inc.Stage)
	in.inc.Severity = max(in.inc.Severity, from.inc.Severity)
	in.inc.Score = in.score()
	in.inc.Title = in.title()
}

// snapshot is the incident as it is saved: a copy, with derived fields.
func (in *incident) snapshot() vigil.Incident {
	out := in.inc
	out.Actors = slices.Clone(in.inc.Actors)
	out.Areas = slices.Clone(in.inc.Areas)
	slices.SortFunc(out.Areas, func(a, b vigil.Area) int { return areaRank(a) - areaRank(b) })
	out.FindingIDs = slices.Clone(in.inc.FindingIDs)
	out.ActionIDs = slices.Clone(in.inc.ActionIDs)
	out.Timeline = slices.Clone(in.inc.Timeline)
	out.Detectors = in.sortedDetectors()
	out.Stages = stagesIn(in.stages)
	return out
}

func areaRank(a vigil.Area) int {
	if i := slices.Index(vigil.Areas, a); i >= 0 {
		return i
	}
	return len(vigil.Areas)
}
