package vigil

import "time"

// Stage is how far an attack has progressed, in kill-chain order.
type Stage int

// The stages of an incident, from first contact to data leaving.
const (
	StageRecon Stage = iota
	StageCredentialAccess
	StageExploitation
	StageExfiltration
)

var stageNames = [...]string{"recon", "credential-access", "exploitation", "exfiltration"}

func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return "unknown"
	}
	return stageNames[s]
}

func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Stage) UnmarshalText(b []byte) error {
	for i, n := range stageNames {
		if n == string(b) {
			*s = Stage(i)
			return nil
		}
	}
	return Errorf(EINVALID, "unknown stage %q", b)
}

// Incident ties the findings of one actor (or of one cluster of actors that
// share a fingerprint) together over time. Package correlate builds them; see
// docs/incidents.md.
type Incident struct {
	ID         string    `json:"id"`
	ActorKey   string    `json:"actor_key"`
	Actors     []Actor   `json:"actors,omitempty"`
	Title      string    `json:"title"`
	Stage      Stage     `json:"stage"` // the furthest stage reached
	Areas      []Area    `json:"areas,omitempty"`
	Score      float64   `json:"score"`
	Severity   Severity  `json:"severity"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	FindingIDs []string  `json:"finding_ids,omitempty"`
	ActionIDs  []string  `json:"action_ids,omitempty"`

	// Stages lists every stage reached, in kill-chain order.
	Stages []Stage `json:"stages,omitempty"`
	// Detectors lists the detectors whose findings joined, sorted.
	Detectors []string `json:"detectors,omitempty"`
	// Findings counts the findings that joined, including those no longer
	// in FindingIDs or Timeline (both are bounded).
	Findings int `json:"findings"`
	// Timeline holds the first and the last findings that joined, in time
	// order; TimelineDropped counts those left out between them.
	Timeline        []TimelineEntry `json:"timeline,omitempty"`
	TimelineDropped int             `json:"timeline_dropped,omitempty"`
	// Closed is set once the incident went idle (or was evicted at the
	// correlator's cap): a later finding of the actor opens a new incident.
	Closed bool `json:"closed,omitempty"`
	// MergedInto names the incident this one was merged into, when two
	// incidents turned out to be one actor's. A merged incident is kept for
	// its history; lists of incidents leave it out.
	MergedInto string `json:"merged_into,omitempty"`
}

// TimelineEntry is one finding on an incident's timeline.
type TimelineEntry struct {
	Time      time.Time `json:"time"`
	Detector  string    `json:"detector"`
	Stage     Stage     `json:"stage"`
	Severity  Severity  `json:"severity"`
	Endpoint  Endpoint  `json:"endpoint"`
	FindingID string    `json:"finding_id,omitempty"`
	// Actor is the key of the actor that raised the finding (Actor.Key).
	Actor string `json:"actor,omitempty"`
}
