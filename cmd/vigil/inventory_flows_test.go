package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/config"
)

var flowsExample = filepath.Join(examplesDir, "..", "docs", "flows.yaml")

// TestInventoryFlows suggests flows from the shop's traffic: the output
// loads as a config and holds the shop's checkout, payment required.
func TestInventoryFlows(t *testing.T) {
	for _, args := range [][]string{
		{"inventory", "flows", "--from", simTraffic, "--log-level", "warn"},
		{"inventory", "flows", "--from", simTraffic, "--spec", shopSpec, "--log-level", "warn"},
	} {
		code, out, errOut := vigilRun(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		cfg, err := config.Parse(strings.NewReader(out))
		if err != nil {
			t.Fatalf("%v: the output does not load as a config: %v\n%s", args, err, out)
		}
		var checkout *config.Flow
		for i, f := range cfg.Behavior.Flows {
			if f.Name == "checkout" {
				checkout = &cfg.Behavior.Flows[i]
			}
		}
		if checkout == nil {
			t.Fatalf("%v: no checkout flow:\n%s", args, out)
		}
		var needs []string
		for _, s := range checkout.Steps {
			if s.NeedsSuccess {
				needs = append(needs, strings.Join(s.Path, "|"))
			}
		}
		if len(needs) != 1 || needs[0] != "/api/v2/checkout/pay" {
			t.Errorf("%v: steps needing success %q, want the payment", args, needs)
		}
	}
}

// TestInventoryFlowsErrors: no store, no traffic; a spec that does not load.
func TestInventoryFlowsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"inventory", "flows", "--store", filepath.Join(dir, "missing.db")},
		{"inventory", "flows", "--from", filepath.Join(dir, "missing.jsonl")},
		{"inventory", "flows", "--from", simTraffic, "--spec", filepath.Join(dir, "missing.yaml")},
		{"inventory", "flows", "extra"},
	} {
		code, _, errOut := vigilRun(t, "", args...)
		if code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errOut)
		}
	}
}

// TestDeclaredFlowsAnalyze runs vigil analyze with the flows of
// docs/flows.yaml on hand-built traffic: the actor who completes sign-up
// without the phone check gets behavior.flow-skip, the one who does every
// step does not, and without the config file (the default checkout flow
// only) neither does.
func TestDeclaredFlowsAnalyze(t *testing.T) {
	dir := t.TempDir()
	traffic := filepath.Join(dir, "signup.jsonl")
	var lines []string
	add := func(sec int, addr, method, path string, status int) {
		lines = append(lines, fmt.Sprintf(`{"time":"2026-11-28T10:00:%02dZ","client":{"addr":%q},"request":{"method":%q,"url":"https://api.test%s","headers":{"Content-Type":["application/json"],"User-Agent":["Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"]},"body":"{}"},"response":{"status":%d,"headers":{"Content-Type":["application/json"]},"body":"{}"}}`,
			sec, addr, method, path, status))
	}
	const skipper, honest = "203.0.113.9", "198.51.100.20"
	add(1, skipper, "POST", "/api/signup", 201)
	add(2, honest, "POST", "/api/signup", 201)
	add(5, honest, "POST", "/api/signup/verify", 200)
	add(6, skipper, "POST", "/api/signup/complete", 201)
	add(9, honest, "POST", "/api/signup/complete", 201)
	if err := os.WriteFile(traffic, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  []string
		want []string // addresses with a flow-skip finding
	}{
		{"declared flows", []string{"--config", flowsExample}, []string{skipper}},
		{"default flows", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			findings := filepath.Join(dir, tc.name+".jsonl")
			args := append([]string{"analyze", "--no-store", "--findings", findings, "--log-level", "warn", traffic}, tc.cfg...)
			if code, _, errOut := vigilRun(t, "", args...); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			b, err := os.ReadFile(findings)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fd := range readFindings(t, b) {
				if fd.Detector == "behavior.flow-skip" {
					got = append(got, fd.Actor.Addr)
					if !strings.Contains(fd.Title, "signup complete without verify-phone") {
						t.Errorf("title %q does not name the flow and the skipped step", fd.Title)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("flow-skip for %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBadFlowsConfig: a flow the config refuses stops analyze with the key.
func TestBadFlowsConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("behavior:\n  flows:\n    - name: x\n      steps:\n        - {name: a, path: /a}\n        - {name: b, path: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := vigilRun(t, "", "analyze", "--no-store", "--config", bad, simTraffic)
	if code != exitUsage || !strings.Contains(errOut, "behavior.flows[0].steps[1].path") {
		t.Errorf("exit %d, stderr %q; want a usage error naming behavior.flows[0].steps[1].path", code, errOut)
	}
}
