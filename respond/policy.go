package respond

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil"
)

// The modes a policy runs in.
const (
	// ModeMonitor decides and records, never enforces: every action is
	// written with Kind monitor and the kind it would have taken in its
	// Reason. It is the default.
	ModeMonitor = "monitor"
	// ModeEnforce writes the actions the rules name; the proxy enforces
	// them.
	ModeEnforce = "enforce"
)

// ActionNone is a rule action that matches and stops: the finding calls for
// nothing, and later rules are not tried. It exempts findings from broader
// rules below it.
const ActionNone vigil.ActionKind = "none"

// Defaults for what a rule leaves out.
const (
	DefaultTTL       = 15 * time.Minute
	DefaultRate      = 1.0             // requests per second, rate-limit rules
	DefaultDelay     = 2 * time.Second // tarpit rules
	DefaultThreshold = 1
	DefaultWindow    = 10 * time.Minute // rules with a threshold above 1
)

// Limits on a policy. A policy is a few KiB; anything near these is a
// mistake (or an attack on the parser).
const (
	MaxFileSize  = 1 << 20 // bytes
	MaxRules     = 1000
	MaxPatterns  = 100 // detector patterns per rule
	MaxThreshold = 100
	MaxTTL       = 8760 * time.Hour // as `vigil actions add --ttl`
	MaxDelay     = time.Minute      // the proxy caps tarpits lower (10s by default)
	MaxRate      = 100_000.0
	MinWindow    = time.Second
	MaxWindow    = 24 * time.Hour
	maxNameLen   = 100
	maxErrors    = 20
)

// Policy is the parsed policy file: which findings call for which action
// against the actor that caused them.
type Policy struct {
	// Mode is ModeMonitor (the default, also when empty) or ModeEnforce.
	Mode string
	// Rules are tried in order; the first that matches a finding decides.
	Rules []Rule
}

// Rule maps findings to an action. Zero fields match anything or take the
// defaults (DefaultTTL, DefaultRate, DefaultDelay, a threshold of 1). ParsePolicy
// sets MinSeverity to low when the file leaves it out; in a Rule built in Go
// the zero value is info.
type Rule struct {
	Name string
	// Detectors are detector ids ("detect.ssrf") or prefixes: a pattern
	// ending in "." or "*" matches every id it begins ("recon.",
	// "detect.injection.*"); "*" alone matches any. Empty matches any.
	Detectors     []string
	MinSeverity   vigil.Severity
	MinConfidence float64
	Areas         []vigil.Area // empty matches any
	// Action is monitor, block, rate-limit, tarpit, decoy, or ActionNone.
	Action vigil.ActionKind
	TTL    time.Duration
	// Key is which of the actor's identities the action targets. Empty:
	// its principal when it has one, else its address. A kind named here
	// is used alone: an actor without it is not acted on.
	Key   vigil.KeyKind
	Rate  float64       // rate-limit: requests per second allowed
	Delay time.Duration // tarpit: latency added to each request
	// Threshold: act on the Threshold-th matching finding from the same
	// actor key within Window (0 or 1: on the first).
	Threshold int
	Window    time.Duration
}

//go:embed default-policy.yaml
var defaultPolicy []byte

// DefaultPolicyYAML returns the text of the built-in policy.
func DefaultPolicyYAML() []byte { return bytes.Clone(defaultPolicy) }

// DefaultPolicy returns the built-in policy (default-policy.yaml), which runs
// in monitor mode.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy(bytes.NewReader(defaultPolicy))
	if err != nil {
		panic("respond: the built-in policy does not parse: " + err.Error())
	}
	return p
}

// LoadPolicy reads a policy file (see ParsePolicy).
func LoadPolicy(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "policy: %v", err)
	}
	defer f.Close()
	p, err := ParsePolicy(f)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: %s", path, vigil.ErrorMessage(err))
	}
	return p, nil
}

