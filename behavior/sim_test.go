package behavior

import (
	"context"
	"sort"
	"strconv"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/simulate"
)

const (
	simTraffic = "../testdata/sim/seed7-30s.traffic.jsonl.gz"
	simTruth   = "../testdata/sim/seed7-30s.truth.jsonl.gz"
)

// simTruthActors maps each simulated actor's address to its campaign and
// actor id.
func simTruthActors(t testing.TB) (campaign, actor map[string]string) {
	t.Helper()
	lines, err := simulate.ReadTruthFile(simTruth)
	if err != nil {
		t.Fatal(err)
	}
	campaign, actor = map[string]string{}, map[string]string{}
	for _, l := range lines {
		campaign[l.Addr], actor[l.Addr] = l.Campaign, l.Actor
	}
	return campaign, actor
}

// simRun is what a run of detectors over the recorded simulator traffic
// found.
type simRun struct {
	got             map[string]map[string]int // simulated actor id → detector → findings
	benign, attack  map[string]int            // detector → findings on benign and attacking actors
	n, unlabelled   int                       // exchanges, and those without a truth line
	campaign, actor map[string]string         // from simTruthActors
}

// runSim feeds the recorded simulator traffic to the detectors and fails t
// for every finding on a benign or unlabelled actor.
func runSim(t *testing.T, detectors ...vigil.Analyzer) simRun {
	t.Helper()
	campaign, actor := simTruthActors(t)
	xs, err := ingest.ReadAll(simTraffic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := simRun{got: map[string]map[string]int{}, benign: map[string]int{}, attack: map[string]int{}, campaign: campaign, actor: actor}
	for _, x := range xs {
		r.n++
		if _, ok := campaign[x.Actor.Addr]; !ok {
			r.unlabelled++ // the shop's own calls to its payment partner
		}
		for _, d := range detectors {
			fs, err := d.Analyze(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				id, c := actor[f.Actor.Addr], campaign[f.Actor.Addr]
				if r.got[id] == nil {
					r.got[id] = map[string]int{}
				}
				r.got[id][f.Detector]++
				if c == simulate.CampaignBenign || c == "" {
					r.benign[f.Detector]++
					t.Errorf("benign or unlabelled actor %q (%s): %s %v", id, f.Actor.Addr, f, f.Evidence)
				} else {
					r.attack[f.Detector]++
					t.Logf("%s/%s: %s", c, id, f)
				}
			}
		}
	}
	return r
}

func TestSimulatorTraffic(t *testing.T) {
	detectors := All(Config{})
	r := runSim(t, detectors...)
	got, benign, attack, n, unlabelled := r.got, r.benign, r.attack, r.n, r.unlabelled
	campaign, actor := r.campaign, r.actor
	if n < 1000 {
		t.Fatalf("only %d exchanges", n)
	}
	t.Logf("%d exchanges, %d without a truth line", n, unlabelled)
	t.Logf("attack actors: %v", sortedCounts(attack))
	t.Logf("benign actors: %v", sortedCounts(benign))
	for _, want := range []struct{ actor, detector string }{
		{"bl-giftcard-cracker", DetectorCracking},
		{"bl-giftcard-cracker", DetectorCrackingSucceeded},
		{"bl-coupon-cracker", DetectorCracking},
		{"bl-skip-payment", DetectorFlowSkip},
		{"bl-tamper", DetectorTampering},
	} {
		if got[want.actor][want.detector] == 0 {
			t.Errorf("%s got no %s (got %v)", want.actor, want.detector, got[want.actor])
		}
	}
	// The automation campaign rotates identities every few requests but
	// keeps three accounts: each account is one actor posing as browsers.
	autoFound := 0
	for id, c := range got {
		if campaign[addrOf(actor, id)] == simulate.CampaignAutomation && c[DetectorAutomation] > 0 {
			autoFound++
		}
	}
	if autoFound == 0 {
		t.Errorf("no automation finding on the automation campaign")
	}
	if attack[DetectorPromptInjection] == 0 {
		t.Errorf("the automation campaign's prompt injection raised nothing")
	}
	// The checkout of the gift-card cracker and of the tamperer was paid.
	for _, id := range []string{"bl-giftcard-cracker", "bl-tamper"} {
		if got[id][DetectorFlowSkip] != 0 {
			t.Errorf("%s paid but got a flow skip", id)
		}
	}
	for _, d := range detectors {
		t.Logf("%T stats: %+v", d, d.(interface{ Stats() Stats }).Stats())
	}
}

// addrOf returns an address of the simulated actor id.
func addrOf(actor map[string]string, id string) string {
	for addr, a := range actor {
		if a == id {
			return addr
		}
	}
	return ""
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+strconv.Itoa(v))
	}
	sort.Strings(out)
	return out
}
