package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vigilsec/vigil/scan"
)

var (
	sarifSchemaOnce sync.Once
	sarifSchemaVal  *jsonschema.Schema
	sarifSchemaErr  error
)

// officialSARIFSchema compiles testdata/sarif-schema-2.1.0.json (the OASIS
// schema, see testdata/README.md) with format assertions on.
func officialSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sarifSchemaOnce.Do(func() {
		f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
		if err != nil {
			sarifSchemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			sarifSchemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
			sarifSchemaErr = err
			return
		}
		sarifSchemaVal, sarifSchemaErr = c.Compile("sarif-schema-2.1.0.json")
	})
	if sarifSchemaErr != nil {
		t.Fatalf("SARIF schema: %v", sarifSchemaErr)
	}
	return sarifSchemaVal
}

func validateSARIF(t *testing.T, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	return officialSARIFSchema(t).Validate(inst)
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	for name, r := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			if err := validateSARIF(t, render(t, "sarif", r)); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
}

// TestSARIFSchemaRejects shows the validator is not a rubber stamp: the
// same output with one property broken fails.
func TestSARIFSchemaRejects(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(m map[string]any)
	}{
		{"wrong version", func(m map[string]any) { m["version"] = "2.0.0" }},
		{"no tool", func(m map[string]any) { run(m)["tool"] = nil; delete(run(m), "tool") }},
		{"bad level", func(m map[string]any) { result0(m)["level"] = "critical" }},
		{"message without text", func(m map[string]any) { result0(m)["message"] = map[string]any{} }},
		{"unknown top-level property", func(m map[string]any) { m["extra"] = 1 }},
		{"bad start time", func(m map[string]any) {
			run(m)["invocations"].([]any)[0].(map[string]any)["startTimeUtc"] = "yesterday"
		}},
	}
	out := render(t, "sarif", loadReport(t, "full.json"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			tt.breakIt(m)
			b, _ := json.Marshal(m)
			if err := validateSARIF(t, b); err == nil {
				t.Error("the schema accepted a broken log")
			}
		})
	}
}

func run(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }
func result0(m map[string]any) map[string]any {
	return run(m)["results"].([]any)[0].(map[string]any)
}

func TestSARIFContent(t *testing.T) {
	r := loadReport(t, "full.json")
	log := buildSARIF(r)
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name != "vigil" || d.Version != "v0.9.0" {
		t.Errorf("driver = %s %s, want vigil v0.9.0", d.Name, d.Version)
	}
	var ruleIDs []string
	for _, rule := range d.Rules {
		ruleIDs = append(ruleIDs, rule.ID)
	}
	wantRules := []string{"bfla.admin-route", "bola.read-other-object", "errors.verbose", "headers.security",
		"info.version-header", "ratelimit.login", "sqli.error-based", "ssrf.metadata"}
	if diff := cmp.Diff(wantRules, ruleIDs); diff != "" {
		t.Errorf("rules, one per test id (-want +got):\n%s", diff)
	}
	// Results: the five failures, most severe first, each pointing at its
	// rule, with level from severity and the operation as logical location.
	type row struct{ Rule, Level, Op string }
	var got []row
	for _, res := range run.Results {
		if d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s has ruleIndex %d (%s)", res.RuleID, res.RuleIndex, d.Rules[res.RuleIndex].ID)
		}
		got = append(got, row{res.RuleID, res.Level, res.Locations[0].LogicalLocations[0].Name})
		if res.Locations[0].PhysicalLocation == nil || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "simulate/shop/openapi.yaml" {
			t.Errorf("%s: physical location = %+v, want the spec", res.RuleID, res.Locations[0].PhysicalLocation)
		}
		if res.PartialFingerprints[fingerprintKey] == "" {
			t.Errorf("%s: no fingerprint", res.RuleID)
		}
	}
	want := []row{
		{"sqli.error-based", "error", "GET /api/v2/products/search"},
		{"bola.read-other-object", "error", "GET /api/v2/orders/{id}"},
		{"ratelimit.login", "warning", "POST /api/v2/auth/login"},
		{"errors.verbose", "note", "POST /api/v2/cart/items"},
		{"info.version-header", "note", "GET /api/v2/products"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	bola := run.Results[1]
	if len(bola.Properties.Evidence) != 1 || !strings.Contains(bola.Properties.Evidence[0].Response, "user1@shop.test") {
		t.Errorf("bola evidence = %+v", bola.Properties.Evidence)
	}
	if !strings.Contains(bola.Message.Text, "bob→alice") || !strings.Contains(bola.Message.Text, "GET /api/v2/orders/{id}") {
		t.Errorf("bola message = %q", bola.Message.Text)
	}
	if rule := d.Rules[bola.RuleIndex]; rule.Properties.SecuritySeverity != "8.0" || rule.HelpURI == "" ||
		!strings.Contains(rule.Help.Text, "API1:2023 Broken Object Level Authorization") {
		t.Errorf("bola rule = %+v", rule)
	}
	inv := run.Invocations[0]
	if !inv.ExecutionSuccessful || inv.StartTimeUTC != "2026-11-29T09:00:00.000Z" {
		t.Errorf("invocation = %+v", inv)
	}
	// The errored test is a tool notification tied to its rule.
	if len(inv.Notifications) != 1 || inv.Notifications[0].AssociatedRule.ID != "ssrf.metadata" ||
		!strings.Contains(inv.Notifications[0].Message.Text, "connection refused") {
		t.Errorf("notifications = %+v", inv.Notifications)
	}
	golden(t, "full.sarif.golden", render(t, "sarif", r))
}

func TestSARIFPartialAndEmpty(t *testing.T) {
	p := buildSARIF(partialReport(t))
	inv := p.Runs[0].Invocations[0]
	if inv.ExecutionSuccessful || !p.Runs[0].Properties.Partial {
		t.Errorf("partial run: executionSuccessful=%v partial=%v", inv.ExecutionSuccessful, p.Runs[0].Properties.Partial)
	}
	if len(inv.Notifications) == 0 || !strings.Contains(inv.Notifications[0].Message.Text, "partial") {
		t.Errorf("partial run: notifications = %+v", inv.Notifications)
	}
	out := render(t, "sarif", &scan.Report{Tool: "vigil", Target: "http://127.0.0.1:1"})
	if !bytes.Contains(out, []byte(`"results": []`)) || !bytes.Contains(out, []byte(`"rules": []`)) {
		t.Errorf("empty report: want empty results and rules arrays:\n%s", out)
	}
}

func TestSpecArtifact(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"openapi.yaml", "openapi.yaml"},
		{"./api/spec.json", "api/spec.json"},
		{"/abs/dir with space/spec.yml", "/abs/dir%20with%20space/spec.yml"},
		{"http://127.0.0.1:8080/openapi.json", "http://127.0.0.1:8080/openapi.json"},
		{"Demo shop API", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := specArtifact(tt.spec); got != tt.want {
			t.Errorf("specArtifact(%q) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}