// ParsePolicy reads a YAML policy strictly: a key it does not know is an
// error, and so are a second document, anchors and aliases, and a file over
// MaxFileSize. Errors are vigil.EINVALID and name the rule (number and name)
// and the key, with the line.
func ParsePolicy(r io.Reader) (*Policy, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, vigil.Errorf(vigil.EINVALID, "policy is larger than %d bytes", MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, vigil.Errorf(vigil.EINVALID, "policy is empty (want mode and rules)")
		}
		return nil, vigil.Errorf(vigil.EINVALID, "policy: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, vigil.Errorf(vigil.EINVALID, "policy: only one YAML document is allowed")
	}
	ps := &parser{}
	p := ps.policy(&doc)
	if len(ps.errs) > 0 {
		return nil, ps.err()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// parser walks the YAML nodes itself, so that errors name the rule and key.
type parser struct {
	errs []string
}

func (ps *parser) bad(where string, n *yaml.Node, format string, args ...any) {
	if len(ps.errs) >= maxErrors {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", n.Line)
	}
	if where != "" {
		msg = where + ": " + msg
	}
	ps.errs = append(ps.errs, msg)
}

func (ps *parser) err() error {
	if len(ps.errs) == 1 {
		return vigil.Errorf(vigil.EINVALID, "invalid policy: %s", ps.errs[0])
	}
	return vigil.Errorf(vigil.EINVALID, "invalid policy:\n  %s", strings.Join(ps.errs, "\n  "))
}

// mapping checks that n is a mapping without aliases or repeated keys and
// calls f for each key and value.
func (ps *parser) mapping(where string, n *yaml.Node, f func(key string, k, v *yaml.Node)) bool {
	if n.Kind == yaml.AliasNode {
		ps.bad(where, n, "anchors and aliases are not supported")
		return false
	}
	if n.Kind != yaml.MappingNode {
		ps.bad(where, n, "want a mapping of keys here, got %s", kindName(n))
		return false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			ps.bad(where, k, "want a key name here, got %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			ps.bad(where, k, "key %q appears twice", k.Value)
			continue
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			ps.bad(joinWhere(where, k.Value), v, "anchors and aliases are not supported")
			continue
		}
		f(k.Value, k, v)
	}
	return true
}

func joinWhere(where, key string) string {
	if where == "" {
		return key
	}
	return where + ": " + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a document"
}

func (ps *parser) policy(doc *yaml.Node) *Policy {
	p := &Policy{Mode: ModeMonitor}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			ps.bad("", nil, "policy is empty (want mode and rules)")
			return p
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		ps.bad("", nil, "policy is empty (want mode and rules)")
		return p
	}
	hasRules := false
	ps.mapping("", root, func(key string, k, v *yaml.Node) {
		switch key {
		case "mode":
			s, ok := ps.str(key, v)
			if !ok {
				return
			}
			switch s {
			case ModeMonitor, ModeEnforce:
				p.Mode = s
			default:
				ps.bad(key, v, "want monitor or enforce, got %q", s)
			}
		case "rules":
			hasRules = true
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return // an empty list
			}
			if v.Kind != yaml.SequenceNode {
				ps.bad(key, v, "want a list of rules, got %s", kindName(v))
				return
			}
			if len(v.Content) > MaxRules {
				ps.bad(key, v, "at most %d rules, got %d", MaxRules, len(v.Content))
				return
			}
			for i, rn := range v.Content {
				p.Rules = append(p.Rules, ps.rule(i+1, rn))
			}
		default:
			ps.bad("", k, "unknown key %q (a policy has mode and rules)", key)
		}
	})
	if !hasRules && len(ps.errs) == 0 {
		ps.bad("", nil, "rules: missing (write rules: [] for none)")
	}
	return p
}

// ruleKeys are a rule's keys, for the unknown-key message.
const ruleKeys = "name, detectors, min_severity, min_confidence, areas, action, ttl, key, rate, delay, threshold, window"

