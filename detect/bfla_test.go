package detect

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/sensor/ingest"
)

// roleTok is an unverified JWT claiming a role, for the BFLA tests.
func roleTok(sub string, role any) string {
	claims := map[string]any{"sub": sub, "exp": t0.Unix() + 3600}
	if role != nil {
		claims["role"] = role
	}
	return jwtTok(map[string]any{"alg": "HS256", "typ": "JWT"}, claims, fakeSig)
}

func as(sub string, role any) func(*vigil.Exchange) {
	return hdr("Authorization", "Bearer "+roleTok(sub, role))
}

// bflaTraining is the traffic a BFLA detector learns from in the tests:
// admins run the back office and edit the catalogue, customers browse, edit
// their profile and review products, anonymous clients browse and log in.
func bflaTraining() []*vigil.Exchange {
	const h = "https://api.shop.test"
	var xs []*vigil.Exchange
	for i := range 10 {
		id := fmt.Sprint(100 + i)
		admin, cust := as("a"+id, "admin"), as("c"+id, "customer")
		xs = append(xs,
			ex("GET", h+"/api/v2/admin/users", admin),
			ex("POST", h+"/api/v2/admin/coupons", admin, resp(201, `{}`)),
			ex("PUT", h+"/api/v2/products/"+id, admin),
			ex("DELETE", h+"/api/v2/products/"+id, admin, resp(204, "")),
			ex("GET", h+"/api/v2/products/"+id, cust),
			ex("GET", h+"/api/v2/products", cust),
			ex("PATCH", h+"/api/v2/users/me", cust),
			ex("POST", h+"/api/v2/products/"+id+"/reviews", cust, resp(201, `{}`)),
			ex("GET", h+"/api/v2/orders/"+id, cust),
			ex("GET", h+"/api/v2/products", hdr("X-Client", "web")),
			ex("POST", h+"/api/v2/auth/login", resp(200, `{}`)),
		)
	}
	return xs
}

func trainedBFLA(t *testing.T) *BFLA {
	t.Helper()
	d := NewBFLA(BFLAConfig{LearnRequests: 20})
	for _, x := range bflaTraining() {
		if fs, _ := d.Analyze(context.Background(), x); len(fs) != 0 {
			t.Fatalf("finding while learning: %v", fs[0])
		}
	}
	return d
}

func TestBFLA(t *testing.T) {
	const h = "https://api.shop.test"
	cust, admin := as("c7", "customer"), as("a1", "admin")
	cases := []detCase{
		// Attacks: a customer reaches the back office.
		{"customer lists admin users", ex("GET", h+"/api/v2/admin/users", cust), `admin-like path segment "admin"`},
		{"customer creates a coupon", ex("POST", h+"/api/v2/admin/coupons", cust, resp(201, `{}`)), "is no admin cohort: fewer than 2 of its principals"},
		{"customer reads an internal endpoint", ex("GET", h+"/internal/metrics", cust), `segment "internal"`},
		{"customer on a management api", ex("POST", h+"/management/users/5/roles", cust), `segment "management"`},
		{"anonymous reaches admin", ex("GET", h+"/api/v2/admin/stats"), "cohort \"anonymous\""},
		{"customer deletes a product", ex("DELETE", h+"/api/v2/products/17", cust, resp(204, "")), "only reads"},
		{"customer edits a product", ex("PUT", h+"/api/v2/products/17", cust), "only reads"},
		{"role claim as a list", ex("GET", h+"/api/v2/admin/users", as("c8", []any{"Customer"})), "admin-like"},
		{"denied admin attempt", ex("GET", h+"/api/v2/admin/users", cust, resp(403, `{}`)), "denied admin attempt number 1"},
		// Benign twins.
		{"admin lists users", ex("GET", h+"/api/v2/admin/users", admin), ""},
		{"admin calls a new admin function", ex("POST", h+"/api/v2/admin/refunds", admin), ""},
		{"admin deletes a product", ex("DELETE", h+"/api/v2/products/18", admin, resp(204, "")), ""},
		{"customer edits own profile", ex("PATCH", h+"/api/v2/users/me", cust), ""},
		{"customer reviews a product", ex("POST", h+"/api/v2/products/3/reviews", cust, resp(201, `{}`)), ""},
		{"customer reads a product", ex("GET", h+"/api/v2/products/3", cust), ""},
		{"customer state change nobody else does", ex("POST", h+"/api/v2/addresses", cust, resp(201, `{}`)), ""},
		{"customer denied outside admin paths", ex("GET", h+"/api/v2/orders/99", cust, resp(403, `{}`)), ""},
		{"customer admin path answered 404", ex("GET", h+"/api/v2/admin/users", cust, resp(404, `{}`)), ""},
		{"user named admin", ex("GET", h+"/api/v2/users/admin", cust), ""},
		{"word admin in a query", ex("GET", h+"/api/v2/products?q=admin", cust), ""},
		{"admin-ish word inside a segment", ex("GET", h+"/api/v2/docs/administering-your-shop", cust), ""},
		{"admin denied", ex("DELETE", h+"/api/v2/admin/users/1", admin, resp(403, `{}`)), ""},
		{"unknown cohort never learned", ex("GET", h+"/api/v2/admin/users", hdr("X-Api-Key", "k")), ""},
	}
	runCases(t, trainedBFLA(t), bflaID, cases)
}

