package inventory

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory/spec"
)

func shopSpec(t testing.TB) *spec.Set {
	t.Helper()
	b, err := os.ReadFile("../simulate/shop/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("openapi.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return spec.NewSet(s)
}

func entryMap(es []Entry) map[string]Entry {
	m := map[string]Entry{}
	for _, e := range es {
		m[e.Method+" "+e.Template] = e
	}
	return m
}

// TestClassifyShopTraffic holds the simulator's traffic against the shop's
// spec: the /api/v1 twins are zombies of their /api/v2 versions,
// /internal/debug and the undocumented v1 endpoints are shadow, the payment
// partner is third party, the scanner's guesses are unanswered, documented
// endpoints are documented or drift, and documented endpoints the
// simulator never called are orphans.
func TestClassifyShopTraffic(t *testing.T) {
	for _, c := range []struct {
		name  string
		first []string
	}{
		{"first party configured", []string{"127.0.0.1"}},
		{"first party inferred from the spec", nil},
	} {
		t.Run(c.name, func(t *testing.T) { testClassifyShopTraffic(t, c.first) })
	}
}

func testClassifyShopTraffic(t *testing.T, first []string) {
	inv := New(Config{FirstParty: first})
	for _, x := range readTraffic(t, shopTraffic) {
		inv.Observe(x)
	}
	es := Classify(inv.Profiles(), shopSpec(t))
	m := entryMap(es)
	if e := m["POST /v1/charges"]; e.Class != ThirdParty || e.Host != "payments.partner.test" {
		t.Errorf("the payment partner: %+v, want third-party", e)
	}
	for _, c := range []struct {
		ep   string
		want []Class
	}{
		{"GET /api/v1/users/{id}", []Class{Zombie}},
		{"GET /api/v1/orders/{id}", []Class{Zombie}},
		{"GET /api/v1/account", []Class{Shadow, Zombie}},
		{"GET /api/v1/export/users", []Class{Shadow, Zombie}},
		{"GET /internal/debug", []Class{Shadow}},
		{"GET /.env", []Class{Unanswered}},
		{"GET /api/v2/products/{id}", []Class{Documented, Drift}},
		{"POST /api/v2/auth/login", []Class{Documented, Drift}},
		{"GET /api/v2/giftcards/{id}/balance", []Class{Documented, Drift}},
	} {
		e, ok := m[c.ep]
		if !ok {
			t.Errorf("%s: not classified", c.ep)
			continue
		}
		found := false
		for _, w := range c.want {
			found = found || e.Class == w
		}
		if !found {
			t.Errorf("%s: %s (%v), want one of %v", c.ep, e.Class, e.Reasons, c.want)
		}
	}
	if e := m["GET /api/v1/users/{id}"]; e.SpecOp != "GET /api/v2/users/{id}" {
		t.Errorf("v1 users twin: %q, want GET /api/v2/users/{id}", e.SpecOp)
	}
	counts := map[Class]int{}
	for _, e := range es {
		counts[e.Class]++
		if e.Class == Shadow && !strings.HasPrefix(e.Template, "/api/v1") && e.Template != "/internal/debug" && e.Template != "/" && e.Template != "/openapi.json" {
			t.Errorf("unexpected shadow endpoint %s %s: %v", e.Method, e.Template, e.Reasons)
		}
	}
	t.Logf("classes: %v", counts)
	if counts[Orphan] == 0 {
		t.Error("no orphan: the simulator does not call every documented operation")
	}
}

func TestClassifyDrift(t *testing.T) {
	set := shopSpec(t)
	inv := New(Config{})
	now := time.Now()
	// /api/v2/users/me requires a token in the spec; answer it 200 without one.
	x := exchangeTo("127.0.0.1:8080", "GET", "/api/v2/users/me", 200, now)
	x.Request.URL.RawQuery = "debug=1"
	x.Response.Header.Set("Content-Type", "text/html")
	inv.Observe(x)
	y := exchangeTo("127.0.0.1:8080", "GET", "/api/v2/users/me", 418, now)
	inv.Observe(y)
	// A role in the profile update is not in the spec: mass assignment.
	z := exchangeTo("127.0.0.1:8080", "PATCH", "/api/v2/users/me", 200, now)
	z.Request.Header.Set("Content-Type", "application/json")
	z.Request.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	z.Request.Body = []byte(`{"name":"Ann","role":"admin"}`)
	z.Response.Header.Set("Content-Type", "application/json")
	z.Response.Body = []byte(`{"id":1,"name":"Ann","email":"ann@shop.test","role":"admin","password_hash":"$2b$10$abcdefghijklmnopqrstuuq0d5qYQ3Q0b5oM8Z0m1ZbQe7vJ2w8y"}`)
	inv.Observe(z)
	es := Classify(inv.Profiles(), set)
	patch := entryMap(es)["PATCH /api/v2/users/me"]
	if !strings.Contains(strings.Join(patch.Reasons, "\n"), "undocumented request fields: role") {
		t.Errorf("PATCH users/me reasons %v, want the undocumented role field", patch.Reasons)
	}
	if !strings.Contains(strings.Join(patch.Reasons, "\n"), "password_hash (password)") {
		t.Errorf("PATCH users/me reasons %v, want the undeclared password hash", patch.Reasons)
	}
	e := entryMap(es)["GET /api/v2/users/me"]
	if e.Class != Drift {
		t.Fatalf("class %s, want drift", e.Class)
	}
	all := strings.Join(e.Reasons, "\n")
	for _, want := range []string{"query debug", "418", "text/html", "requires authentication"} {
		if !strings.Contains(all, want) {
			t.Errorf("drift reasons lack %q:\n%s", want, all)
		}
	}
}

func TestClassifyWithoutSpec(t *testing.T) {
	inv := New(Config{FirstParty: []string{"shop.test"}})
	now := time.Now()
	inv.Observe(exchangeTo("shop.test", "GET", "/api/v2/orders", 200, now))
	inv.Observe(exchangeTo("payments.partner.test", "POST", "/v1/charges", 201, now))
	inv.Observe(exchangeTo("shop.test", "GET", "/.git/config", 404, now))
	m := entryMap(Classify(inv.Profiles(), nil))
	for ep, want := range map[string]Class{"GET /api/v2/orders": Shadow, "POST /v1/charges": ThirdParty, "GET /.git/config": Unanswered} {
		if got := m[ep].Class; got != want {
			t.Errorf("%s: %s, want %s", ep, got, want)
		}
	}
}

// TestClassifyHostAlias: a spec naming its production host still matches
// first-party traffic that reaches the API by another name, never a third
// party's.
func TestClassifyHostAlias(t *testing.T) {
	s, err := spec.Parse("api.yaml", []byte(`openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: "https://api.shop.test/v2"}]
paths:
  /orders/{id}:
    get:
      responses: {"200": {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	inv := New(Config{FirstParty: []string{"10.0.0.5:8080"}})
	now := time.Now()
	inv.Observe(exchangeTo("10.0.0.5:8080", "GET", "/v2/orders/7", 200, now))
	inv.Observe(exchangeTo("partner.test", "GET", "/v2/orders/7", 200, now))
	got := map[string]Class{}
	for _, e := range Classify(inv.Profiles(), spec.NewSet(s)) {
		got[e.Host] = e.Class
	}
	if got["10.0.0.5"] != Documented || got["partner.test"] != ThirdParty {
		t.Errorf("classes %v, want the alias documented and the partner third party", got)
	}
}

// TestExportShopTraffic: the spec reconstructed from the simulator's traffic
// validates as OpenAPI 3.1, holds the endpoints that answer (the shadow and
// zombie ones too) and not the scanner's 404s, and round-trips through the
// spec loader: the shop's own documented operations match it.
func TestExportShopTraffic(t *testing.T) {
	inv := New(Config{FirstParty: []string{"127.0.0.1"}})
	for _, x := range readTraffic(t, shopTraffic) {
		inv.Observe(x)
	}
	doc, err := Export(inv.Profiles(), ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"openapi":"3.1.0"`) {
		t.Errorf("not a 3.1 document: %.200s", b)
	}
	got, err := spec.Parse("exported.json", b)
	if err != nil {
		t.Fatalf("the exported spec does not load back: %v", err)
	}
	set := spec.NewSet(got)
	for _, want := range []struct{ method, path string }{
		{"GET", "/api/v2/orders/17"}, {"GET", "/api/v1/users/3"}, {"GET", "/internal/debug"},
		{"POST", "/api/v2/auth/login"}, {"GET", "/api/v2/users/me"},
	} {
		if set.Match("127.0.0.1", want.method, want.path) == nil {
			t.Errorf("exported spec lacks %s %s", want.method, want.path)
		}
	}
	if set.Match("127.0.0.1", "GET", "/.env") != nil {
		t.Error("exported spec holds the scanner's /.env (404 only)")
	}
	if set.Match("payments.partner.test", "POST", "/v1/charges") != nil {
		t.Error("a third-party endpoint was exported without ThirdParty")
	}
	var login *spec.Operation
	for _, op := range got.Ops {
		if op.Method == "POST" && op.Path == "/api/v2/auth/login" {
			login = op
		}
	}
	if login == nil || !slices.Contains(login.RequestFields, "email") || len(login.Responses["200"].Fields) == 0 {
		t.Errorf("login operation lacks its inferred bodies: %+v", login)
	}
}

// BenchmarkTemplateAndMatch: templating a request path with the learner and
// matching it against the spec, the per-exchange work of holding traffic
// against the spec, reported against a baseline timed in the same run: the
// fixed-rule inventory.Template the pipeline used before, on the same paths.
func BenchmarkTemplateAndMatch(b *testing.B) {
	xs := readTraffic(b, shopTraffic)
	set := shopSpec(b)
	l := NewLearner(LearnerConfig{})
	for _, x := range xs {
		l.Observe(x.Request.Host(), x.Request.Path())
	}
	matched := 0
	benchAgainstTemplate(b, xs, func(x *vigil.Exchange) {
		host := x.Request.Host()
		if set.Match(host, x.Request.Method, l.Observe(host, x.Request.Path())) != nil {
			matched++
		}
	})
	if matched == 0 {
		b.Fatal("nothing matched")
	}
}

// benchAgainstTemplate times work over every exchange of xs, and the fixed
// inventory.Template over the same paths, alternately in each iteration;
// it reports work's ns per exchange and its ratio to the baseline.
func benchAgainstTemplate(b *testing.B, xs []*vigil.Exchange, work func(*vigil.Exchange)) {
	b.Helper()
	b.ReportAllocs()
	var base, took time.Duration
	var sink string
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for _, x := range xs {
			sink = Template(x.Request.Path())
		}
		t1 := time.Now()
		for _, x := range xs {
			work(x)
		}
		base += t1.Sub(t0)
		took += time.Since(t1)
		n += len(xs)
	}
	_ = sink
	b.ReportMetric(float64(took.Nanoseconds())/float64(n), "ns/exchange")
	b.ReportMetric(float64(base.Nanoseconds())/float64(n), "baseline-ns/exchange")
	b.ReportMetric(took.Seconds()/base.Seconds(), "x-baseline")
}

// TestProfileMemory states the memory of a profile on the shop's traffic.
func TestProfileMemory(t *testing.T) {
	xs := readTraffic(t, shopTraffic)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	inv := New(Config{})
	for _, x := range xs {
		inv.Observe(x)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := len(inv.Profiles())
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
	t.Logf("%d endpoints from %d exchanges: %d bytes per endpoint (profiles, schemas, learned tree)", n, len(xs), per)
	if per > 64<<10 {
		t.Errorf("%d bytes per endpoint, want well under 64 KB", per)
	}
	runtime.KeepAlive(inv)
	runtime.KeepAlive(xs)
}
