package inventory

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate"
)

func TestMassAssignment(t *testing.T) {
	set := shopSpec(t)
	d := NewMassAssignment(set)
	req := func(method, path, body string) *vigil.Exchange {
		h := http.Header{}
		if body != "" {
			h.Set("Content-Type", "application/json")
		}
		return &vigil.Exchange{Time: time.Now(), Request: vigil.Request{Method: method,
			URL: &url.URL{Scheme: "http", Host: "10.0.0.5:8080", Path: path}, Header: h, Body: []byte(body)}}
	}
	for _, c := range []struct {
		name string
		x    *vigil.Exchange
		want vigil.Severity // 0: no finding
	}{
		{"role in a profile update", req("PATCH", "/api/v2/users/me", `{"name":"Ann","role":"admin"}`), vigil.SeverityHigh},
		{"price in a cart item", req("POST", "/api/v2/cart/items", `{"product_id":3,"quantity":1,"price":0.01}`), vigil.SeverityHigh},
		{"an odd but harmless property", req("PATCH", "/api/v2/users/me", `{"name":"Ann","nickname":"A"}`), vigil.SeverityMedium},
		{"a documented update", req("PATCH", "/api/v2/users/me", `{"name":"Ann"}`), 0},
		{"a documented cart item", req("POST", "/api/v2/cart/items", `{"product_id":3,"quantity":1}`), 0},
		{"GET is not assignment", req("GET", "/api/v2/users/me", ""), 0},
		{"undocumented endpoint", req("POST", "/api/v1/users/7", `{"role":"admin"}`), 0},
		{"not JSON", req("POST", "/api/v2/cart/items", ""), 0},
		{"broken JSON", req("POST", "/api/v2/cart/items", `{"role":`), 0},
	} {
		fs, err := d.Analyze(t.Context(), c.x)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.want == 0 && len(fs) > 0:
			t.Errorf("%s: %s", c.name, fs[0].Title)
		case c.want != 0 && (len(fs) != 1 || fs[0].Severity != c.want):
			t.Errorf("%s: %+v, want one finding at %s", c.name, fs, c.want)
		}
	}
	if fs, _ := NewMassAssignment(nil).Analyze(t.Context(), req("PATCH", "/api/v2/users/me", `{"role":"admin"}`)); len(fs) != 0 {
		t.Error("no spec, yet a finding")
	}
}

// TestMassAssignmentSimulator: on the simulator's traffic, only attackers
// set undocumented properties.
func TestMassAssignmentSimulator(t *testing.T) {
	campaign := truthCampaigns(t, "../testdata/sim/seed7-30s.truth.jsonl.gz")
	d := NewMassAssignment(shopSpec(t))
	counts := map[string]int{}
	for _, x := range readTraffic(t, shopTraffic) {
		fs, err := d.Analyze(t.Context(), x)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) == 0 {
			continue
		}
		c := campaign[x.Actor.Addr]
		counts[c]++
		if c == "benign" {
			t.Errorf("benign actor %s: %s", x.Actor.Addr, fs[0].Title)
		}
	}
	t.Logf("mass-assignment findings by campaign: %v", counts)
	if counts["business-logic"]+counts["chained"]+counts["automation"] == 0 {
		t.Error("no attacker was caught setting an undocumented property")
	}
}

// truthCampaigns maps each simulated actor's address to its campaign.
func truthCampaigns(t *testing.T, path string) map[string]string {
	t.Helper()
	lines, err := simulate.ReadTruthFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range lines {
		m[l.Addr] = l.Campaign
	}
	return m
}