func (ps *parser) rule(num int, n *yaml.Node) Rule {
	r := Rule{MinSeverity: vigil.SeverityLow}
	where := fmt.Sprintf("rule %d", num)
	// The name first, so that every message can name the rule.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode && n.Content[i+1].Tag != "!!null" {
				if name := n.Content[i+1].Value; name != "" && len(name) <= maxNameLen {
					where = fmt.Sprintf("rule %d (%s)", num, name)
				}
				break
			}
		}
	}
	var ttl, rate, delay, window, threshold, action *yaml.Node
	ps.mapping(where, n, func(key string, k, v *yaml.Node) {
		at := where + ": " + key
		switch key {
		case "name":
			r.Name, _ = ps.str(at, v)
		case "detectors":
			r.Detectors, _ = ps.strs(at, v)
		case "min_severity":
			if s, ok := ps.str(at, v); ok {
				sev, err := vigil.ParseSeverity(s)
				if err != nil {
					ps.bad(at, v, "%s", vigil.ErrorMessage(err))
				}
				r.MinSeverity = sev
			}
		case "min_confidence":
			r.MinConfidence, _ = ps.float(at, v)
			if !(r.MinConfidence >= 0 && r.MinConfidence <= 1) {
				ps.bad(at, v, "must be between 0 and 1, got %s", v.Value)
				r.MinConfidence = 0
			}
		case "areas":
			if ss, ok := ps.strs(at, v); ok {
				for _, s := range ss {
					r.Areas = append(r.Areas, vigil.Area(s))
				}
			}
		case "action":
			action = v
			if s, ok := ps.str(at, v); ok {
				if s == string(ActionNone) {
					r.Action = ActionNone
				} else if kind, err := vigil.ParseActionKind(s); err != nil || s != string(kind) {
					ps.bad(at, v, "unknown action %q (want block, rate-limit, tarpit, decoy, monitor or none)", s)
				} else {
					r.Action = kind
				}
			}
		case "ttl":
			ttl = v
			r.TTL, _ = ps.duration(at, v)
		case "key":
			if s, ok := ps.str(at, v); ok {
				switch kk := vigil.KeyKind(s); kk {
				case vigil.KeyPrincipal, vigil.KeyAddr, vigil.KeyFingerprint:
					r.Key = kk
				default:
					ps.bad(at, v, "want principal, addr or fingerprint, got %q", s)
				}
			}
		case "rate":
			rate = v
			r.Rate, _ = ps.float(at, v)
		case "delay":
			delay = v
			r.Delay, _ = ps.duration(at, v)
		case "threshold":
			threshold = v
			r.Threshold, _ = ps.int(at, v)
		case "window":
			window = v
			r.Window, _ = ps.duration(at, v)
		default:
			ps.bad(where, k, "unknown key %q (a rule has %s)", key, ruleKeys)
		}
	})
	if n.Kind != yaml.MappingNode {
		return r
	}
	// What the rule says explicitly must be in range: a zero here is not
	// "the default".
	if ttl != nil && r.TTL <= 0 {
		ps.bad(where+": ttl", ttl, "must be a positive duration such as 15m, got %s", ttl.Value)
	}
	if rate != nil && !(r.Rate > 0) && r.Action == vigil.ActionRateLimit {
		ps.bad(where+": rate", rate, "must be a positive number of requests per second, got %s", rate.Value)
	}
	if delay != nil && r.Delay <= 0 && r.Action == vigil.ActionTarpit {
		ps.bad(where+": delay", delay, "must be a positive duration such as 2s, got %s", delay.Value)
	}
	if threshold != nil && r.Threshold < 1 {
		ps.bad(where+": threshold", threshold, "must be at least 1, got %s", threshold.Value)
	}
	if window != nil && r.Window <= 0 && r.Threshold > 1 {
		ps.bad(where+": window", window, "must be a positive duration such as 10m, got %s", window.Value)
	}
	if action == nil {
		ps.bad(where, n, "action: missing (want block, rate-limit, tarpit, decoy, monitor or none)")
	}
	// The defaults, where they apply.
	if ttl == nil && r.Action != ActionNone {
		r.TTL = DefaultTTL
	}
	if rate == nil && r.Action == vigil.ActionRateLimit {
		r.Rate = DefaultRate
	}
	if delay == nil && r.Action == vigil.ActionTarpit {
		r.Delay = DefaultDelay
	}
	if threshold == nil {
		r.Threshold = DefaultThreshold
	}
	if window == nil && r.Threshold > 1 {
		r.Window = DefaultWindow
	}
	return r
}

func (ps *parser) str(at string, v *yaml.Node) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		ps.bad(at, v, "want a value here, got %s", kindName(v))
		return "", false
	}
	return v.Value, true
}

func (ps *parser) strs(at string, v *yaml.Node) ([]string, bool) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		ps.bad(at, v, "want a list such as [a, b], got %s", kindName(v))
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	for _, e := range v.Content {
		s, ok := ps.str(at, e)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (ps *parser) duration(at string, v *yaml.Node) (time.Duration, bool) {
	s, ok := ps.str(at, v)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		ps.bad(at, v, "%q is not a duration (write e.g. 2s, 15m, 1h)", s)
		return 0, false
	}
	return d, true
}

