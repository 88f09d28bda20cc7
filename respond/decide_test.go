package respond

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestDecide(t *testing.T) {
	p := &Policy{Mode: ModeEnforce, Rules: []Rule{
		{Name: "exempt", Detectors: []string{"detect.injection.test"}, Action: ActionNone},
		{Name: "injection", Detectors: []string{"detect.injection.*"}, MinSeverity: vigil.SeverityHigh, MinConfidence: 0.8, Action: vigil.ActionBlock, TTL: time.Hour},
		{Name: "recon", Detectors: []string{"recon."}, MinSeverity: vigil.SeverityMedium, Action: vigil.ActionTarpit, Delay: 3 * time.Second},
		{Name: "ssrf-exact", Detectors: []string{"detect.ssrf"}, Action: vigil.ActionBlock, Key: vigil.KeyAddr},
		{Name: "bots", Areas: []vigil.Area{vigil.AreaAutomation}, MinSeverity: vigil.SeverityMedium, Action: vigil.ActionRateLimit, Rate: 2, Key: vigil.KeyFingerprint},
		{Name: "catch-all", Detectors: []string{"*"}, MinSeverity: vigil.SeverityCritical, Action: vigil.ActionMonitor},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	full := vigil.Actor{Principal: "apikey:alice", Addr: "203.0.113.9", Fingerprint: "fp1"}
	anon := vigil.Actor{Addr: "198.51.100.7", Fingerprint: "fp2"}
	for _, tc := range []struct {
		name       string
		detector   string
		sev        vigil.Severity
		conf       float64
		area       vigil.Area
		actor      vigil.Actor
		wantRule   string // "" for no action
		wantKind   vigil.ActionKind
		wantKey    string
		wantTTL    time.Duration
		wantRate   float64
		wantDelay  time.Duration
		wantNoRule bool
	}{
		{name: "prefix with star", detector: "detect.injection.sqli", sev: vigil.SeverityHigh, conf: 0.9, actor: full,
			wantRule: "injection", wantKind: vigil.ActionBlock, wantKey: "principal:apikey:alice", wantTTL: time.Hour},
		{name: "star prefix needs the dot", detector: "detect.injectionx", sev: vigil.SeverityCritical, conf: 0.9, actor: full,
			wantRule: "catch-all", wantKind: vigil.ActionMonitor, wantKey: "principal:apikey:alice", wantTTL: DefaultTTL},
		{name: "severity below", detector: "detect.injection.sqli", sev: vigil.SeverityMedium, conf: 0.9, actor: full},
		{name: "confidence below", detector: "detect.injection.sqli", sev: vigil.SeverityHigh, conf: 0.79, actor: full},
		{name: "confidence at threshold", detector: "detect.injection.xss", sev: vigil.SeverityHigh, conf: 0.8, actor: full,
			wantRule: "injection", wantKind: vigil.ActionBlock, wantKey: "principal:apikey:alice", wantTTL: time.Hour},
		{name: "first match wins: exemption", detector: "detect.injection.test", sev: vigil.SeverityCritical, conf: 1, actor: full},
		{name: "dot prefix", detector: "recon.probe", sev: vigil.SeverityMedium, conf: 0.5, actor: full,
			wantRule: "recon", wantKind: vigil.ActionTarpit, wantKey: "principal:apikey:alice", wantTTL: DefaultTTL, wantDelay: 3 * time.Second},
		{name: "dot prefix is not a bare id", detector: "recon", sev: vigil.SeverityMedium, conf: 0.5, actor: full},
		{name: "key falls back to addr", detector: "recon.wordlist", sev: vigil.SeverityHigh, actor: anon,
			wantRule: "recon", wantKind: vigil.ActionTarpit, wantKey: "addr:198.51.100.7", wantTTL: DefaultTTL, wantDelay: 3 * time.Second},
		{name: "exact id", detector: "detect.ssrf", sev: vigil.SeverityLow, actor: full,
			wantRule: "ssrf-exact", wantKind: vigil.ActionBlock, wantKey: "addr:203.0.113.9", wantTTL: DefaultTTL},
		{name: "exact id does not prefix", detector: "detect.ssrf2", sev: vigil.SeverityLow, actor: full},
		{name: "area and fingerprint key", detector: "detect.automation.rate", sev: vigil.SeverityMedium, area: vigil.AreaAutomation, actor: full,
			wantRule: "bots", wantKind: vigil.ActionRateLimit, wantKey: "fingerprint:fp1", wantTTL: DefaultTTL, wantRate: 2},
		{name: "other area", detector: "detect.automation.rate", sev: vigil.SeverityMedium, area: vigil.AreaChained, actor: full},
		{name: "explicit key kind missing: no action", detector: "detect.automation.rate", sev: vigil.SeverityMedium, area: vigil.AreaAutomation,
			actor: vigil.Actor{Addr: "192.0.2.1"}},
		{name: "no principal and no address: no action", detector: "detect.injection.sqli", sev: vigil.SeverityHigh, conf: 1,
			actor: vigil.Actor{Fingerprint: "fp3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := vigil.Finding{ID: "f-1", Detector: tc.detector, Severity: tc.sev, Confidence: tc.conf, Area: tc.area, Actor: tc.actor, Title: "Something seen"}
			a, ok := p.Decide(f, now)
			if tc.wantRule == "" {
				if ok {
					t.Fatalf("got %+v, want no action", a)
				}
				return
			}
			if !ok {
				t.Fatalf("no action, want rule %s", tc.wantRule)
			}
			if a.Kind != tc.wantKind || a.Key != tc.wantKey || a.Until.Sub(a.Created) != tc.wantTTL ||
				a.Rate != tc.wantRate || a.Delay != tc.wantDelay {
				t.Errorf("got kind %s key %s ttl %v rate %v delay %v", a.Kind, a.Key, a.Until.Sub(a.Created), a.Rate, a.Delay)
			}
			if !strings.Contains(a.Reason, "rule "+tc.wantRule+": "+tc.detector+": Something seen") {
				t.Errorf("reason %q does not name rule %s", a.Reason, tc.wantRule)
			}
			if a.Source != "f-1" || a.ID != "" {
				t.Errorf("source %q id %q", a.Source, a.ID)
			}
			if !a.Created.Equal(now) {
				t.Errorf("created %v, want now (the finding has no time)", a.Created)
			}
		})
	}
}

func TestDecideTimesAndMonitor(t *testing.T) {
	p := &Policy{Rules: []Rule{
		{Name: "rl", Detectors: []string{"x"}, Action: vigil.ActionRateLimit, Rate: 3, TTL: 5 * time.Minute},
		{Name: "mon", Detectors: []string{"y"}, Action: vigil.ActionMonitor},
	}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	then := now.Add(-48 * time.Hour)
	f := vigil.Finding{ID: "f", Detector: "x", Time: then, Actor: vigil.Actor{Addr: "192.0.2.1"}, Title: "T"}
	a, ok := p.Decide(f, now)
	if !ok {
		t.Fatal("no action")
	}
	// Offline analysis: the action dates from the finding.
	if !a.Created.Equal(then) || !a.Until.Equal(then.Add(5*time.Minute)) {
		t.Errorf("created %v until %v, want from the finding's time", a.Created, a.Until)
	}
	// Monitor mode (the zero Mode): written as monitor, saying what it would be.
	if a.Kind != vigil.ActionMonitor || a.Rate != 0 {
		t.Errorf("monitor mode wrote %s rate %v", a.Kind, a.Rate)
	}
	if want := "monitor mode, would rate-limit at 3/s: rule rl: x: T"; a.Reason != want {
		t.Errorf("reason %q, want %q", a.Reason, want)
	}
	if intendedKind(a) != vigil.ActionRateLimit {
		t.Errorf("intendedKind = %s", intendedKind(a))
	}
	p.Mode = ModeEnforce
	a, _ = p.Decide(f, now)
	if a.Kind != vigil.ActionRateLimit || a.Rate != 3 || a.Reason != "rule rl: x: T" {
		t.Errorf("enforce: %+v", a)
	}
	// A monitor rule reads the same in both modes.
	f.Detector = "y"
	a, _ = p.Decide(f, now)
	if a.Kind != vigil.ActionMonitor || a.Reason != "rule mon: y: T" {
		t.Errorf("monitor rule: %+v", a)
	}
	// Long titles are shortened.
	f.Title = strings.Repeat("é", 300)
	a, _ = p.Decide(f, now)
	if len(a.Reason) > 260 || !strings.HasSuffix(a.Reason, "…") {
		t.Errorf("reason of %d bytes", len(a.Reason))
	}
}

func TestMatchDetector(t *testing.T) {
	for _, tc := range []struct {
		pattern, id string
		want        bool
	}{
		{"*", "anything", true},
		{"detect.injection.*", "detect.injection.sqli", true},
		{"detect.injection.*", "detect.injection", false},
		{"detect.injection.*", "detect.injectionsqli", false},
		{"detect.inj*", "detect.injection.sqli", true},
		{"recon.", "recon.probe", true},
		{"recon.", "reconx.probe", false},
		{"recon.probe", "recon.probe", true},
		{"recon.probe", "recon.probe.x", false},
	} {
		if got := matchDetector(tc.pattern, tc.id); got != tc.want {
			t.Errorf("matchDetector(%q, %q) = %v", tc.pattern, tc.id, got)
		}
	}
}

// TestKeyForJWT: an unverified JWT subject is never the default key (a
// forged token would lock out its real owner); the address is, and a rule
// that asks for the principal still gets it.
func TestKeyForJWT(t *testing.T) {
	jwtActor := vigil.Actor{Principal: "jwt:7", Addr: "203.0.113.9"}
	for _, c := range []struct {
		rule Rule
		a    vigil.Actor
		want string
	}{
		{Rule{}, jwtActor, "addr:203.0.113.9"},
		{Rule{Key: vigil.KeyPrincipal}, jwtActor, "principal:jwt:7"},
		{Rule{}, vigil.Actor{Principal: "jwt:7"}, "principal:jwt:7"}, // nothing better
		{Rule{}, vigil.Actor{Principal: "session:ab12", Addr: "203.0.113.9"}, "principal:session:ab12"},
	} {
		if got := c.rule.keyFor(c.a); got != c.want {
			t.Errorf("keyFor(%+v, %+v) = %q, want %q", c.rule, c.a, got, c.want)
		}
	}
}
