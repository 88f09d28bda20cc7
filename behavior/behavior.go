// Package behavior finds abuse that shows only in what one identity does
// over time, in requests that each look legitimate. Three of its
// vigil.Analyzers raise business-logic findings (vigil.AreaBusinessLogic,
// vigil.API6BusinessFlows: Unrestricted Access to Sensitive Business Flows);
// two raise findings of the chained OWASP techniques (vigil.AreaChained);
// four watch for scripted and AI-driven clients (vigil.AreaAutomation):
//
//   - Automation (behavior.automation, medium or high): spoofed browsers,
//     rotating User-Agents and addresses, machine-regular timing, tool
//     clients, request diversity and volume, combined into one score;
//     declared machine clients (API keys) are not held to human timing.
//   - AdaptiveProbing (behavior.adaptive-probing, medium or high): one actor
//     mutating one endpoint's input, guided by its error answers.
//   - PromptInjection (behavior.prompt-injection, medium; high when the
//     answer leaks the system prompt), stateless, on LLM-like endpoints.
//   - Baseline (behavior.anomaly, low): learned per endpoint and parameter;
//     its Score method gives other detectors a 0..1 anomaly score.
//
// The chained ones:
//
//   - BOLA (behavior.bola, high, API1; behavior.enumeration, medium): a
//     principal reading objects that traffic showed belong to someone else,
//     and one actor walking through ids mostly answered 403/404.
//   - Credentials (behavior.credential-stuffing and behavior.brute-force,
//     high, API2): many usernames tried from one actor with most logins
//     failing, and many failures on one account.
//
// And the business-logic ones:
//
//   - Cracking (behavior.cracking, high; behavior.cracking-succeeded,
//     critical): one actor tries many distinct values of one secret-like
//     input on one endpoint and most of them fail: gift-card codes in the
//     path, coupon codes in a JSON body, OTPs, PINs, reset tokens.
//   - FlowDetector (behavior.flow-skip, high): an actor completes a step of a
//     business flow (checkout confirm) without the required earlier step
//     (a successful payment) within the window; and behavior.flow-velocity
//     (medium): an actor completes a flow far more often than the learned
//     norm.
//   - Tampering (behavior.tampering, medium): negative quantities, amounts or
//     prices sent by the client to cart, checkout and order endpoints, and
//     client-supplied prices where the endpoint's other clients send none.
//
// State is kept per actor (vigil.Actor.Key) in sharded least-recently-seen
// tables bounded by Config.MaxActors; actors idle for two windows are dropped
// lazily. Time is the exchanges' own (vigil.Exchange.Time), never the wall
// clock, so recorded traffic analyzed faster than real time gives the same
// findings. Each finding kind fires at most once per actor and endpoint
// (cracking) or flow (flow skipping) or actor (tampering) per window.
//
// # Concurrency
//
// Every detector is safe for concurrent use. Actors are spread over shards by
// a seeded hash of their key, each shard with its own mutex.
//
// # Memory
//
// See each detector's doc comment; docs/behavior.md has the table. In short,
// with the defaults: Cracking keeps nothing for an actor whose requests
// succeed, about 1.1 KB for an actor with one endpoint full (40 remembered
// values × 16 bytes, 5 masked examples) and about 4 KB with all 4 full;
// FlowDetector keeps nothing for actors that touch no flow step and about
// 200 bytes for one that does; Tampering keeps about 80 bytes per flagged
// actor plus a fixed table of per-endpoint counts (TestBytesPerActor).
// Automation keeps about 370 bytes for every actor, AdaptiveProbing about
// 400 bytes per endpoint for actors that got input errors, PromptInjection
// nothing, Baseline at most about 21 MB for all endpoints. With every
// detector of All an actor costs about 1.6 KB (1,618 bytes measured): a
// million fit in 2 GiB (BenchmarkActorsMillion; TestBytesPerActorAll
// checks 20,000).
package behavior

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
)

