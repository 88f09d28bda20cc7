package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/scan/discover"
	"github.com/vigilsec/vigil/simulate/shop"
)

var (
	simTraffic = filepath.Join(examplesDir, "..", "testdata", "sim", "seed7-30s.traffic.jsonl.gz")
	shopSpec   = filepath.Join(examplesDir, "..", "simulate", "shop", "openapi.yaml")
	specData   = filepath.Join(examplesDir, "..", "inventory", "spec", "testdata")
)

// TestInventoryFromTraffic runs the command on the simulator's
// traffic: the /api/v1 twins and /internal/debug come out shadow or zombie,
// the payment partner third party, and the scanner's 404s stay out.
func TestInventoryFromTraffic(t *testing.T) {
	code, out, errOut := vigilRun(t, "", "inventory", "--from", simTraffic, "--spec", shopSpec, "--json", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var es []inventory.Entry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatalf("not JSON entries: %v\n%.300s", err, out)
	}
	got := map[string]inventory.Class{}
	for _, e := range es {
		got[e.Method+" "+e.Host+e.Template] = e.Class
		if e.Class == inventory.Unanswered {
			t.Errorf("unanswered %s listed without --all", e.Template)
		}
	}
	for ep, want := range map[string][]inventory.Class{
		"GET 127.0.0.1/api/v1/users/{id}":             {inventory.Zombie},
		"GET 127.0.0.1/api/v1/orders/{id}":            {inventory.Zombie},
		"GET 127.0.0.1/internal/debug":                {inventory.Shadow, inventory.Zombie},
		"POST payments.partner.test/v1/charges":       {inventory.ThirdParty},
		"GET 127.0.0.1/api/v2/products/{id}":          {inventory.Documented, inventory.Drift},
		"PATCH 127.0.0.1/api/v2/users/me":             {inventory.Drift},
		"GET 127.0.0.1/api/v2/giftcards/{id}/balance": {inventory.Documented, inventory.Drift},
	} {
		ok := false
		for _, w := range want {
			ok = ok || got[ep] == w
		}
		if !ok {
			t.Errorf("%s: %q, want one of %v", ep, got[ep], want)
		}
	}
	// The table form says the same, with a summary line.
	code, out, _ = vigilRun(t, "", "inventory", "--from", simTraffic, "--spec", shopSpec, "--log-level", "warn")
	if code != exitOK || !strings.Contains(out, "zombie") || !strings.Contains(out, "endpoints:") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

func TestInventoryExport(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "observed.yaml")
	code, _, errOut := vigilRun(t, "", "inventory", "export", "--openapi", "--from", simTraffic, "-o", outFile, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s, err := spec.Load(outFile)
	if err != nil {
		t.Fatalf("the export does not load: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("the export does not validate: %v", err)
	}
	if s.Format != spec.FormatOpenAPI31 || len(s.Ops) < 20 {
		t.Errorf("export: %s with %d operations", s.Format, len(s.Ops))
	}
	code, _, errOut = vigilRun(t, "", "inventory", "export", "--from", simTraffic)
	if code != exitUsage || !strings.Contains(errOut, "--openapi") {
		t.Errorf("export without a format: exit %d, %s", code, errOut)
	}
}

func TestInventoryDiff(t *testing.T) {
	code, out, errOut := vigilRun(t, "", "inventory", "diff", "--spec", shopSpec, "--from", simTraffic, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "\ndocumented ") || !strings.Contains(out, "\nshadow ") {
		t.Errorf("diff lists documented endpoints or lacks the shadow ones:\n%s", out)
	}
	code, out, errOut = vigilRun(t, "", "inventory", "diff", "--spec", filepath.Join(specData, "compare-new.yaml"),
		"--against", filepath.Join(specData, "compare-old.yaml"), "--json")
	if code != exitOK {
		t.Fatalf("spec diff: exit %d: %s", code, errOut)
	}
	var res struct {
		Changes []spec.Change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Changes) == 0 {
		t.Errorf("spec diff: %v, %d changes\n%s", err, len(res.Changes), out)
	}
	kinds := map[string]bool{}
	for _, c := range res.Changes {
		kinds[c.Kind] = true
	}
	for _, k := range []string{spec.ChangeRemoved, spec.ChangeBreaking} {
		if !kinds[k] {
			t.Errorf("spec diff reports no %q change: %+v", k, res.Changes)
		}
	}
}

func TestInventoryErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("not: [a spec"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inventory", "--from", simTraffic, "--spec", bad},
		{"inventory", "--from", filepath.Join(dir, "missing.jsonl")},
		{"inventory", "--store", filepath.Join(dir, "missing.db")},
		{"inventory", "diff", "--from", simTraffic},
	} {
		code, _, errOut := vigilRun(t, "", args...)
		if code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errOut)
		}
	}
}

func TestActionsCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "v.db")
	// A store must exist: create one through analyze.
	if code, _, errOut := vigilRun(t, "", "analyze", "--store", db, "--log-level", "warn", filepath.Join(examplesDir, "shop-traffic.jsonl")); code != exitOK && code != exitFindings {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	code, out, errOut := vigilRun(t, "", "actions", "add", "--store", db, "--key", "addr:203.0.113.9", "--kind", "block", "--ttl", "1h", "--reason", "test")
	if code != exitOK {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	code, out, _ = vigilRun(t, "", "actions", "list", "--store", db)
	if code != exitOK || !strings.Contains(out, id) || !strings.Contains(out, "addr:203.0.113.9") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"actions", "add", "--store", db, "--key", "203.0.113.9", "--kind", "block"},
		{"actions", "add", "--store", db, "--key", "addr:1.2.3.4", "--kind", "explode"},
		{"actions", "remove", "--store", db, "nope"},
		{"actions", "list", "--store", filepath.Join(dir, "missing.db")},
	} {
		if code, _, _ := vigilRun(t, "", bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
	if code, out, _ := vigilRun(t, "", "actions", "remove", "--store", db, id); code != exitOK || !strings.Contains(out, "removed") {
		t.Errorf("remove: exit %d %s", code, out)
	}
	if code, out, _ := vigilRun(t, "", "actions", "list", "--store", db); code != exitOK || strings.Contains(out, id) {
		t.Errorf("after remove: exit %d\n%s", code, out)
	}
}

// TestDiscoverShop runs vigil discover against the real demo shop: the
// /api/v1 twins come out as zombies, /internal/debug as shadow.
func TestDiscoverShop(t *testing.T) {
	sh, err := shop.Start(t.Context(), shop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	code, out, errOut := vigilRun(t, "", "discover", "--target", sh.URL(), "--spec", shopSpec, "--rate", "2000", "--concurrency", "8", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep discover.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rep.Found {
		got[r.Path] = r.Class
	}
	if got["/internal/debug"] != discover.ClassShadow || got["/api/v1/users/1"] != discover.ClassZombie {
		t.Errorf("found %v, want /internal/debug shadow and /api/v1/users/1 zombie", got)
	}
	if code, _, _ := vigilRun(t, "", "discover", "--target", "ftp://127.0.0.1/"); code != exitUsage {
		t.Errorf("ftp target: exit %d, want %d", code, exitUsage)
	}
}
