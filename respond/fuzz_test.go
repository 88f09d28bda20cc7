package respond

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// FuzzParsePolicy: ParsePolicy never panics; what it accepts validates, and
// deciding on findings with it never panics and keeps the action's promises.
func FuzzParsePolicy(f *testing.F) {
	// The default policy without its comments: the fuzzer minimizes what
	// it finds, and minimizing 5 KiB of comments takes most of a minute.
	var compact []byte
	for line := range bytes.Lines(DefaultPolicyYAML()) {
		if i := bytes.Index(line, []byte("#")); i >= 0 {
			line = append(bytes.TrimRight(line[:i], " "), '\n')
		}
		if len(bytes.TrimSpace(line)) > 0 {
			compact = append(compact, line...)
		}
	}
	f.Add(compact)
	f.Add([]byte("mode: enforce\nrules:\n  - {name: a, action: rate-limit, rate: 2, threshold: 3, window: 1m, key: fingerprint}\n"))
	f.Add([]byte("rules:\n  - &r {name: a, action: block}\n  - *r\n"))
	f.Add([]byte("rules:\n  - {name: n, action: none, detectors: ['*']}\n  - {name: t, action: tarpit, delay: 1s, areas: [shadow]}\n"))
	f.Add([]byte("rules: [\n"))
	f.Add([]byte("mode: monitor\nrules: ~\n---\nx: 1\n"))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	findings := []vigil.Finding{
		{ID: "1", Detector: "detect.injection.sqli", Severity: vigil.SeverityCritical, Confidence: 1, Actor: vigil.Actor{Principal: "jwt:a", Addr: "192.0.2.1", Fingerprint: "f"}},
		{ID: "2", Detector: "recon.probe", Severity: vigil.SeverityMedium, Confidence: 0.5, Area: vigil.AreaShadow, Actor: vigil.Actor{Addr: "192.0.2.2"}, Time: now.Add(-time.Hour)},
		{ID: "3", Detector: "a", Severity: vigil.SeverityInfo},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(bytes.NewReader(b))
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "polic") {
				t.Fatalf("error %q (code %s)", err, vigil.ErrorCode(err))
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted a policy that does not validate: %v", err)
		}
		if p.Mode != ModeMonitor && p.Mode != ModeEnforce {
			t.Fatalf("mode %q", p.Mode)
		}
		for _, r := range p.Rules {
			if r.Action != ActionNone && r.TTL <= 0 {
				t.Fatalf("rule %s without a ttl", r.Name)
			}
			if r.Threshold < 1 {
				t.Fatalf("rule %s threshold %d", r.Name, r.Threshold)
			}
		}
		r := NewResponder(p, discard{})
		for _, fd := range findings {
			a, ok := p.Decide(fd, now)
			if !ok {
				continue
			}
			if a.Key == "" || !a.Until.After(a.Created) || a.ID != "" {
				t.Fatalf("bad action %+v", a)
			}
			if p.Mode == ModeMonitor && a.Kind != vigil.ActionMonitor {
				t.Fatalf("monitor mode decided %s", a.Kind)
			}
		}
		if err := r.WriteFindings(t.Context(), findings); err != nil {
			t.Fatal(err)
		}
	})
}
