package correlate

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

var fuzzDetectors = []string{
	"recon.probe", "recon.spec-hunting", "behavior.credential-stuffing", "behavior.cracking", "behavior.cracking-succeeded",
	"detect.auth.jwt", "detect.injection.sqli", "behavior.bola", "detect.exposure.sensitive", "detect.misconfig.verbose",
	"detect.resource.limits", "detect.crs", "incident.stage", "",
}

// fuzzStream turns bytes into findings, 5 bytes each: detector, severity,
// address, principal and fingerprint, time step.
func fuzzStream(data []byte) []vigil.Finding {
	var out []vigil.Finding
	at := t0
	for i := 0; i+5 <= len(data) && len(out) < 2000; i += 5 {
		b := data[i : i+5]
		at = at.Add(time.Duration(int8(b[4])) * time.Minute / 4) // back and forth, past the idle window at times
		f := vigil.Finding{
			ID:       fmt.Sprintf("f%d", i/5%300), // repeats: retried batches
			Detector: fuzzDetectors[int(b[0])%len(fuzzDetectors)],
			Severity: vigil.Severity(b[1] % 6), // one out of range
			Category: vigil.Category(fmt.Sprintf("API%d:2023", b[1]%11)),
			Area:     vigil.Areas[int(b[1])%len(vigil.Areas)],
			Time:     at,
			Actor:    vigil.Actor{Fingerprint: fmt.Sprintf("fp%d", b[3]%4)},
		}
		if b[2]%8 != 0 {
			f.Actor.Addr = fmt.Sprintf("192.0.2.%d", b[2]%32)
		}
		if b[3]%3 == 0 {
			f.Actor.Principal = fmt.Sprintf("jwt:%d", b[3]%5)
		}
		if b[4]%17 == 0 {
			f.Time = time.Time{}
		}
		out = append(out, f)
	}
	return out
}

// FuzzWriteFindings feeds arbitrary finding streams and checks the
// correlator's invariants: bounded state, ordered timelines, no incident
// holding two principals, and nothing lost between findings and incidents.
func FuzzWriteFindings(f *testing.F) {
	f.Add([]byte{0, 3, 1, 1, 1, 6, 3, 1, 1, 1, 8, 3, 1, 1, 1})
	f.Add([]byte{7, 4, 1, 0, 4, 7, 4, 2, 3, 4, 7, 4, 1, 3, 200, 2, 3, 0, 1, 1})
	f.Add([]byte{6, 3, 1, 1, 1, 6, 3, 2, 1, 1, 6, 3, 3, 1, 1, 6, 3, 4, 1, 1, 0, 2, 5, 1, 127})
	f.Add([]byte{8, 3, 1, 1, 1, 9, 4, 1, 1, 1, 12, 4, 1, 1, 1, 13, 4, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMem()
		c := New(Config{MaxOpen: 4, MaxTimeline: 6, MaxWaiting: 5}, m, WithSinks(m))
		fs := fuzzStream(data)
		for i := 0; i < len(fs); i += 3 {
			if err := c.WriteFindings(context.Background(), fs[i:min(i+3, len(fs))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := c.Stats()
		if st.Open > 4 || c.waiting.Len() > 5 {
			t.Fatalf("open %d, waiting %d: over the caps", st.Open, c.waiting.Len())
		}
		for _, in := range c.Snapshot() {
			if in.Closed || in.MergedInto != "" {
				t.Fatalf("open incident %s closed or merged", in.ID)
			}
		}
		total := 0
		for _, inc := range m.incidents {
			if inc.MergedInto != "" {
				continue
			}
			total += inc.Findings
			if len(inc.Timeline) > 6 || inc.Findings < len(inc.Timeline) {
				t.Fatalf("incident %s: %d timeline entries for %d findings", inc.ID, len(inc.Timeline), inc.Findings)
			}
			if !slices.IsSortedFunc(inc.Timeline, func(a, b vigil.TimelineEntry) int { return a.Time.Compare(b.Time) }) {
				t.Fatalf("incident %s: timeline out of order", inc.ID)
			}
			var ps []string
			for _, a := range inc.Actors {
				if a.Principal != "" && !slices.Contains(ps, a.Principal) {
					ps = append(ps, a.Principal)
				}
			}
			if len(ps) > 1 {
				t.Fatalf("incident %s holds principals %v", inc.ID, ps)
			}
			if inc.Score < 0 || inc.Score > 100 || len(inc.Stages) == 0 {
				t.Fatalf("incident %s: score %v, stages %v", inc.ID, inc.Score, inc.Stages)
			}
		}
		if int64(total) != st.Joined {
			t.Fatalf("incidents hold %d findings, %d joined", total, st.Joined)
		}
	})
}
