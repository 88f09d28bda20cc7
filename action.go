package vigil

import (
	"strings"
	"time"
)

// ActionKind is what is done to an actor.
type ActionKind string

// The action kinds. Monitor records the decision and changes nothing. Decoy
// answers in the upstream's place with a plausible fake object, for
// enumerators: the request never reaches real data.
const (
	ActionMonitor   ActionKind = "monitor"
	ActionBlock     ActionKind = "block"
	ActionRateLimit ActionKind = "rate-limit"
	ActionTarpit    ActionKind = "tarpit"
	ActionDecoy     ActionKind = "decoy"
)

// ParseActionKind reads an action kind name.
func ParseActionKind(s string) (ActionKind, error) {
	switch k := ActionKind(strings.ToLower(s)); k {
	case ActionMonitor, ActionBlock, ActionRateLimit, ActionTarpit, ActionDecoy:
		return k, nil
	}
	return "", Errorf(EINVALID, "unknown action %q (want monitor, block, rate-limit, tarpit or decoy)", s)
}

// Action is a decision against one actor key (see Actor.KeyOf) until a time.
type Action struct {
	ID      string     `json:"id"`
	Kind    ActionKind `json:"kind"`
	Key     string     `json:"key"` // "addr:203.0.113.9", "principal:jwt:alice", …
	Created time.Time  `json:"created"`
	Until   time.Time  `json:"until"`
	Reason  string     `json:"reason"`
	Source  string     `json:"source,omitempty"` // the finding or incident id that caused it
	// Rate is the allowed requests per second for rate-limit actions.
	Rate float64 `json:"rate,omitempty"`
	// Delay is the added latency for tarpit actions.
	Delay time.Duration `json:"delay,omitempty"`
}

// Active reports whether the action is in force at t.
func (a Action) Active(t time.Time) bool { return t.Before(a.Until) }
