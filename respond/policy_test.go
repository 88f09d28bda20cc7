package respond

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestDefaultPolicyParses(t *testing.T) {
	p := DefaultPolicy()
	if p.Mode != ModeMonitor {
		t.Errorf("default mode = %q, want monitor", p.Mode)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	byName := map[string]Rule{}
	for _, r := range p.Rules {
		byName[r.Name] = r
	}
	want := map[string]vigil.ActionKind{
		"exposure-no-action":                ActionNone,
		"block-injection":                   vigil.ActionBlock,
		"block-ssrf":                        vigil.ActionBlock,
		"block-jwt-forgery":                 vigil.ActionBlock,
		"tarpit-recon-probe":                vigil.ActionTarpit,
		"block-recon":                       vigil.ActionBlock,
		"block-cracking":                    vigil.ActionBlock,
		"block-flow-skip":                   vigil.ActionBlock,
		"block-incident-chain":              vigil.ActionBlock,
		"block-bola-and-credential-attacks": vigil.ActionBlock,
		"rate-limit-resource-abuse":         vigil.ActionRateLimit,
		"tarpit-bfla":                       vigil.ActionTarpit,
		"rate-limit-automation":             vigil.ActionRateLimit,
		"block-prompt-injection":            vigil.ActionBlock,
		"block-privileged-mass-assignment":  vigil.ActionBlock,
	}
	for name, kind := range want {
		r, ok := byName[name]
		if !ok {
			t.Errorf("default policy has no rule %s", name)
			continue
		}
		if r.Action != kind {
			t.Errorf("rule %s: action %s, want %s", name, r.Action, kind)
		}
	}
	if len(p.Rules) != len(want) {
		t.Errorf("default policy has %d rules, want %d", len(p.Rules), len(want))
	}
	if r := byName["block-recon"]; r.TTL != 30*time.Minute || r.MinSeverity != vigil.SeverityMedium {
		t.Errorf("block-recon: ttl %v severity %v, want 30m medium", r.TTL, r.MinSeverity)
	}
	if r := byName["rate-limit-resource-abuse"]; r.Rate != 1 || r.Threshold != 3 || r.Window != 10*time.Minute {
		t.Errorf("rate-limit-resource-abuse: %+v", r)
	}
	if r := byName["tarpit-recon-probe"]; r.Delay != 2*time.Second {
		t.Errorf("tarpit-recon-probe delay %v, want 2s", r.Delay)
	}
	if r := byName["block-jwt-forgery"]; r.Key != vigil.KeyAddr {
		t.Errorf("block-jwt-forgery key %q, want addr (the principal is the forger's claim)", r.Key)
	}
	// DefaultPolicy returns a fresh copy each time.
	p.Rules[0].Name = "changed"
	if DefaultPolicy().Rules[0].Name == "changed" {
		t.Error("DefaultPolicy shares its rules")
	}
}

// TestDefaultPolicyDecisions holds the shipped policy to what the docs say
// it does.
func TestDefaultPolicyDecisions(t *testing.T) {
	p := DefaultPolicy()
	p.Mode = ModeEnforce
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	actor := vigil.Actor{Principal: "jwt:alice", Addr: "203.0.113.9"}
	for _, tc := range []struct {
		detector string
		sev      vigil.Severity
		want     vigil.ActionKind // "" for nothing
		ttl      time.Duration
	}{
		{"detect.injection.sqli", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"detect.injection.xss", vigil.SeverityCritical, vigil.ActionBlock, 15 * time.Minute},
		{"detect.injection.sqli", vigil.SeverityMedium, "", 0},
		{"detect.ssrf", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"detect.auth.jwt", vigil.SeverityHigh, vigil.ActionBlock, time.Hour},
		{"detect.auth.jwt", vigil.SeverityMedium, "", 0},
		{"recon.probe", vigil.SeverityMedium, vigil.ActionTarpit, 30 * time.Minute},
		{"recon.wordlist", vigil.SeverityMedium, vigil.ActionBlock, 30 * time.Minute},
		{"recon.spec-hunting", vigil.SeverityLow, "", 0},
		{"behavior.cracking", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"behavior.flow-skip", vigil.SeverityMedium, vigil.ActionBlock, 15 * time.Minute},
		{"detect.resource.limits", vigil.SeverityMedium, vigil.ActionRateLimit, 15 * time.Minute},
		{"detect.resource.limits", vigil.SeverityLow, "", 0},
		{"detect.exposure.sensitive", vigil.SeverityCritical, "", 0}, // no action against the caller
		{"detect.exposure.sensitive", vigil.SeverityInfo, "", 0},
		{"detect.misconfig.verbose", vigil.SeverityHigh, "", 0},
		{"detect.authz.bola", vigil.SeverityCritical, "", 0},
		{"behavior.bola", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"behavior.enumeration", vigil.SeverityMedium, "", 0},
		{"behavior.credential-stuffing", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"detect.authz.bfla", vigil.SeverityHigh, vigil.ActionTarpit, 15 * time.Minute},
		{"detect.authz.bfla", vigil.SeverityMedium, "", 0},
		{"behavior.automation", vigil.SeverityHigh, vigil.ActionRateLimit, 15 * time.Minute},
		{"behavior.automation", vigil.SeverityMedium, "", 0},
		{"behavior.prompt-injection", vigil.SeverityMedium, vigil.ActionBlock, 15 * time.Minute},
		{"behavior.adaptive-probing", vigil.SeverityHigh, "", 0},
		{"detect.mass-assignment", vigil.SeverityHigh, vigil.ActionBlock, 15 * time.Minute},
		{"detect.mass-assignment", vigil.SeverityMedium, "", 0},
	} {
		f := vigil.Finding{ID: "f1", Detector: tc.detector, Severity: tc.sev, Confidence: 0.9, Actor: actor, Title: "t"}
		a, ok := p.Decide(f, now)
		if tc.want == "" {
			if ok {
				t.Errorf("%s %s: got %s, want nothing", tc.detector, tc.sev, a.Kind)
			}
			continue
		}
		if !ok || a.Kind != tc.want || a.Until.Sub(a.Created) != tc.ttl {
			t.Errorf("%s %s: got %v %s ttl %v, want %s ttl %v", tc.detector, tc.sev, ok, a.Kind, a.Until.Sub(a.Created), tc.want, tc.ttl)
		}
		if tc.detector == "detect.auth.jwt" && a.Key != "addr:203.0.113.9" {
			t.Errorf("jwt forgery keyed on %s, want the address", a.Key)
		}
	}
}

func TestParsePolicyFull(t *testing.T) {
	const src = `
mode: enforce
rules:
  - name: all-keys
    detectors: [detect.injection.*, recon., detect.ssrf]
    min_severity: medium
    min_confidence: 0.7
    areas: [chained, shadow]
    action: rate-limit
    ttl: 1h
    key: fingerprint
    rate: 2.5
    threshold: 3
    window: 5m
  - name: defaults
    action: tarpit
  - name: exempt
    action: none
`
	p, err := ParsePolicy(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeEnforce || len(p.Rules) != 3 {
		t.Fatalf("got %+v", p)
	}
	r := p.Rules[0]
	if r.Name != "all-keys" || len(r.Detectors) != 3 || r.MinSeverity != vigil.SeverityMedium ||
		r.MinConfidence != 0.7 || len(r.Areas) != 2 || r.Areas[1] != vigil.AreaShadow ||
		r.Action != vigil.ActionRateLimit || r.TTL != time.Hour || r.Key != vigil.KeyFingerprint ||
		r.Rate != 2.5 || r.Threshold != 3 || r.Window != 5*time.Minute {
		t.Errorf("rule 1 = %+v", r)
	}
	d := p.Rules[1]
	if d.TTL != DefaultTTL || d.Delay != DefaultDelay || d.Threshold != 1 || d.Window != 0 ||
		d.MinSeverity != vigil.SeverityLow || d.Key != "" || d.Rate != 0 {
		t.Errorf("rule 2 defaults = %+v", d)
	}
	if n := p.Rules[2]; n.Action != ActionNone || n.TTL != 0 {
		t.Errorf("rule 3 = %+v", n)
	}
	// Mode defaults to monitor; an empty rule list is allowed there.
	p, err = ParsePolicy(strings.NewReader("rules: []\n"))
	if err != nil || p.Mode != ModeMonitor || len(p.Rules) != 0 {
		t.Errorf("rules: [] → %+v, %v", p, err)
	}
	// A rate-limit rule gets the default rate, a threshold the default window.
	p, err = ParsePolicy(strings.NewReader("rules:\n  - {name: r, action: rate-limit, threshold: 2}\n"))
	if err != nil || p.Rules[0].Rate != DefaultRate || p.Rules[0].Window != DefaultWindow {
		t.Errorf("defaults: %+v, %v", p, err)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	rule := func(extra string) string {
		return "mode: enforce\nrules:\n  - name: first\n    action: block\n  - name: second\n    action: block\n" + extra
	}
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"empty", "", []string{"policy is empty"}},
		{"comments only", "# nothing\n", []string{"policy is empty"}},
		{"null", "~\n", []string{"policy is empty"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping"}},
		{"unknown top key", "mode: monitor\nrulez: []\n", []string{`unknown key "rulez"`, "line 2"}},
		{"no rules key", "mode: monitor\n", []string{"rules: missing"}},
		{"bad mode", "mode: enforcing\nrules: []\n", []string{"mode", `"enforcing"`}},
		{"enforce without rules", "mode: enforce\nrules: []\n", []string{"enforce mode with no rules"}},
		{"rules not a list", "rules: {a: 1}\n", []string{"rules", "want a list of rules"}},
		{"rule not a mapping", "rules:\n  - block\n", []string{"rule 1", "want a mapping"}},
		{"unknown rule key", rule("    actoin: block\n"), []string{"rule 2 (second)", `unknown key "actoin"`, "line 7"}},
		{"repeated key", rule("    action: tarpit\n"), []string{"rule 2 (second)", `key "action" appears twice`}},
		{"unknown action", "rules:\n  - name: x\n    action: ban\n", []string{"rule 1 (x): action", `unknown action "ban"`}},
		{"action case", "rules:\n  - name: x\n    action: Block\n", []string{"rule 1 (x): action", `"Block"`}},
		{"missing action", "rules:\n  - name: x\n", []string{"rule 1 (x)", "action: missing"}},
		{"missing name", "rules:\n  - action: block\n", []string{"rule 1", "name: missing"}},
		{"duplicate name", "rules:\n  - {name: x, action: block}\n  - {name: x, action: tarpit}\n", []string{"rule 2 (x): name: rule 1 has the same name"}},
		{"negative ttl", rule("    ttl: -5m\n"), []string{"rule 2 (second): ttl", "positive", "-5m"}},
		{"zero ttl", rule("    ttl: 0s\n"), []string{"rule 2 (second): ttl", "positive"}},
		{"ttl too long", rule("    ttl: 10000h\n"), []string{"rule 2 (second): ttl", "8760h"}},
		{"ttl not a duration", rule("    ttl: 15\n"), []string{"rule 2 (second): ttl", `"15" is not a duration`}},
		{"bad severity", rule("    min_severity: severe\n"), []string{"rule 2 (second): min_severity", `unknown severity "severe"`}},
		{"confidence above 1", rule("    min_confidence: 1.5\n"), []string{"rule 2 (second): min_confidence", "between 0 and 1"}},
		{"confidence not a number", rule("    min_confidence: high\n"), []string{"rule 2 (second): min_confidence", "want a number"}},
		{"bad area", rule("    areas: [bots]\n"), []string{"rule 2 (second): areas", `unknown area "bots"`}},
		{"areas not a list", rule("    areas: chained\n"), []string{"rule 2 (second): areas", "want a list"}},
		{"bad key", rule("    key: ip\n"), []string{"rule 2 (second): key", `"ip"`}},
		{"star in the middle", rule("    detectors: [detect.*.sqli]\n"), []string{"rule 2 (second): detectors", "* may only end a pattern"}},
		{"empty pattern", rule("    detectors: ['']\n"), []string{"rule 2 (second): detectors", "empty pattern"}},
		{"uppercase pattern", rule("    detectors: [Detect.SSRF]\n"), []string{"rule 2 (second): detectors", "lowercase"}},
		{"double dot", rule("    detectors: [detect..x]\n"), []string{"rule 2 (second): detectors", "empty part"}},
		{"leading dot", rule("    detectors: [.x]\n"), []string{"rule 2 (second): detectors", "empty part"}},
		{"detectors not a list", rule("    detectors: detect.ssrf\n"), []string{"rule 2 (second): detectors", "want a list"}},
		{"rate on block", rule("    rate: 5\n"), []string{"rule 2 (second): rate", "rate-limit rules only"}},
		{"negative rate", "rules:\n  - {name: r, action: rate-limit, rate: -1}\n", []string{"rule 1 (r): rate", "positive"}},
		{"delay on block", rule("    delay: 1s\n"), []string{"rule 2 (second): delay", "tarpit rules only"}},
		{"delay too long", "rules:\n  - {name: t, action: tarpit, delay: 5m}\n", []string{"rule 1 (t): delay", "1m0s"}},
		{"zero threshold", rule("    threshold: 0\n"), []string{"rule 2 (second): threshold", "at least 1"}},
		{"threshold too big", rule("    threshold: 1000\n"), []string{"rule 2 (second): threshold", "between 1 and 100"}},
		{"threshold not whole", rule("    threshold: 2.5\n"), []string{"rule 2 (second): threshold", "whole number"}},
		{"window without threshold", rule("    window: 5m\n"), []string{"rule 2 (second): window", "threshold above 1"}},
		{"window too long", rule("    threshold: 3\n    window: 48h\n"), []string{"rule 2 (second): window", "24h"}},
		{"none with ttl", "rules:\n  - {name: n, action: none, ttl: 1h}\n", []string{"rule 1 (n)", "action none takes no ttl"}},
		{"alias", "rules:\n  - &r {name: a, action: block}\n  - *r\n", []string{"rule 2", "aliases are not supported"}},
		{"merge key", "rules:\n  - {name: a, action: block, <<: {ttl: 1h}}\n", []string{"rule 1 (a)", `unknown key "<<"`}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"only one YAML document"}},
		{"syntax", "rules: [\n", []string{"policy:"}},
		{"name not text", "rules:\n  - {name: [a], action: block}\n", []string{"rule 1: name", "want a value"}},
		{"several errors", "rules:\n  - {name: a, action: ban}\n  - {name: b, action: block, ttl: -1s}\n", []string{"rule 1 (a): action", "rule 2 (b): ttl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy(strings.NewReader(tc.src))
			if err == nil {
				t.Fatalf("no error; got %+v", p)
			}
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("code %q, want invalid: %v", vigil.ErrorCode(err), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParsePolicyTooLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("rules:\n")
	for b.Len() <= MaxFileSize {
		b.WriteString("  # padding padding padding padding padding padding padding padding\n")
	}
	_, err := ParsePolicy(&b)
	if err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("err = %v", err)
	}
	// Just under the cap is fine.
	var ok bytes.Buffer
	ok.WriteString("rules: []\n")
	for ok.Len()+100 < MaxFileSize {
		ok.WriteString("# padding padding padding padding padding padding padding padding padding\n")
	}
	if _, err := ParsePolicy(&ok); err != nil {
		t.Fatalf("a file under the cap: %v", err)
	}
}

func TestParsePolicyTooManyRules(t *testing.T) {
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range MaxRules + 1 {
		b.WriteString("  - {name: r" + strconv.Itoa(i) + ", action: block}\n")
	}
	_, err := ParsePolicy(strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "at most 1000 rules") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, DefaultPolicyYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy(good)
	if err != nil || len(p.Rules) != len(DefaultPolicy().Rules) {
		t.Fatalf("LoadPolicy(default copy) = %v, %v", p, err)
	}
	p, err = LoadPolicy("testdata/enforce.yaml")
	if err != nil || p.Mode != ModeEnforce {
		t.Fatalf("testdata/enforce.yaml: %v, %v", p, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - {name: x, action: ban}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPolicy(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "rule 1 (x): action") ||
		vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad file: %v", err)
	}
	if _, err := LoadPolicy(filepath.Join(dir, "missing.yaml")); err == nil || vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("missing file: %v", err)
	}
}

func TestValidateGoPolicy(t *testing.T) {
	// A policy built in Go: zero values take the defaults.
	p := &Policy{Rules: []Rule{{Name: "x", Action: vigil.ActionBlock}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// Overriding the mode (respond.mode) is checked by Validate.
	p.Mode = "enforce"
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.Mode = "loud"
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `mode: want monitor or enforce, got "loud"`) {
		t.Errorf("bad mode: %v", err)
	}
	empty := &Policy{Mode: ModeEnforce}
	if err := empty.Validate(); err == nil {
		t.Error("enforce mode without rules validated")
	}
	neg := &Policy{Rules: []Rule{{Name: "n", Action: vigil.ActionBlock, TTL: -time.Second}}}
	if err := neg.Validate(); err == nil || !strings.Contains(err.Error(), "rule 1 (n): ttl") {
		t.Errorf("negative ttl: %v", err)
	}
	nan := &Policy{Rules: []Rule{{Name: "n", Action: vigil.ActionRateLimit, Rate: -2}}}
	if err := nan.Validate(); err == nil || !strings.Contains(err.Error(), "rule 1 (n): rate") {
		t.Errorf("negative rate: %v", err)
	}
}

// TestDocShowsDefaultPolicy keeps docs/respond.md showing the shipped file.
func TestDocShowsDefaultPolicy(t *testing.T) {
	doc, err := os.ReadFile("../docs/respond.md")
	if err != nil {
		t.Skip("docs not found:", err)
	}
	if !bytes.Contains(doc, append([]byte("```yaml\n"), DefaultPolicyYAML()...)) {
		t.Error("docs/respond.md does not show default-policy.yaml as it is")
	}
	for _, key := range strings.Split(ruleKeys, ", ") {
		if !bytes.Contains(doc, []byte("| `"+key+"` |")) {
			t.Errorf("docs/respond.md does not document the rule key %s", key)
		}
	}
}
