package respond

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestStops(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		detector string
		want     bool
	}{
		{"block in enforce mode", ModeEnforce, "d.block", true},
		{"block in monitor mode", ModeMonitor, "d.block", false},
		{"tarpit acts from the next request", ModeEnforce, "d.tarpit", false},
		{"rate-limit acts from the next request", ModeEnforce, "d.limit", false},
		{"monitor", ModeEnforce, "d.watch", false},
		{"block after a threshold of 3", ModeEnforce, "d.three", false},
		{"no rule matches", ModeEnforce, "d.unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fnd(tt.detector, "192.0.2.1")
			if got := testPolicy(tt.mode).Stops(&f); got != tt.want {
				t.Errorf("Stops = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("first match decides", func(t *testing.T) {
		p := &Policy{Mode: ModeEnforce, Rules: []Rule{
			{Name: "exempt", Detectors: []string{"d.block"}, Action: ActionNone},
			{Name: "block", Detectors: []string{"d.*"}, Action: vigil.ActionBlock},
		}}
		f := fnd("d.block", "192.0.2.1")
		if p.Stops(&f) {
			t.Error("an exempting rule above did not stop the block")
		}
	})
	t.Run("nil policy", func(t *testing.T) {
		var p *Policy
		f := fnd("d.block", "192.0.2.1")
		if p.Stops(&f) {
			t.Error("nil policy stops")
		}
	})
	t.Run("no allocation", func(t *testing.T) {
		p, f := testPolicy(ModeEnforce), fnd("d.three", "192.0.2.1")
		if n := testing.AllocsPerRun(100, func() { p.Stops(&f) }); n != 0 {
			t.Errorf("Stops allocates %v times", n)
		}
	})
}

func TestSetPolicy(t *testing.T) {
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(testPolicy(ModeEnforce), rec, WithClock(ck.now))
	f := fnd("d.block", "192.0.2.1")
	if !r.Stops(&f) {
		t.Fatal("the first policy does not stop d.block")
	}
	// Two of three towards the threshold, then a reload with fewer rules:
	// the counters start again and nothing indexes a rule that is gone.
	write(t, r, fnd("d.three", "192.0.2.9"), fnd("d.three", "192.0.2.9"))
	r.SetPolicy(&Policy{Mode: ModeEnforce, Rules: []Rule{
		{Name: "tarpit-all", Detectors: []string{"d.*"}, Action: vigil.ActionTarpit, TTL: time.Minute},
	}})
	if r.Stops(&f) {
		t.Error("after SetPolicy, d.block still stops in line")
	}
	if got := r.Stats().Thresholds; got != 0 {
		t.Errorf("%d threshold counters after SetPolicy, want 0", got)
	}
	ck.add(time.Hour) // sweep the old counters' time away
	write(t, r, fnd("d.block", "192.0.2.2"))
	acts := rec.snapshot()
	if last := acts[len(acts)-1]; last.Kind != vigil.ActionTarpit || last.Key != "addr:192.0.2.2" {
		t.Errorf("after SetPolicy the action is %+v, want a tarpit of addr:192.0.2.2", last)
	}
	if got := r.Policy().Rules[0].Name; got != "tarpit-all" {
		t.Errorf("Policy() = rule %q, want tarpit-all", got)
	}
}

func TestDecoyRule(t *testing.T) {
	p, err := ParsePolicy(strings.NewReader(`mode: enforce
rules:
  - name: decoy-enumerators
    detectors: [behavior.bola, behavior.cracking]
    action: decoy
    ttl: 1h
  - name: tarpit-probes
    detectors: [recon.probe]
    action: tarpit
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rules[0].Action != vigil.ActionDecoy || p.Rules[0].TTL != time.Hour {
		t.Fatalf("rule %+v", p.Rules[0])
	}
	ck := &clock{t: t0}
	rec := newMemRecorder()
	r := NewResponder(p, rec, WithClock(ck.now))
	// A tarpit in force is escalated to a decoy (decoy ranks above it),
	// and a decoy in force is not replaced by a tarpit.
	write(t, r, fnd("recon.probe", "192.0.2.7"), fnd("behavior.bola", "192.0.2.7"), fnd("recon.probe", "192.0.2.7"))
	acts := rec.snapshot()
	if len(acts) != 2 || acts[0].Kind != vigil.ActionTarpit || acts[1].Kind != vigil.ActionDecoy || acts[0].ID != acts[1].ID {
		t.Errorf("actions %+v: want a tarpit, then a decoy replacing it", acts)
	}
	if f := fnd("behavior.bola", "192.0.2.8"); p.Stops(&f) {
		t.Error("a decoy rule stops requests in line; it should answer them")
	}
	if _, err := ParsePolicy(strings.NewReader("mode: enforce\nrules:\n  - name: x\n    action: decoy\n    delay: 2s\n")); err == nil {
		t.Error("a decoy rule with a delay parsed")
	}
}