func (ps *parser) float(at string, v *yaml.Node) (float64, bool) {
	var f float64
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		ps.bad(at, v, "want a number here, got %s", kindName(v))
		return 0, false
	}
	return f, true
}

func (ps *parser) int(at string, v *yaml.Node) (int, bool) {
	var n int
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
		ps.bad(at, v, "want a whole number here, got %s", kindName(v))
		return 0, false
	}
	return n, true
}

// Validate checks a policy (ParsePolicy's result, or one built or changed in
// Go, e.g. after overriding Mode) and says which rule and key are wrong. Zero
// values take the defaults. An enforce-mode policy without rules is an error:
// it would enforce nothing while claiming to.
func (p *Policy) Validate() error {
	var errs []string
	bad := func(where, format string, args ...any) {
		if len(errs) < maxErrors {
			errs = append(errs, where+": "+fmt.Sprintf(format, args...))
		}
	}
	switch p.Mode {
	case "", ModeMonitor, ModeEnforce:
	default:
		bad("mode", "want monitor or enforce, got %q", p.Mode)
	}
	if p.Mode == ModeEnforce && len(p.Rules) == 0 {
		bad("rules", "enforce mode with no rules would enforce nothing; add rules or use monitor mode")
	}
	if len(p.Rules) > MaxRules {
		bad("rules", "at most %d rules, got %d", MaxRules, len(p.Rules))
	}
	names := make(map[string]int, len(p.Rules))
	for i, r := range p.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if r.Name != "" && len(r.Name) <= maxNameLen {
			where = fmt.Sprintf("rule %d (%s)", i+1, r.Name)
		}
		switch {
		case r.Name == "":
			bad(where, "name: missing (every rule needs a name: it goes into the action's reason)")
		case len(r.Name) > maxNameLen:
			bad(where, "name: at most %d characters, got %d", maxNameLen, len(r.Name))
		case strings.IndexFunc(r.Name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0:
			bad(where, "name: must be printable text, got %q", r.Name)
		default:
			if j, dup := names[r.Name]; dup {
				bad(where, "name: rule %d has the same name", j)
			}
			names[r.Name] = i + 1
		}
		if len(r.Detectors) > MaxPatterns {
			bad(where, "detectors: at most %d patterns, got %d", MaxPatterns, len(r.Detectors))
		}
		for _, d := range r.Detectors {
			if msg := checkPattern(d); msg != "" {
				bad(where, "detectors: %s", msg)
			}
		}
		if r.MinSeverity < vigil.SeverityInfo || r.MinSeverity > vigil.SeverityCritical {
			bad(where, "min_severity: unknown severity %d", int(r.MinSeverity))
		}
		if !(r.MinConfidence >= 0 && r.MinConfidence <= 1) {
			bad(where, "min_confidence: must be between 0 and 1, got %v", r.MinConfidence)
		}
		for _, a := range r.Areas {
			if !knownArea(a) {
				bad(where, "areas: unknown area %q (want business-logic, chained, shadow or automation)", a)
			}
		}
		switch r.Action {
		case vigil.ActionMonitor, vigil.ActionBlock, vigil.ActionRateLimit, vigil.ActionTarpit, vigil.ActionDecoy, ActionNone:
		case "":
			bad(where, "action: missing (want block, rate-limit, tarpit, decoy, monitor or none)")
		default:
			bad(where, "action: unknown action %q (want block, rate-limit, tarpit, decoy, monitor or none)", r.Action)
		}
		switch {
		case r.Action == ActionNone && (r.TTL != 0 || r.Key != "" || r.Rate != 0 || r.Delay != 0 || r.Threshold > 1 || r.Window != 0):
			bad(where, "action none takes no ttl, key, rate, delay, threshold or window")
		case r.TTL < 0 || r.TTL > MaxTTL:
			bad(where, "ttl: must be between 1s and %v, got %v", MaxTTL, r.TTL)
		case r.TTL > 0 && r.TTL < time.Second:
			bad(where, "ttl: must be at least 1s, got %v", r.TTL)
		}
		switch r.Key {
		case "", vigil.KeyPrincipal, vigil.KeyAddr, vigil.KeyFingerprint:
		default:
			bad(where, "key: want principal, addr or fingerprint, got %q", r.Key)
		}
		if r.Rate != 0 {
			if r.Action != vigil.ActionRateLimit {
				bad(where, "rate: applies to rate-limit rules only (this one is %s)", r.Action)
			} else if !(r.Rate > 0 && r.Rate <= MaxRate) {
				bad(where, "rate: must be a positive number of requests per second up to %v, got %v", MaxRate, r.Rate)
			}
		}
		if r.Delay != 0 {
			if r.Action != vigil.ActionTarpit {
				bad(where, "delay: applies to tarpit rules only (this one is %s)", r.Action)
			} else if r.Delay < 0 || r.Delay > MaxDelay {
				bad(where, "delay: must be a positive duration up to %v, got %v", MaxDelay, r.Delay)
			}
		}
		if r.Threshold < 0 || r.Threshold > MaxThreshold {
			bad(where, "threshold: must be between 1 and %d, got %d", MaxThreshold, r.Threshold)
		}
		if r.Window != 0 {
			if r.Threshold <= 1 {
				bad(where, "window: applies with a threshold above 1 only")
			} else if r.Window < MinWindow || r.Window > MaxWindow {
				bad(where, "window: must be between %v and %v, got %v", MinWindow, MaxWindow, r.Window)
			}
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return vigil.Errorf(vigil.EINVALID, "invalid policy: %s", errs[0])
	}
	return vigil.Errorf(vigil.EINVALID, "invalid policy:\n  %s", strings.Join(errs, "\n  "))
}

func knownArea(a vigil.Area) bool {
	for _, k := range vigil.Areas {
		if a == k {
			return true
		}
	}
	return false
}

// checkPattern returns what is wrong with a detector pattern, or "".
func checkPattern(p string) string {
	if p == "*" {
		return ""
	}
	if p == "" {
		return "an empty pattern (leave detectors out to match any)"
	}
	if len(p) > 200 {
		return fmt.Sprintf("pattern %.20q… is longer than 200 characters", p)
	}
	body := strings.TrimSuffix(p, "*")
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			if i == 0 || body[i-1] == '.' {
				return fmt.Sprintf("pattern %q has an empty part between dots", p)
			}
		case c == '*':
			return fmt.Sprintf("pattern %q: * may only end a pattern (write e.g. detect.injection.*)", p)
		default:
			return fmt.Sprintf("pattern %q: detector ids are lowercase letters, digits, dots, - and _", p)
		}
	}
	if body == "" {
		return fmt.Sprintf("pattern %q matches nothing", p)
	}
	return ""
}

