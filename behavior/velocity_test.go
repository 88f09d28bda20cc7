package behavior

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// checkouts is n paid checkouts, one every gap.
func checkouts(n int, gap time.Duration) []req {
	var out []req
	for range n {
		q, p, c := quote, paid, confirm
		q.after, p.after, c.after = gap, 5*time.Second, 5*time.Second
		out = append(out, q, p, c)
	}
	return out
}

// teach has 120 shoppers complete one to three checkouts each.
func teach(t *testing.T, d *FlowDetector) {
	t.Helper()
	for i := range 120 {
		a := vigil.Actor{Principal: fmt.Sprintf("jwt:shopper-%d", i)}
		if fs, _ := playFrom(t, d, a, t0.Add(time.Duration(i)*time.Second), checkouts(1+i%3, time.Minute)); len(fs) != 0 {
			t.Fatalf("a shopper raised %v", fs)
		}
	}
}

func TestFlowVelocity(t *testing.T) {
	scalper := vigil.Actor{Principal: "jwt:scalper"}
	tests := []struct {
		name  string
		learn bool
		actor vigil.Actor
		reqs  []req
		want  int // flow-velocity findings
	}{
		{"a scalper checking out 25 times in 10 minutes", true, scalper, checkouts(25, 10*time.Second), 1},
		{"a busy honest buyer checking out 5 times", true, user, checkouts(5, time.Minute), 0},
		{"the busiest shopper, 9 checkouts, under the learned threshold", true, user, checkouts(9, 30*time.Second), 0},
		{"before learning, 20 checkouts are under the fixed ceiling", false, scalper, checkouts(20, 10*time.Second), 0},
		{"before learning, 35 checkouts are not", false, scalper, checkouts(35, 5*time.Second), 1},
		{"25 checkouts spread over hours", true, scalper, checkouts(25, 3*time.Minute), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewFlows(Config{})
			if tc.learn {
				teach(t, d)
			}
			fs, _ := playFrom(t, d, tc.actor, t0.Add(time.Hour), tc.reqs)
			got := count(fs)
			if got[DetectorFlowVelocity] != tc.want || got[DetectorFlowSkip] != 0 {
				t.Errorf("findings %v, want %d flow-velocity", got, tc.want)
			}
			for _, f := range fs {
				t.Logf("%s %v", f.Title, f.Evidence)
			}
		})
	}
}

func TestFlowVelocityLearnsLittleFromOneActor(t *testing.T) {
	d := NewFlows(Config{})
	teach(t, d)
	// A scalper completing 200 checkouts adds at most 8 samples a window.
	playFrom(t, d, vigil.Actor{Principal: "jwt:scalper"}, t0.Add(time.Hour), checkouts(200, time.Second))
	fs, _ := playFrom(t, d, vigil.Actor{Principal: "jwt:scalper-2"}, t0.Add(2*time.Hour), checkouts(25, 10*time.Second))
	if count(fs)[DetectorFlowVelocity] != 1 {
		t.Errorf("a second scalper after the first: %v", count(fs))
	}
}
