package correlate

import (
	"compress/gzip"
	"context"
	"os"
	"slices"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/detect"
	reconpkg "github.com/vigilsec/vigil/inventory/recon"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/simulate"
)

const (
	simTraffic = "../testdata/sim/seed7-30s.traffic.jsonl.gz"
	simTruth   = "../testdata/sim/seed7-30s.truth.jsonl.gz"
)

// Findings and Incidents make memStore a simulate.FindingSource and
// IncidentSource.
func (m *memStore) Findings(_ context.Context, _ vigil.FindingFilter) ([]vigil.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.findings), nil
}

func (m *memStore) Incidents(_ context.Context) ([]vigil.Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []vigil.Incident
	for _, inc := range m.incidents {
		out = append(out, inc)
	}
	return out, nil
}

// TestSimulatorTraffic replays the 30 s demo capture through the detectors
// and the correlator and scores the incidents against the truth: every
// attacker the detectors saw is in exactly one incident, incidents hold no
// benign actor, and each campaign's incidents carry its own area.
func TestSimulatorTraffic(t *testing.T) {
	xs, err := ingest.ReadAll(simTraffic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := detect.New(detect.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	analyzers := append(ds, reconpkg.New(reconpkg.Config{}))
	analyzers = append(analyzers, behavior.All(behavior.Config{})...)

	ctx := context.Background()
	m := newMem()
	c := New(Config{}, m, WithSinks(m))
	for _, x := range xs {
		for _, a := range analyzers {
			fs, err := a.Analyze(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) == 0 {
				continue
			}
			if err := m.WriteFindings(ctx, fs); err != nil {
				t.Fatal(err)
			}
			if err := c.WriteFindings(ctx, fs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(simTruth)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := simulate.Evaluate(ctx, gz, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("correlator: %+v", c.Stats())
	for _, f := range m.findings {
		if f.Detector == DetectorStage {
			t.Logf("stage finding %s %s %s", f.Severity, f.Actor.Key(), f.Title)
		}
	}
	for _, inc := range m.live() {
		t.Logf("incident %s: %s score %g areas %v stages %v findings %d actors %d", inc.ID, inc.Title, inc.Score, inc.Areas, inc.Stages, inc.Findings, len(inc.Actors))
	}
	if sc.Incidents == nil {
		t.Fatal("no incident scoring: memStore is an IncidentSource")
	}
	if sc.Benign.Incidents != 0 || sc.Incidents.Benign != 0 {
		t.Errorf("%d incidents hold benign actors (%d actors), want 0", sc.Benign.Incidents, sc.Benign.ActorsInIncidents)
	}
	for _, cs := range sc.Campaigns {
		ic := cs.Incidents
		t.Logf("%s: %d incidents, %d of %d attackers in one, stages %v areas %v, shared %d", cs.Campaign, ic.Incidents, ic.InOne, ic.Attackers, ic.Stages, ic.Areas, ic.Shared)
		if ic.Attackers == 0 || ic.InOne != ic.Attackers {
			t.Errorf("%s: %d of %d attackers in exactly one incident (%d in none, %d in several)", cs.Campaign, ic.InOne, ic.Attackers, ic.InNone, ic.InMany)
		}
		if ic.Shared != 0 {
			t.Errorf("%s: %d incidents shared with other campaigns or benign actors", cs.Campaign, ic.Shared)
		}
		if !slices.Contains(ic.Areas, cs.Area) {
			t.Errorf("%s: incident areas %v lack the campaign's own", cs.Campaign, ic.Areas)
		}
		if ic.TimeToIncidentMS == nil {
			t.Errorf("%s: no time to incident", cs.Campaign)
		}
	}
	// Stages the capture shows, campaign by campaign (at least these: other
	// detectors may add more).
	want := map[string][]vigil.Stage{
		simulate.CampaignBusinessLogic: {vigil.StageCredentialAccess, vigil.StageExploitation},
		simulate.CampaignChained:       {vigil.StageRecon, vigil.StageCredentialAccess, vigil.StageExploitation},
		simulate.CampaignShadow:        {vigil.StageRecon, vigil.StageExfiltration},
		simulate.CampaignAutomation:    {vigil.StageExploitation},
	}
	for _, cs := range sc.Campaigns {
		for _, st := range want[cs.Campaign] {
			if !slices.Contains(cs.Incidents.Stages, st) {
				t.Errorf("%s: stages %v lack %s", cs.Campaign, cs.Incidents.Stages, st)
			}
		}
	}
}
