package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigilsec/vigil"
)

// FindingSource is where Evaluate reads Vigil's findings: a vigil.Store.
// When it is also an IncidentSource (a vigil.Store is), Evaluate scores the
// incidents too.
type FindingSource interface {
	Findings(ctx context.Context, f vigil.FindingFilter) ([]vigil.Finding, error)
}

// IncidentSource is where Evaluate reads Vigil's incidents: a vigil.Store.
type IncidentSource interface {
	Incidents(ctx context.Context) ([]vigil.Incident, error)
}

// Caps of Evaluate. The truth is streamed; only per-identity aggregates are
// kept, so memory follows the number of simulated identities, not requests.
const (
	MaxFindings   = 200_000 // findings read from the source
	MaxIncidents  = 100_000 // incidents read from the source
	MaxIdentities = 1 << 20 // distinct addresses plus principals in a truth file
)

// Scorecard compares a run's labelled truth with what Vigil found.
type Scorecard struct {
	Headline  string          `json:"headline"`       // "2 of 4 areas detected"
	Detected  int             `json:"areas_detected"` // areas whose campaign was detected
	Areas     int             `json:"areas"`          // always 4
	Campaigns []CampaignScore `json:"campaigns"`      // the four attack campaigns, in area order
	Benign    BenignScore     `json:"benign"`
	Findings  FindingTotals   `json:"findings"`
	// Incidents accounts for the incidents read; nil when the source keeps
	// none (it is no IncidentSource).
	Incidents *IncidentTotals `json:"incidents,omitempty"`
	Truth     TruthTotals     `json:"truth"`
}

// CampaignScore is one attack campaign (one area).
type CampaignScore struct {
	Campaign   string     `json:"campaign"`
	Area       vigil.Area `json:"area"`
	Simulated  bool       `json:"simulated"` // the truth holds requests of it
	Requests   int64      `json:"requests"`
	Actors     int        `json:"actors"`
	Identities int        `json:"identities"` // distinct addresses and principals it used
	Detected   bool       `json:"detected"`
	Findings   int        `json:"findings"`
	// FindingsInArea counts the findings whose area is the campaign's own.
	FindingsInArea int       `json:"findings_in_area"`
	Detectors      []string  `json:"detectors"` // sorted, distinct
	FirstRequest   time.Time `json:"first_request,omitzero"`
	FirstDetection time.Time `json:"first_detection,omitzero"`
	// TimeToDetectMS is first detection minus first request; null when not
	// detected.
	TimeToDetectMS *float64 `json:"time_to_detect_ms"`
	// RequestsUntilBlocked counts the campaign's requests before its first
	// blocked one; null when none was blocked.
	RequestsUntilBlocked *int64 `json:"requests_until_blocked"`
	BlockedRequests      int64  `json:"blocked_requests"`

	// ExploitRequests counts the campaign's requests of exploitation and
	// exfiltration steps (StepStage); ExploitBlocked those of them blocked.
	ExploitRequests int64 `json:"exploit_requests"`
	ExploitBlocked  int64 `json:"exploit_blocked"`
	// Attackers counts the campaign's actors that sent at least one step
	// with an attack stage (StepStage); Stopped those of them blocked
	// before their exploitation completed: blocked, and the first blocked
	// request came no later than the actor's last exploitation or
	// exfiltration request, or the actor sent none (stopped earlier).
	Attackers int `json:"attackers"`
	Stopped   int `json:"stopped"`
	// StoppedBeforeExploitation: every attacker was stopped (and there was
	// one).
	StoppedBeforeExploitation bool `json:"stopped_before_exploitation"`

	// Incidents scores the correlation; nil when the source keeps no
	// incidents.
	Incidents *CampaignIncidents `json:"incidents,omitempty"`
}

