package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/store/sqlite"
)

func TestIncidentsCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "v.db")
	st, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	live := vigil.Incident{ID: "i1", ActorKey: "addr:203.0.113.9", Actors: []vigil.Actor{{Addr: "203.0.113.9"}},
		Title: "recon → exploitation (detect.injection.sqli, recon.wordlist; 1 actor)", Stage: vigil.StageExploitation,
		Stages: []vigil.Stage{vigil.StageRecon, vigil.StageExploitation}, Areas: []vigil.Area{vigil.AreaChained},
		Score: 70, Severity: vigil.SeverityCritical, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Findings: 2,
		Timeline: []vigil.TimelineEntry{
			{Time: t0, Detector: "recon.wordlist", Stage: vigil.StageRecon, Severity: vigil.SeverityMedium, Actor: "addr:203.0.113.9"},
			{Time: t0.Add(time.Minute), Detector: "detect.injection.sqli", Stage: vigil.StageExploitation, Severity: vigil.SeverityHigh, Actor: "addr:203.0.113.9"},
		}}
	merged := vigil.Incident{ID: "i2", ActorKey: "addr:203.0.113.10", FirstSeen: t0, LastSeen: t0, MergedInto: "i1"}
	for _, inc := range []vigil.Incident{live, merged} {
		if err := st.PutIncident(t.Context(), inc); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	tests := []struct {
		name      string
		args      []string
		code      int
		want, not []string
	}{
		{"list leaves merged out", []string{"incidents", "--store", db}, 0, []string{"i1", "recon→exploitation", "critical", "addr:203.0.113.9"}, []string{"i2"}},
		{"--all shows merged", []string{"incidents", "--store", db, "--all"}, 0, []string{"i1", "merged into i1"}, nil},
		{"one with its timeline", []string{"incidents", "--store", db, "i1"}, 0, []string{"Incident i1", "detect.injection.sqli", "recon.wordlist", "timeline"}, nil},
		{"unknown id", []string{"incidents", "--store", db, "i9"}, 2, nil, nil},
		{"missing store", []string{"incidents", "--store", filepath.Join(t.TempDir(), "none.db")}, 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := vigilRun(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}

	code, out, _ := vigilRun(t, "", "incidents", "--store", db, "--json")
	var got []vigil.Incident
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || len(got[0].Timeline) != 2 {
		t.Errorf("--json: exit %d, %d incidents: %s", code, len(got), out)
	}
}
