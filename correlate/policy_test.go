package correlate

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/respond"
)

// actionLog is a respond.Recorder in memory.
type actionLog struct {
	mu   sync.Mutex
	acts []vigil.Action
}

func (l *actionLog) PutAction(_ context.Context, a vigil.Action) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acts = append(l.acts, a)
	return nil
}

// TestDefaultPolicyActsOnStage runs the shipped policy on the correlator's
// stage findings: a chain no single rule blocks (tampering, then mass
// assignment, from one account on two addresses) gets both addresses and
// the account blocked; a single technique gets nothing.
func TestDefaultPolicyActsOnStage(t *testing.T) {
	tests := []struct {
		name   string
		stream []fb
		want   []string // keys blocked by block-incident-chain
	}{
		{"two techniques from one account on two addresses", []fb{
			{det: "behavior.tampering", sev: med, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "detect.mass-assignment", sev: high, addr: "198.51.100.2", principal: "jwt:9", at: time.Second},
		}, []string{"addr:198.51.100.1", "addr:198.51.100.2", "principal:jwt:9"}},
		{"one technique only", []fb{
			{det: "behavior.tampering", sev: med, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "behavior.tampering", sev: med, addr: "198.51.100.1", principal: "jwt:9", at: time.Second},
		}, nil},
		{"exposure only", []fb{
			{det: "detect.exposure.sensitive", sev: vigil.SeverityCritical, addr: "198.51.100.1", principal: "jwt:9"},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := respond.DefaultPolicy()
			p.Mode = respond.ModeEnforce
			log := &actionLog{}
			resp := respond.NewResponder(p, log, respond.WithClock(func() time.Time { return t0 }))
			c := New(Config{}, nil, WithSinks(resp))
			for _, b := range tc.stream {
				f := b.finding()
				if err := resp.WriteFindings(context.Background(), []vigil.Finding{f}); err != nil {
					t.Fatal(err)
				}
				if err := c.WriteFindings(context.Background(), []vigil.Finding{f}); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, a := range log.acts {
				if a.Kind != vigil.ActionBlock {
					t.Errorf("action %s on %s, want block", a.Kind, a.Key)
				}
				got = append(got, a.Key)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("blocked %v, want %v", got, tc.want)
			}
		})
	}
}