func TestBFLASeverity(t *testing.T) {
	d := trainedBFLA(t)
	const h = "https://api.shop.test"
	cust := as("c9", "customer")
	want := []struct {
		status int
		sev    vigil.Severity
		conf   float64
	}{{200, vigil.SeverityHigh, 0.8}, {403, vigil.SeverityMedium, 0.5}, {403, vigil.SeverityMedium, 0.6}, {403, vigil.SeverityMedium, 0.7}}
	for i, w := range want {
		fs, err := d.Analyze(context.Background(), ex("GET", h+"/api/v2/admin/users", cust, resp(w.status, `{}`)))
		if err != nil || len(fs) != 1 {
			t.Fatalf("call %d: %v, %v", i, fs, err)
		}
		if f := fs[0]; f.Severity != w.sev || f.Confidence < w.conf-1e-9 || f.Confidence > w.conf+1e-9 || f.Category != vigil.API5BFLA {
			t.Errorf("call %d: severity %v confidence %v category %v, want %v %v", i, f.Severity, f.Confidence, f.Category, w.sev, w.conf)
		}
	}
}

// TestBFLALearning checks that nothing is judged while a cohort learns, and
// that what it did then is its normal.
func TestBFLALearning(t *testing.T) {
	const h = "https://api.shop.test"
	d := NewBFLA(BFLAConfig{LearnRequests: 3})
	support, support2 := as("s1", "support"), as("s2", "support")
	editor := as("e1", "editor")
	steps := []struct {
		x    *vigil.Exchange
		want bool
	}{
		{ex("GET", h+"/api/v2/orders/1", support), false},
		{ex("GET", h+"/api/v2/staff/tickets", support), false}, // learned: support works in the back office
		{ex("GET", h+"/api/v2/staff/tickets", support2), false},
		{ex("GET", h+"/api/v2/staff/queues", support), false},             // new, but two support principals call admin-like paths
		{ex("GET", h+"/api/v2/admin/users", as("c1", "customer")), false}, // customers are still learning
		// One editor on an admin path while learning does not make editors an admin cohort.
		{ex("GET", h+"/api/v2/admin/pages", editor), false},
		{ex("GET", h+"/api/v2/pages", editor), false},
		{ex("GET", h+"/api/v2/pages", as("e2", "editor")), false},
		{ex("GET", h+"/api/v2/admin/pages", editor), false}, // learned exactly
		{ex("GET", h+"/api/v2/admin/users", editor), true},
		// Anonymous clients never count as an admin cohort.
		{ex("GET", h+"/admin/login"), false},
		{ex("GET", h+"/admin/login", hdr("X-Forwarded-For", "2")), false},
		{ex("GET", h+"/api/v2/products"), false},
		{ex("GET", h+"/admin/login"), false}, // learned exactly
		{ex("GET", h+"/admin/users"), true},
	}
	for i, s := range steps {
		fs, _ := d.Analyze(context.Background(), s.x)
		if (len(fs) > 0) != s.want {
			t.Errorf("step %d: %d findings, want finding %v", i, len(fs), s.want)
		}
	}
}

func TestBFLABounds(t *testing.T) {
	d := NewBFLA(BFLAConfig{LearnRequests: 1000, MaxCohorts: 3, MaxOps: 5, MaxPrincipals: 2})
	ctx := context.Background()
	for i := range 50 {
		d.Analyze(ctx, ex("GET", fmt.Sprintf("https://a.test/r%d/x", i), as("u", fmt.Sprintf("role%d", i))))
		d.Analyze(ctx, ex("GET", fmt.Sprintf("https://a.test/r%d/x", i), as("u", "one")))
	}
	if len(d.cohorts) != 3 {
		t.Errorf("%d cohorts, want 3", len(d.cohorts))
	}
	for n, c := range d.cohorts {
		if len(c.ops) > 5 {
			t.Errorf("cohort %s: %d ops, want <= 5", n, len(c.ops))
		}
	}
	for i := range 10 {
		d.deny(fmt.Sprint(i))
	}
	if len(d.denied) > 2 {
		t.Errorf("%d denial counters, want <= 2", len(d.denied))
	}
}