// matchDetector reports whether the detector id matches the pattern.
func matchDetector(pattern, id string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(id, pattern[:len(pattern)-1])
	case strings.HasSuffix(pattern, "."):
		return strings.HasPrefix(id, pattern)
	}
	return id == pattern
}

// matches reports whether the rule applies to the finding.
func (r *Rule) matches(f *vigil.Finding) bool {
	if f.Severity < r.MinSeverity || f.Confidence < r.MinConfidence {
		return false
	}
	if len(r.Areas) > 0 {
		ok := false
		for _, a := range r.Areas {
			if a == f.Area {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Detectors) == 0 {
		return true
	}
	for _, d := range r.Detectors {
		if matchDetector(d, f.Detector) {
			return true
		}
	}
	return false
}

// keyFor is the actor key a rule targets, or "" when the actor has none.
// Without a key in the rule: the principal, unless it is a JWT subject —
// Vigil reads those without checking the signature, so anyone can forge
// one, and blocking it would let an attacker lock out the real user (an
// account takeover in the demo does exactly that) — then the address. A rule
// that says key: principal gets the principal whatever its kind.
func (r *Rule) keyFor(a vigil.Actor) string {
	if r.Key != "" {
		return a.KeyOf(r.Key)
	}
	if k := a.KeyOf(vigil.KeyPrincipal); k != "" && !strings.HasPrefix(a.Principal, "jwt:") {
		return k
	}
	if k := a.KeyOf(vigil.KeyAddr); k != "" {
		return k
	}
	return a.KeyOf(vigil.KeyPrincipal)
}

func (r *Rule) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return DefaultTTL
}

func (r *Rule) threshold() int { return max(1, r.Threshold) }

func (r *Rule) window() time.Duration {
	if r.Window > 0 {
		return r.Window
	}
	return DefaultWindow
}

// decision is what the policy says about one finding; action builds the
// action it calls for, which apply does only for findings that are not
// suppressed or below a threshold.
type decision struct {
	rule     int              // index of the matching rule, -1 for none
	intended vigil.ActionKind // the rule's action
	key      string           // "" when the actor has no key of the rule's kind
	created  time.Time        // the finding's time, now when it has none
}

func (p *Policy) decide(f *vigil.Finding, now time.Time) decision {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.matches(f) {
			continue
		}
		d := decision{rule: i, intended: r.Action}
		if r.Action == ActionNone {
			return d
		}
		d.key = r.keyFor(f.Actor)
		d.created = f.Time
		if d.created.IsZero() {
			d.created = now
		}
		return d
	}
	return decision{rule: -1}
}

