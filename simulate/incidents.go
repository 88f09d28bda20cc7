package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilsec/vigil"
)

// CampaignIncidents is how the incidents tie one campaign's attackers
// together. An attacker is one of the campaign's actors (a truth actor id)
// that raised a finding or is in an incident; want each in exactly one.
type CampaignIncidents struct {
	// Incidents counts the distinct incidents holding any of the
	// campaign's identities (addresses or principals).
	Incidents int `json:"incidents"`
	// Shared counts those of them that also hold another campaign's or a
	// benign actor's identity.
	Shared    int `json:"shared"`
	Attackers int `json:"attackers"`
	InOne     int `json:"attackers_in_one_incident"`
	InNone    int `json:"attackers_in_no_incident"`
	InMany    int `json:"attackers_in_several_incidents"`
	// Areas and Stages are the union over the campaign's incidents.
	Areas  []vigil.Area  `json:"areas"`
	Stages []vigil.Stage `json:"stages"`
	// MaxScore is the highest score of its incidents.
	MaxScore      float64   `json:"max_score"`
	FirstIncident time.Time `json:"first_incident,omitzero"`
	// TimeToIncidentMS is the first incident's first finding minus the
	// campaign's first request; null without an incident.
	TimeToIncidentMS *float64 `json:"time_to_incident_ms"`
}

// IncidentTotals accounts for every incident read.
type IncidentTotals struct {
	Read         int  `json:"read"`   // incidents not merged into another
	Merged       int  `json:"merged"` // incidents merged into another (left out)
	Attack       int  `json:"attack"` // holding an attack campaign's identity
	Benign       int  `json:"benign"` // holding a benign actor's identity
	Unattributed int  `json:"unattributed"`
	Truncated    bool `json:"truncated"` // the source held more than MaxIncidents
}

// scoreIncidents reads the incidents and fills sc's incident fields.
// Attribution of an incident's actor is that of a finding of the actor at
// the incident's last activity (see Evaluate).
func scoreIncidents(ctx context.Context, src IncidentSource, ids map[string]*ident, attackers map[string]*attackerAgg, sc *Scorecard) error {
	incs, err := src.Incidents(ctx)
	if err != nil {
		return fmt.Errorf("evaluate: read incidents: %w", err)
	}
	tot := &IncidentTotals{}
	if len(incs) > MaxIncidents {
		incs, tot.Truncated = incs[:MaxIncidents], true
	}
	type agg struct {
		n, shared int
		areas     map[vigil.Area]bool
		stages    uint8
		maxScore  float64
		first     time.Time
	}
	per := make([]agg, len(allCampaigns))
	benignActors := map[string]bool{}
	for _, inc := range incs {
		if inc.MergedInto != "" {
			tot.Merged++
			continue
		}
		tot.Read++
		var camps campaignSet
		inAttackers := map[string]bool{}
		for _, a := range inc.Actors {
			ci, benign := attribute(ids, vigil.Finding{Actor: a, Time: inc.LastSeen})
			switch {
			case ci < 0:
				continue
			case ci == 0:
				if benign != "" {
					benignActors[benign] = true
				}
			default:
				if name := attackerOf(ids, a, ci); name != "" {
					inAttackers[name] = true
				}
			}
			camps |= 1 << ci
		}
		if camps == 0 {
			tot.Unattributed++
			continue
		}
		if camps.has(0) {
			tot.Benign++
		}
		attack := false
		for ci := 1; ci < len(allCampaigns); ci++ {
			if !camps.has(ci) {
				continue
			}
			attack = true
			p := &per[ci]
			p.n++
			if camps&^(1<<ci) != 0 {
				p.shared++
			}
			if p.areas == nil {
				p.areas = map[vigil.Area]bool{}
			}
			for _, ar := range inc.Areas {
				p.areas[ar] = true
			}
			for _, st := range inc.Stages {
				if st >= 0 && st < 8 {
					p.stages |= 1 << st
				}
			}
			p.maxScore = max(p.maxScore, inc.Score)
			if p.first.IsZero() || inc.FirstSeen.Before(p.first) {
				p.first = inc.FirstSeen
			}
		}
		if attack {
			tot.Attack++
		}
		for name := range inAttackers {
			at := attackers[name]
			if at.incidents == nil {
				at.incidents = map[string]bool{}
			}
			at.incidents[inc.ID] = true
		}
	}
	sc.Incidents = tot
	sc.Benign.Incidents = tot.Benign
	sc.Benign.ActorsInIncidents = len(benignActors)
	for i := range sc.Campaigns {
		cs := &sc.Campaigns[i]
		ci := campaignIndex(cs.Campaign)
		p := per[ci]
		ci2 := &CampaignIncidents{Incidents: p.n, Shared: p.shared, MaxScore: p.maxScore, Areas: []vigil.Area{}, Stages: []vigil.Stage{}}
		for _, ar := range vigil.Areas {
			if p.areas[ar] {
				ci2.Areas = append(ci2.Areas, ar)
			}
		}
		for st := vigil.StageRecon; st <= vigil.StageExfiltration; st++ {
			if p.stages&(1<<st) != 0 {
				ci2.Stages = append(ci2.Stages, st)
			}
		}
		if !p.first.IsZero() {
			ci2.FirstIncident = p.first
			if !cs.FirstRequest.IsZero() {
				ms := float64(p.first.Sub(cs.FirstRequest).Microseconds()) / 1000
				ci2.TimeToIncidentMS = &ms
			}
		}
		for _, at := range attackers {
			if at.campaign != ci || (at.findings == 0 && len(at.incidents) == 0) {
				continue
			}
			ci2.Attackers++
			switch n := len(at.incidents); {
			case n == 0:
				ci2.InNone++
			case n == 1:
				ci2.InOne++
			default:
				ci2.InMany++
			}
		}
		cs.Incidents = ci2
	}
	return nil
}
