package shop

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/vigilsec/vigil"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(Spec())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	return doc
}

func TestSpecValidates(t *testing.T) {
	doc := loadSpec(t)
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.yaml does not validate: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi version %q, want 3.1.0", doc.OpenAPI)
	}
}

// TestSpecValidateCatchesErrors shows the validation is not a no-op: a
// broken copy of the spec fails.
func TestSpecValidateCatchesErrors(t *testing.T) {
	for _, tt := range []struct{ name, from, to string }{
		{"bad ref", `$ref: "#/components/schemas/Order"}`, `$ref: "#/components/schemas/Nope"}`},
		{"path param not declared", "/api/v2/orders/{id}:", "/api/v2/orders/{order}:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(string(Spec()), tt.from, tt.to, 1)
			if broken == string(Spec()) {
				t.Fatalf("%q not in the spec", tt.from)
			}
			doc, err := openapi3.NewLoader().LoadFromData([]byte(broken))
			if err == nil {
				err = doc.Validate(t.Context())
			}
			if err == nil {
				t.Error("a broken spec loaded and validated")
			}
		})
	}
}

// specOps lists "METHOD /path/{param}" for every operation in the spec.
func specOps(t *testing.T) []string {
	var ops []string
	for path, item := range loadSpec(t).Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// TestRoutesMatchSpec: every documented route the shop serves is in the
// spec, every spec operation is served, and no shadow route is documented.
func TestRoutesMatchSpec(t *testing.T) {
	ops := specOps(t)
	var served []string
	a := &app{}
	for _, rt := range a.routes() {
		op := rt.method + " " + rt.path
		switch rt.kind {
		case kindAPI:
			served = append(served, op)
			if !slices.Contains(ops, op) {
				t.Errorf("%s is served and documented-kind but missing from openapi.yaml", op)
			}
		case kindShadow:
			if slices.Contains(ops, op) {
				t.Errorf("shadow route %s is in openapi.yaml", op)
			}
			if strings.HasPrefix(rt.path, "/api/v2/") {
				t.Errorf("shadow route %s under /api/v2", op)
			}
		case kindMeta:
			if slices.Contains(ops, op) {
				t.Errorf("meta route %s is in openapi.yaml", op)
			}
		default:
			t.Errorf("%s: unknown kind %q", op, rt.kind)
		}
	}
	for _, op := range ops {
		if !slices.Contains(served, op) {
			t.Errorf("openapi.yaml documents %s, which the shop does not serve", op)
		}
		if !strings.Contains(op, " /api/v2/") {
			t.Errorf("openapi.yaml documents %s outside /api/v2", op)
		}
	}
	if len(ops) < 25 {
		t.Errorf("only %d operations in the spec", len(ops))
	}
}

// TestGroundTruthMatchesRoutes: every entry names a served route, and its
// in_spec agrees with the spec.
func TestGroundTruthMatchesRoutes(t *testing.T) {
	vulns, err := GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	ops := specOps(t)
	kinds := map[string]string{}
	for _, rt := range (&app{}).routes() {
		kinds[rt.method+" "+rt.path] = rt.kind
	}
	areas := map[vigil.Area]int{}
	for _, v := range vulns {
		op := v.Method + " " + v.Path
		kind, served := kinds[op]
		if !served {
			t.Errorf("%s: %s is not a route of the shop", v.ID, op)
		}
		if got := slices.Contains(ops, op); got != v.InSpec {
			t.Errorf("%s: in_spec %v, but %s in openapi.yaml is %v", v.ID, v.InSpec, op, got)
		}
		if (kind == kindShadow) == v.InSpec {
			t.Errorf("%s: in_spec %v for a %s route", v.ID, v.InSpec, kind)
		}
		areas[v.Area]++
	}
	for _, a := range vigil.Areas {
		if areas[a] == 0 {
			t.Errorf("no planted vulnerability in area %s", a)
		}
	}
	for _, id := range []string{"bola-orders", "bola-addresses", "bfla-admin-coupons", "mass-assignment-role", "mass-assignment-price",
		"excessive-data-exposure", "sqli-search", "ssrf-import", "jwt-alg-none", "no-rate-limit-login", "no-rate-limit-giftcard",
		"skip-payment", "shadow-v1-users", "shadow-v1-orders", "debug-endpoint", "zombie-export", "verbose-errors", "prompt-injection"} {
		if !slices.ContainsFunc(vulns, func(v Vuln) bool { return v.ID == id }) {
			t.Errorf("ground truth lacks %s", id)
		}
	}
}

func TestServedSpecIsTheSpec(t *testing.T) {
	s := startShop(t)
	c := newClient(t, s)
	r := c.call("GET", "/openapi.json", "", nil)
	if r.status != 200 || r.str("openapi") != "3.1.0" {
		t.Fatalf("GET /openapi.json = %v", r)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.raw)
	if err != nil {
		t.Fatalf("served spec does not load: %v", err)
	}
	want := loadSpec(t)
	got, _ := json.Marshal(doc.Paths.Map())
	exp, _ := json.Marshal(want.Paths.Map())
	if string(got) != string(exp) {
		t.Error("the served /openapi.json differs from openapi.yaml")
	}
}
