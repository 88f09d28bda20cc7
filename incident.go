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
// share a fingerprint) together over time.
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
}