// action is the action d calls for, as it is written (monitor in monitor
// mode), without ID. d has a rule, an action other than none and a key.
func (p *Policy) action(f *vigil.Finding, d decision) vigil.Action {
	r := &p.Rules[d.rule]
	a := vigil.Action{
		Kind:    r.Action,
		Key:     d.key,
		Created: d.created,
		Until:   d.created.Add(r.ttl()),
		Source:  f.ID,
	}
	what := string(r.Action)
	switch r.Action {
	case vigil.ActionRateLimit:
		a.Rate = r.Rate
		if a.Rate <= 0 {
			a.Rate = DefaultRate
		}
		what += fmt.Sprintf(" at %g/s", a.Rate)
	case vigil.ActionTarpit:
		a.Delay = r.Delay
		if a.Delay <= 0 {
			a.Delay = DefaultDelay
		}
		what += " by " + a.Delay.String()
	}
	reason := fmt.Sprintf("rule %s: %s: %s", r.Name, f.Detector, truncate(f.Title, 200))
	if n := r.threshold(); n > 1 {
		reason += fmt.Sprintf(" (%d findings within %s)", n, vigil.FormatDuration(r.window()))
	}
	if p.Mode != ModeEnforce && r.Action != vigil.ActionMonitor {
		reason = monitorPrefix + what + ": " + reason
		a.Kind, a.Rate, a.Delay = vigil.ActionMonitor, 0, 0
	}
	a.Reason = reason
	return a
}

// monitorPrefix begins the Reason of an action monitor mode wrote instead
// of another kind: "monitor mode, would block: rule …".
const monitorPrefix = "monitor mode, would "

// Decide returns the action a finding calls for, without an ID and without
// counting thresholds: the first rule that matches decides. It reports false
// when no rule matches, the rule's action is none, or the actor has no key of
// the rule's kind. Created is the finding's time (now when it has none),
// Until is Created plus the rule's TTL. In monitor mode the action's Kind is
// monitor and its Reason says what it would have been. Decide is pure.
func (p *Policy) Decide(f vigil.Finding, now time.Time) (vigil.Action, bool) {
	d := p.decide(&f, now)
	if d.rule < 0 || d.intended == ActionNone || d.key == "" {
		return vigil.Action{}, false
	}
	return p.action(&f, d), true
}

// Stops reports whether a finding stops the request that caused it before
// it is forwarded, when the proxy checks requests in line: the policy is in
// enforce mode and the first rule that matches blocks on the first finding
// (a threshold of 1). Rules with a higher threshold, and every other action,
// act from the next request on, through the actions the Responder writes.
// Stops is pure and does not allocate.
func (p *Policy) Stops(f *vigil.Finding) bool {
	if p == nil || p.Mode != ModeEnforce {
		return false
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.matches(f) {
			return r.Action == vigil.ActionBlock && r.threshold() == 1
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8Start(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// clone deep-copies the policy, so that a Responder is not affected by
// later changes to the caller's.
func (p *Policy) clone() *Policy {
	c := &Policy{Mode: p.Mode, Rules: make([]Rule, len(p.Rules))}
	for i, r := range p.Rules {
		r.Detectors = append([]string(nil), r.Detectors...)
		r.Areas = append([]vigil.Area(nil), r.Areas...)
		c.Rules[i] = r
	}
	return c
}