func TestRoleCohort(t *testing.T) {
	cases := []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"role": "Admin"}, "admin"},
		{map[string]any{"roles": []any{"editor", "Admin", "editor"}}, "admin+editor"},
		{map[string]any{"groups": []any{"staff"}, "scope": "read"}, "staff"},
		{map[string]any{"scope": "orders:read profile"}, "orders:read+profile"},
		{map[string]any{"scp": []any{"a", 1, "b"}}, "a+b"},
		{map[string]any{"roles": []any{"a", "b", "c", "d", "e", "f"}}, "a+b+c+d+…"},
		{map[string]any{"role": strings.Repeat("x", 100)}, strings.Repeat("x", maxCohortRoleLen)},
		{map[string]any{"sub": "1"}, "unknown"},
		{map[string]any{"role": 7}, "unknown"},
	}
	d := NewBFLA(BFLAConfig{})
	for _, tc := range cases {
		tok := jwtTok(map[string]any{"alg": "HS256"}, tc.claims, fakeSig)
		r := ex("GET", "https://a.test/", hdr("Authorization", "Bearer "+tok)).Request
		if got := d.cohortOf(&r); got != tc.want {
			t.Errorf("cohort of %v = %q, want %q", tc.claims, got, tc.want)
		}
	}
	for _, tc := range []struct {
		h    string
		v    string
		want string
	}{{"", "", "anonymous"}, {"Authorization", "Bearer opaque", "unknown"}, {"Authorization", "Bearer [REDACTED]", "unknown"}, {"X-Api-Key", "k", "unknown"}, {"Cookie", "sessionid=abc", "unknown"}, {"Cookie", "theme=dark", "anonymous"}} {
		x := ex("GET", "https://a.test/")
		if tc.h != "" {
			x.Request.Header.Set(tc.h, tc.v)
		}
		if got := d.cohortOf(&x.Request); got != tc.want {
			t.Errorf("cohort with %s: %q = %q, want %q", tc.h, tc.v, got, tc.want)
		}
	}
}

func TestAdminSegment(t *testing.T) {
	for path, want := range map[string]string{
		"/admin": "admin", "/api/v2/admin/users": "admin", "/internal/debug": "internal", "/api/Manage/x": "manage",
		"/admin-api/v1": "admin-api", "/api/v2/staff": "staff", "/orgs/5/admin": "admin",
		"/api/v2/users/admin": "", "/api/v2/products": "", "/administering": "", "/": "", "/api/v2/roles/admins": "",
	} {
		if got := adminSegment(path); got != want {
			t.Errorf("adminSegment(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestBFLAConcurrent learns and judges from several goroutines (run with
// -race).
func TestBFLAConcurrent(t *testing.T) {
	d := NewBFLA(BFLAConfig{LearnRequests: 50})
	xs := bflaTraining()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, x := range xs {
				if _, err := d.Analyze(context.Background(), x); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for n, c := range d.cohorts {
		if c.seen > 50 {
			t.Errorf("cohort %s learned %d requests, want <= 50", n, c.seen)
		}
	}
}

// readSimTraffic reads a simulator traffic fixture.
func readSimTraffic(t *testing.T, path string) []*vigil.Exchange {
	t.Helper()
	xs, err := ingest.ReadAll(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

// FuzzJWTClaims feeds bearer tokens to the unverified JWT readers of the JWT
// and BFLA detectors: no panic, and a cohort name stays bounded.
func FuzzJWTClaims(f *testing.F) {
	f.Add(roleTok("7", "admin"))
	f.Add(roleTok("7", []any{"a", "b", strings.Repeat("c", 100)}))
	f.Add(jwtTok(map[string]any{"alg": "none"}, map[string]any{"scope": "a b c d e f"}, ""))
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjpudWxsfQ.sig")
	f.Add("a.b.c")
	f.Add("..")
	j := NewJWT(JWTConfig{})
	b := NewBFLA(BFLAConfig{})
	maxName := maxCohortRoles*(maxCohortRoleLen+1) + len("…")
	f.Fuzz(func(t *testing.T, tok string) {
		x := ex("GET", "https://a.test/admin", hdr("Authorization", "Bearer "+tok))
		if _, err := j.Analyze(context.Background(), x); err != nil {
			t.Fatal(err)
		}
		if name := b.cohortOf(&x.Request); name == "" || len(name) > maxName {
			t.Fatalf("cohort %q", name)
		}
		if _, err := b.Analyze(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	})
}