// BenignScore is the false-positive side.
type BenignScore struct {
	Requests        int64    `json:"requests"`
	Actors          int      `json:"actors"`
	ActorsFlagged   int      `json:"actors_flagged"`
	FalsePositives  int      `json:"false_positive_findings"`
	Detectors       []string `json:"detectors"` // detectors that fired on benign actors
	RequestsBlocked int64    `json:"requests_blocked"`
	ActorsBlocked   int      `json:"actors_blocked"`
	// Incidents counts the incidents holding a benign actor (want 0) and
	// ActorsInIncidents the benign actors in them; both 0 when the source
	// keeps no incidents.
	Incidents         int `json:"incidents"`
	ActorsInIncidents int `json:"actors_in_incidents"`
}

// FindingTotals accounts for every finding read.
type FindingTotals struct {
	Read         int  `json:"read"`
	Attributed   int  `json:"attributed"`   // to an attack campaign
	Benign       int  `json:"benign"`       // false positives
	Unattributed int  `json:"unattributed"` // actor not in the truth (other traffic)
	Truncated    bool `json:"truncated"`    // the source held more than MaxFindings
}

// TruthTotals describes the truth file read.
type TruthTotals struct {
	Lines int64     `json:"lines"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
}

// bitset of campaign indexes (see allCampaigns).
type campaignSet uint8

func (s campaignSet) has(i int) bool { return s&(1<<i) != 0 }

// ident is what the truth says about one address or principal.
type ident struct {
	campaigns campaignSet
	first     [5]time.Time // first use per campaign
	actor     string       // the benign actor using it, if any
	attacker  [5]string    // the first attack actor of each campaign using it
}

// attackerAgg is what the truth says about one attack actor.
type attackerAgg struct {
	campaign       int
	staged         bool // sent a step with an attack stage
	exploitReqs    int64
	lastExploitSeq int64 // 0: none
	firstBlocked   int64 // seq of its first blocked request; 0: none
	findings       int
	incidents      map[string]bool
}

type campaignAgg struct {
	requests, blocked int64
	beforeBlock       int64
	everBlocked       bool
	first             time.Time
	actors            map[string]bool
	identities        int
}

// Evaluate streams the truth, reads the findings from src and attributes each
// finding to a campaign by its actor.
//
// Attribution: a finding's actor address is looked up first, then its
// principal. An identity used by one campaign only belongs to it. An
// identity used by the benign load and by an attack campaign (a stolen
// account) belongs to the attack campaign from that campaign's first use of
// it on, and to the benign load before. Findings matching no identity are
// counted as unattributed.
func Evaluate(ctx context.Context, truth io.Reader, src FindingSource) (*Scorecard, error) {
	ids := map[string]*ident{} // "addr:..." and "principal:..."
	aggs := make([]campaignAgg, len(allCampaigns))
	for i := range aggs {
		aggs[i].actors = map[string]bool{}
	}
	benignBlockedActors := map[string]bool{}
	attackers := map[string]*attackerAgg{}
	exploit := make([][2]int64, len(allCampaigns)) // requests, blocked
	sc := &Scorecard{Areas: len(vigil.Areas)}

	tr := NewTruthReader(truth)
	for {
		if sc.Truth.Lines%4096 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("evaluate: %w", ctx.Err())
		}
		l, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "evaluate: %v", err)
		}
		sc.Truth.Lines++
		if sc.Truth.First.IsZero() || l.Time.Before(sc.Truth.First) {
			sc.Truth.First = l.Time
		}
		if l.Time.After(sc.Truth.Last) {
			sc.Truth.Last = l.Time
		}
		ci := campaignIndex(l.Campaign)
		ag := &aggs[ci]
		ag.requests++
		if ag.first.IsZero() || l.Time.Before(ag.first) {
			ag.first = l.Time
		}
		if l.Blocked {
			ag.blocked++
			ag.everBlocked = true
			if ci == 0 {
				benignBlockedActors[l.Actor] = true
			}
		} else if !ag.everBlocked {
			ag.beforeBlock++
		}
		if !ag.actors[l.Actor] {
			if len(ag.actors) >= MaxIdentities {
				return nil, vigil.Errorf(vigil.EINVALID, "evaluate: more than %d actors in the truth", MaxIdentities)
			}
			ag.actors[l.Actor] = true
		}
		if ci > 0 {
			at := attackers[l.Actor]
			if at == nil {
				at = &attackerAgg{campaign: ci}
				attackers[l.Actor] = at
			}
			seq := l.Seq
			if seq == 0 {
				seq = sc.Truth.Lines
			}
			if l.Blocked && at.firstBlocked == 0 {
				at.firstBlocked = seq
			}
			st, ok := StepStage(l.Step)
			at.staged = at.staged || ok
			if ok && st >= vigil.StageExploitation {
				at.exploitReqs++
				at.lastExploitSeq = max(at.lastExploitSeq, seq)
				exploit[ci][0]++
				if l.Blocked {
					exploit[ci][1]++
				}
			}
		}
		for _, key := range []string{keyOf("addr", l.Addr), keyOf("principal", l.Principal)} {
			if key == "" {
				continue
			}
			id := ids[key]
			if id == nil {
				if len(ids) >= MaxIdentities {
					return nil, vigil.Errorf(vigil.EINVALID, "evaluate: more than %d identities in the truth", MaxIdentities)
				}
				id = &ident{}
				ids[key] = id
			}
			if !id.campaigns.has(ci) {
				id.campaigns |= 1 << ci
				id.first[ci] = l.Time
				ag.identities++
			} else if l.Time.Before(id.first[ci]) {
				id.first[ci] = l.Time
			}
			if ci == 0 && id.actor == "" {
				id.actor = l.Actor
			}
			if ci > 0 && id.attacker[ci] == "" {
				id.attacker[ci] = l.Actor
			}
		}
	}

	f := vigil.FindingFilter{Limit: MaxFindings}
	if !sc.Truth.First.IsZero() {
		f.Since = sc.Truth.First.Add(-time.Second)
	}
	findings, err := src.Findings(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("evaluate: read findings: %w", err)
	}
	if len(findings) > MaxFindings {
		findings = findings[:MaxFindings]
	}
	sc.Findings.Read = len(findings)
	sc.Findings.Truncated = len(findings) >= MaxFindings

	type hit struct {
		n, inArea int
		first     time.Time
		detectors map[string]bool
	}
	hits := make([]hit, len(allCampaigns))
	for i := range hits {
		hits[i].detectors = map[string]bool{}
	}
	flagged := map[string]bool{}
	for _, fd := range findings {
		ci, benignActor := attribute(ids, fd)
		switch {
		case ci < 0:
			sc.Findings.Unattributed++
			continue
		case ci == 0:
			sc.Findings.Benign++
			if benignActor != "" {
				flagged[benignActor] = true
			}
		default:
			sc.Findings.Attributed++
			if at := attackers[attackerOf(ids, fd.Actor, ci)]; at != nil {
				at.findings++
			}
		}
		h := &hits[ci]
		h.n++
		if ci > 0 && string(fd.Area) == allCampaigns[ci] {
			h.inArea++
		}
		if h.first.IsZero() || fd.Time.Before(h.first) {
			h.first = fd.Time
		}
		if len(h.detectors) < 1024 {
			h.detectors[fd.Detector] = true
		}
	}

	for _, name := range AttackCampaigns {
		ci := campaignIndex(name)
		ag, h := aggs[ci], hits[ci]
		cs := CampaignScore{
			Campaign:        name,
			Area:            vigil.Area(name),
			Simulated:       ag.requests > 0,
			Requests:        ag.requests,
			Actors:          len(ag.actors),
			Identities:      ag.identities,
			Detected:        h.n > 0,
			Findings:        h.n,
			FindingsInArea:  h.inArea,
			Detectors:       sortedKeys(h.detectors),
			FirstRequest:    ag.first,
			BlockedRequests: ag.blocked,
		}
		if cs.Detected {
			cs.FirstDetection = h.first
			if !ag.first.IsZero() {
				ms := float64(h.first.Sub(ag.first).Microseconds()) / 1000
				cs.TimeToDetectMS = &ms
			}
			sc.Detected++
		}
		if ag.everBlocked {
			n := ag.beforeBlock
			cs.RequestsUntilBlocked = &n
		}
		cs.ExploitRequests, cs.ExploitBlocked = exploit[ci][0], exploit[ci][1]
		for _, at := range attackers {
			if at.campaign != ci || !at.staged {
				continue
			}
			cs.Attackers++
			if at.firstBlocked != 0 && (at.exploitReqs == 0 || at.firstBlocked <= at.lastExploitSeq) {
				cs.Stopped++
			}
		}
		cs.StoppedBeforeExploitation = cs.Attackers > 0 && cs.Stopped == cs.Attackers
		sc.Campaigns = append(sc.Campaigns, cs)
	}
	sc.Benign = BenignScore{
		Requests:        aggs[0].requests,
		Actors:          len(aggs[0].actors),
		ActorsFlagged:   len(flagged),
		FalsePositives:  hits[0].n,
		Detectors:       sortedKeys(hits[0].detectors),
		RequestsBlocked: aggs[0].blocked,
		ActorsBlocked:   len(benignBlockedActors),
	}
	if is, ok := src.(IncidentSource); ok {
		if err := scoreIncidents(ctx, is, ids, attackers, sc); err != nil {
			return nil, err
		}
	}
	sc.Headline = fmt.Sprintf("%d of %d areas detected", sc.Detected, sc.Areas)
	return sc, nil
}

// attackerOf returns the attack actor of campaign ci behind an actor's
// address (each simulated actor has its own); "" when none, and for an actor
// without an address: several simulated actors rotate through one account,
// so a principal alone names none of them.
func attackerOf(ids map[string]*ident, a vigil.Actor, ci int) string {
	if id := ids[keyOf("addr", a.Addr)]; id != nil {
		return id.attacker[ci]
	}
	return ""
}

func keyOf(kind, v string) string {
	if v == "" {
		return ""
	}
	return kind + ":" + v
}

// attribute returns the campaign index a finding belongs to (-1 for none)
// and, for a benign finding, the benign actor.
func attribute(ids map[string]*ident, f vigil.Finding) (int, string) {
	for _, key := range []string{keyOf("addr", f.Actor.Addr), keyOf("principal", f.Actor.Principal)} {
		if key == "" {
			continue
		}
		id := ids[key]
		if id == nil {
			continue
		}
		// The attack campaign that most recently took the identity over at
		// the finding's time; else the benign owner; else the earliest
		// attacker (a finding stamped before the attack began).
		best, bestAt := -1, time.Time{}
		for ci := 1; ci < len(allCampaigns); ci++ {
			if id.campaigns.has(ci) && !f.Time.Before(id.first[ci]) && id.first[ci].After(bestAt) {
				best, bestAt = ci, id.first[ci]
			}
		}
		if best > 0 {
			return best, ""
		}
		if id.campaigns.has(0) {
			return 0, id.actor
		}
		for ci := 1; ci < len(allCampaigns); ci++ {
			if id.campaigns.has(ci) {
				return ci, ""
			}
		}
	}
	return -1, ""
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WriteText prints the scorecard as a table.
func (s *Scorecard) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Vigil simulation scorecard: %s\n\n", s.Headline)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tDETECTED\tFINDINGS\tIN AREA\tTIME TO DETECT\tREQUESTS\tUNTIL BLOCKED\tDETECTORS")
	for _, c := range s.Campaigns {
		det, ttd, until, dets := "no", "-", "not blocked", "-"
		switch {
		case !c.Simulated:
			det = "not simulated"
		case c.Detected:
			det = "yes"
		}
		if c.TimeToDetectMS != nil {
			ttd = (time.Duration(*c.TimeToDetectMS * float64(time.Millisecond))).Round(time.Millisecond).String()
		}
		if c.RequestsUntilBlocked != nil {
			until = fmt.Sprintf("%d", *c.RequestsUntilBlocked)
		}
		if len(c.Detectors) > 0 {
			dets = strings.Join(c.Detectors, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\n", c.Area, det, c.Findings, c.FindingsInArea, ttd, c.Requests, until, dets)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Incidents != nil {
		b.WriteString("\nIncidents (want each attacker in exactly one):\n")
		tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "AREA\tINCIDENTS\tATTACKERS IN ONE\tSHARED\tTIME TO INCIDENT\tSTAGES\tAREAS\tSCORE")
		for _, c := range s.Campaigns {
			ic := c.Incidents
			if ic == nil {
				continue
			}
			tti := "-"
			if ic.TimeToIncidentMS != nil {
				tti = (time.Duration(*ic.TimeToIncidentMS * float64(time.Millisecond))).Round(time.Millisecond).String()
			}
			stages := make([]string, len(ic.Stages))
			for i, st := range ic.Stages {
				stages[i] = st.String()
			}
			areas := make([]string, len(ic.Areas))
			for i, a := range ic.Areas {
				areas[i] = string(a)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d of %d\t%d\t%s\t%s\t%s\t%g\n", c.Area, ic.Incidents, ic.InOne, ic.Attackers, ic.Shared, tti,
				dashIfEmpty(strings.Join(stages, ",")), dashIfEmpty(strings.Join(areas, ",")), ic.MaxScore)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if s.anyBlocked() {
		b.WriteString("\nBlocking (an attacker is stopped when blocked before its exploitation completed):\n")
		tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "AREA\tEXPLOIT REQUESTS\tBLOCKED\tATTACKERS STOPPED\tSTOPPED BEFORE EXPLOITATION")
		for _, c := range s.Campaigns {
			stopped := "no"
			if c.StoppedBeforeExploitation {
				stopped = "yes"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d of %d\t%s\n", c.Area, c.ExploitRequests, c.ExploitBlocked, c.Stopped, c.Attackers, stopped)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else {
		// Monitor mode, most likely: a table of zeros would read as a
		// failure to block.
		b.WriteString("\nBlocking: no request was blocked (monitor mode records actions without enforcing them; vigil demo --enforce blocks)\n")
	}
	bd := s.Benign
	fmt.Fprintf(&b, "\nBenign load: %d requests from %d actors; %d actors flagged, %d false-positive findings, %d requests blocked (%d actors)",
		bd.Requests, bd.Actors, bd.ActorsFlagged, bd.FalsePositives, bd.RequestsBlocked, bd.ActorsBlocked)
	if s.Incidents != nil {
		fmt.Fprintf(&b, "; %d incidents on benign actors (%d actors)", bd.Incidents, bd.ActorsInIncidents)
	}
	b.WriteString("\n")
	if len(bd.Detectors) > 0 {
		fmt.Fprintf(&b, "False positives from: %s\n", strings.Join(bd.Detectors, ", "))
	}
	fmt.Fprintf(&b, "Findings read: %d (attack %d, benign %d, unattributed %d)", s.Findings.Read, s.Findings.Attributed, s.Findings.Benign, s.Findings.Unattributed)
	if s.Findings.Truncated {
		fmt.Fprintf(&b, " — truncated at %d", MaxFindings)
	}
	if in := s.Incidents; in != nil {
		fmt.Fprintf(&b, "\nIncidents read: %d (attack %d, benign %d, unattributed %d; %d merged left out)", in.Read, in.Attack, in.Benign, in.Unattributed, in.Merged)
		if in.Truncated {
			fmt.Fprintf(&b, " — truncated at %d", MaxIncidents)
		}
	}
	fmt.Fprintf(&b, "\nTruth: %d requests", s.Truth.Lines)
	if !s.Truth.First.IsZero() {
		fmt.Fprintf(&b, " from %s to %s", s.Truth.First.Format(time.RFC3339), s.Truth.Last.Format(time.RFC3339))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// anyBlocked reports whether the proxy blocked any request of the run.
func (s *Scorecard) anyBlocked() bool {
	if s.Benign.RequestsBlocked > 0 {
		return true
	}
	for _, c := range s.Campaigns {
		if c.BlockedRequests > 0 {
			return true
		}
	}
	return false
}