// Detector ids, the vigil.Finding.Detector of each kind.
const (
	DetectorCracking          = "behavior.cracking"
	DetectorCrackingSucceeded = "behavior.cracking-succeeded"
	DetectorFlowSkip          = "behavior.flow-skip"
	DetectorFlowVelocity      = "behavior.flow-velocity"
	DetectorTampering         = "behavior.tampering"
)

// Defaults of Config.
const (
	DefaultWindow    = 10 * time.Minute
	DefaultThreshold = 20
	DefaultMaxActors = 100_000
)

// Limits that are not configurable.
const (
	// MaxThreshold caps Config.Threshold; an endpoint remembers at most
	// 2×Threshold values.
	MaxThreshold = 256
	// MinThreshold is the smallest Threshold in force.
	MinThreshold = 3
	// MaxEndpoints bounds the endpoints one actor is tracked on for cracking.
	MaxEndpoints = 4
	// MaxExamples bounds the masked example values a cracking finding carries.
	MaxExamples = 5
	// MaxFlows and MaxSteps bound Config.Flows: flows and steps beyond them
	// are ignored (and reported by Config.Validate).
	MaxFlows = 32
	MaxSteps = 16
	// FailureRatio is the share of distinct values that must have failed for
	// a cracking finding.
	FailureRatio = 0.8

	maxShownBytes = 32 // a masked example is cut to this many bytes
)

// Config configures the detectors. Zero values take the defaults. The lead
// configuration keys are behavior.window, behavior.threshold,
// behavior.max_actors and behavior.flows.
type Config struct {
	// Window is the sliding window per actor (default 10m). It is also the
	// quiet time after a finding before the same kind fires again for the
	// same actor (and endpoint or flow), and how long a flow step done stays
	// good for the next step.
	Window time.Duration
	// Threshold is how many distinct values of one input on one endpoint
	// within Window make cracking (default 20, at least MinThreshold, at most
	// MaxThreshold).
	Threshold int
	// MaxActors bounds the actors each detector tracks at once (default
	// 100 000); the least recently seen are evicted and counted in
	// Stats.Evictions.
	MaxActors int
	// Flows are the business flows FlowDetector watches (default
	// DefaultFlows()). An empty, non-nil slice watches none.
	Flows []Flow
}

// Flow is a business flow: steps in order. A step with NeedsSuccess is
// required for every later step: a later step answered 2xx needs a 2xx of
// this step by the same actor, earlier and within Config.Window.
type Flow struct {
	Name  string
	Steps []Step
}

// Step is one request of a flow. Method is matched case-insensitively (""
// matches any method). PathSuffix is matched against the end of the request
// path at a segment boundary, case-insensitively, with trailing slashes
// ignored: "/checkout/pay" matches "/api/v2/checkout/pay" and "/checkout/pay"
// but not "/precheckout/pay". A segment written "{...}" ("{id}") matches any
// one segment. Several suffixes may be given separated by "|".
type Step struct {
	Name       string
	Method     string
	PathSuffix string
	// NeedsSuccess makes a 2xx of this step required before any later step
	// of the flow can succeed.
	NeedsSuccess bool
}

// DefaultFlows returns the flows watched by default: checkout, as the demo
// shop and most e-commerce APIs name it: quote (POST .../checkout/quote),
// pay (POST .../checkout/pay or .../checkout/payment, required) and confirm
// (POST .../checkout/confirm, .../checkout/complete or .../checkout/place-order).
// A checkout confirmed without a successful payment by the same actor within
// the window is a flow skip.
func DefaultFlows() []Flow {
	return []Flow{{
		Name: "checkout",
		Steps: []Step{
			{Name: "quote", Method: "POST", PathSuffix: "/checkout/quote"},
			{Name: "pay", Method: "POST", PathSuffix: "/checkout/pay|/checkout/payment", NeedsSuccess: true},
			{Name: "confirm", Method: "POST", PathSuffix: "/checkout/confirm|/checkout/complete|/checkout/place-order"},
		},
	}}
}

