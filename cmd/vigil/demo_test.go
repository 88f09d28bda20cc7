package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/simulate"
	"github.com/vigilsec/vigil/store/sqlite"
)

// TestDemo runs the whole demo, shortened: shop, proxy, dashboard and
// simulator on loopback, then the scorecard. CI also runs the README's
// command at its documented length.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for 12 s")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := vigilRun(t, "", "demo", "--duration", "12s", "--dir", "run", "--capture", "--enforce", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	for _, want := range []string{"shop API", "vigil proxy", "dashboard: http://127.0.0.1:", "?token=", "simulator", "attack goals reached"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "areas detected") && !strings.Contains(out, "of 4") {
		t.Errorf("no scorecard on stdout:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join("run", "scorecard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var card simulate.Scorecard
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	if card.Areas != 4 || len(card.Campaigns) != 4 {
		t.Errorf("scorecard covers %d areas, %d campaigns; want 4 and 4", card.Areas, len(card.Campaigns))
	}
	for _, c := range card.Campaigns {
		if !c.Simulated || c.Requests == 0 {
			t.Errorf("campaign %s sent no requests", c.Campaign)
		}
	}
	// With --enforce, attackers are stopped and nobody else is.
	if card.Benign.RequestsBlocked != 0 {
		t.Errorf("%d benign requests blocked, want 0", card.Benign.RequestsBlocked)
	}
	blocked := 0
	for _, c := range card.Campaigns {
		if c.BlockedRequests > 0 {
			blocked++
		}
	}
	if blocked < 2 {
		t.Errorf("%d campaigns blocked in enforce mode, want at least 2 in 12 s", blocked)
	}
	if !strings.Contains(out, "API inventory against the shop's spec") || !strings.Contains(out, "third-party  POST payments.partner.test") {
		t.Errorf("no inventory summary with the third-party partner:\n%s", out)
	}
	if card.Benign.Requests == 0 || card.Findings.Read == 0 {
		t.Errorf("benign requests %d, findings read %d: the proxy recorded nothing", card.Benign.Requests, card.Findings.Read)
	}
	for _, f := range []string{"vigil.db", "truth.jsonl"} {
		if _, err := os.Stat(filepath.Join("run", f)); err != nil {
			t.Error(err)
		}
	}
	checkCapture(t, filepath.Join("run", "traffic.jsonl"), filepath.Join("run", "truth.jsonl"))

}

// TestDemoGroundTruth runs the demo in monitor mode, so that the simulator
// exploits what it can, and holds issue #5's acceptance on live traffic:
// every planted vulnerability an attacker exploited is detected.
func TestDemoGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for 30 s")
	}
	t.Chdir(t.TempDir())
	if code, _, errOut := vigilRun(t, "", "demo", "--duration", "30s", "--dir", "run", "--log-level", "warn"); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join("run", "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.Findings(t.Context(), vigil.FindingFilter{Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := simulate.ReadTruthFile(filepath.Join("run", "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	exploited, _ := checkGroundTruth(t, fs, truth, nil)
	if exploited < 15 {
		t.Errorf("only %d planted vulnerabilities exploited in 30 s", exploited)
	}
}

// checkCapture: the captured traffic has one exchange per request the
// simulator sent, each with the actor the proxy resolved (the simulator's
// address per actor), and no credential in clear.
func checkCapture(t *testing.T, traffic, truth string) {
	t.Helper()
	src, err := ingest.Open(traffic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	addrs := map[string]bool{}
	n, withPrincipal, egress := 0, 0, 0
	for {
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("capture record: %v", err)
		}
		if x.Request.Host() == partnerHost {
			egress++ // the shop's calls to its partner, through the egress proxy
			continue
		}
		n++
		addrs[x.Actor.Addr] = true
		if x.Actor.Principal != "" {
			withPrincipal++
		}
		if auth := x.Request.Header.Get("Authorization"); auth != "" && !strings.Contains(auth, "REDACTED") {
			t.Fatalf("capture keeps a credential: %q", auth)
		}
	}
	lines, err := simulate.ReadTruthFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	sent, actors := 0, map[string]bool{}
	for _, l := range lines {
		if l.Status != 0 {
			sent++
			actors[l.Addr] = true
		}
	}
	if n != sent {
		t.Errorf("capture holds %d exchanges, the simulator got %d responses", n, sent)
	}
	for a := range actors {
		if !addrs[a] {
			t.Errorf("actor %s of the truth is missing from the capture's actors", a)
		}
	}
	if withPrincipal == 0 {
		t.Error("no captured exchange carries a principal")
	}
	if egress == 0 {
		t.Error("no call to the payment partner went through the egress proxy")
	}
}