// PasswordResetFlow returns a password-reset flow (request → confirm). It is
// not in DefaultFlows: anonymous actors are keyed by address, and a person
// who asks for the reset on one device and opens the link on another would
// be flagged. Add it where reset confirmations come from the requesting
// client (an app, a signed-in session).
func PasswordResetFlow() Flow {
	return Flow{
		Name: "password-reset",
		Steps: []Step{
			{Name: "request", Method: "POST", PathSuffix: "/password/forgot|/forgot-password|/password/reset/request|/password-reset/request", NeedsSuccess: true},
			{Name: "confirm", Method: "POST", PathSuffix: "/password/reset/confirm|/password-reset/confirm|/reset-password|/password/reset"},
		},
	}
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	c.Threshold = min(max(c.Threshold, MinThreshold), MaxThreshold)
	if c.MaxActors <= 0 {
		c.MaxActors = DefaultMaxActors
	}
	if c.Flows == nil {
		c.Flows = DefaultFlows()
	}
	return c
}

// Validate reports a configuration the detectors would not use as written:
// a negative window, threshold or actor limit, or a flow without a name,
// with fewer than two steps, too many steps, or a step without a path
// suffix. The detectors ignore such flows and steps.
func (c Config) Validate() error {
	var errs []string
	if c.Window < 0 {
		errs = append(errs, "behavior.window is negative")
	}
	if c.Threshold < 0 || c.Threshold > MaxThreshold {
		errs = append(errs, fmt.Sprintf("behavior.threshold %d is outside 0..%d", c.Threshold, MaxThreshold))
	}
	if c.MaxActors < 0 {
		errs = append(errs, "behavior.max_actors is negative")
	}
	if len(c.Flows) > MaxFlows {
		errs = append(errs, fmt.Sprintf("behavior.flows has %d flows, at most %d are used", len(c.Flows), MaxFlows))
	}
	names := map[string]bool{}
	for i, f := range c.Flows {
		if err := f.check(); err != "" {
			errs = append(errs, fmt.Sprintf("behavior.flows[%d]: %s", i, err))
		}
		if names[f.Name] && f.Name != "" {
			errs = append(errs, fmt.Sprintf("behavior.flows[%d]: flow %q named twice", i, f.Name))
		}
		names[f.Name] = true
	}
	if len(errs) > 0 {
		return vigil.Errorf(vigil.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// check says what is wrong with a flow, or "".
func (f Flow) check() string {
	switch {
	case strings.TrimSpace(f.Name) == "":
		return "a flow needs a name"
	case len(f.Steps) < 2:
		return fmt.Sprintf("flow %q needs at least two steps", f.Name)
	case len(f.Steps) > MaxSteps:
		return fmt.Sprintf("flow %q has %d steps, at most %d", f.Name, len(f.Steps), MaxSteps)
	}
	for j, s := range f.Steps {
		if len(splitSuffixes(s.PathSuffix)) == 0 {
			return fmt.Sprintf("flow %q step %d (%q) has no path suffix", f.Name, j, s.Name)
		}
	}
	return ""
}

// Stats are a detector's counters. Actors is a snapshot; the others only
// grow.
type Stats struct {
	Actors    int64 // actors tracked now
	Evictions int64 // actors evicted because MaxActors were tracked
	Expired   int64 // actors dropped after two idle windows
	// Findings counts the findings raised, by detector id.
	Findings map[string]int64
	// Suppressed counts findings not raised because the same kind fired for
	// the same actor (and endpoint or flow) less than a window before.
	Suppressed int64
}

// All returns every behavioural detector with one configuration, in the
// order the pipeline runs them. The CLI builds its analyzers from it, so a
// detector added here runs in proxy, analyze and demo alike.
func All(cfg Config) []vigil.Analyzer {
	return []vigil.Analyzer{NewCracking(cfg), NewFlows(cfg), NewTampering(cfg), NewBOLA(cfg), NewCredentials(cfg),
		NewAutomation(cfg), NewAdaptiveProbing(cfg), NewPromptInjection(cfg), NewBaseline(cfg)}
}
