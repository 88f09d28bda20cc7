package scan

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/simulate/shop"
)

func startShop(t testing.TB, o shop.Options) *shop.Shop {
	t.Helper()
	o.Seed = 1
	o.Logger = slog.New(slog.DiscardHandler)
	s, err := shop.Start(t.Context(), o)
	if err != nil {
		t.Fatalf("shop.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("shop.Close: %v", err)
		}
	})
	return s
}

func shopConfig(t testing.TB, target string) Config {
	t.Helper()
	api, err := ParseAPI("shop openapi.yaml", shop.Spec())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/shop-identities.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities(data)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Target: target, API: api, Identities: ids.Identities, AdminRoles: ids.AdminRoles, Templates: ts,
		Concurrency: 8, Rate: 1000}
}

// truthOf maps a finding (test id and operation) to the shop's ground
// truth. "*" stands for any operation: a stack trace on malformed JSON is
// one flaw of the whole server, whichever endpoint shows it first.
var truthOf = map[string]string{
	"bola.read-other-object GET /api/v2/orders/{id}":                  "bola-orders",
	"bola.read-other-object GET /api/v2/addresses/{id}":               "bola-addresses",
	"bfla.admin-operation POST /api/v2/admin/coupons":                 "bfla-admin-coupons",
	"mass-assign.unwritable-property PATCH /api/v2/users/me":          "mass-assignment-role",
	"mass-assign.unwritable-property POST /api/v2/cart/items":         "mass-assignment-price",
	"exposure.undocumented-sensitive GET /api/v2/users/me":            "excessive-data-exposure",
	"inject.sql-error GET /api/v2/products/search":                    "sqli-search",
	"inject.sql-boolean GET /api/v2/products/search":                  "sqli-search",
	"ssrf.callback POST /api/v2/imports":                              "ssrf-import",
	"ratelimit.login POST /api/v2/auth/login":                         "no-rate-limit-login",
	"ratelimit.code-enumeration GET /api/v2/giftcards/{code}/balance": "no-rate-limit-giftcard",
	"verbose.malformed-body *":                                        "verbose-errors",
	"inject.prompt POST /api/v2/support/chat":                         "prompt-injection",
}

func truthID(r Result) (string, bool) {
	if id, ok := truthOf[r.Test+" "+r.Operation]; ok {
		return id, true
	}
	id, ok := truthOf[r.Test+" *"]
	return id, ok
}

// activeTruth returns the ground-truth ids an active scan can find
// (shop.Vuln.Active).
func activeTruth(t *testing.T) map[string]bool {
	vulns, err := shop.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	want := map[string]bool{}
	for _, v := range vulns {
		ids[v.ID] = true
		if v.Active {
			want[v.ID] = true
		}
	}
	for _, id := range truthOf {
		if !ids[id] {
			t.Fatalf("truthOf names %q, which is not in the shop's ground truth", id)
		}
	}
	return want
}

// TestShopVulnerable is the acceptance test: every ground-truth entry an
// active scan can find is found, and every finding is a ground-truth entry.
func TestShopVulnerable(t *testing.T) {
	s := startShop(t, shop.Options{})
	cfg := shopConfig(t, s.URL())
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Evidence is redacted: no token, password or card number of the run.
	secrets := []string{"Passw0rd!1", "Adm1n!Vigil"}
	for _, id := range cfg.Identities {
		secrets = append(secrets, id.token)
	}
	for _, r := range rep.Results {
		for _, ev := range r.Evidence {
			for _, sec := range secrets {
				if sec != "" && (strings.Contains(ev.Request, sec) || strings.Contains(ev.Response, sec)) {
					t.Errorf("%s on %s: evidence holds a secret %.12s…", r.Test, r.Operation, sec)
				}
			}
		}
	}
	want := activeTruth(t)
	found := map[string]bool{}
	for _, r := range rep.Findings() {
		id, ok := truthID(r)
		if !ok || !want[id] {
			t.Errorf("false positive: %s on %s (%s): %s", r.Test, r.Operation, r.Identity, r.Detail)
			continue
		}
		found[id] = true
		if len(r.Evidence) == 0 {
			t.Errorf("%s on %s: no evidence", r.Test, r.Operation)
		}
	}
	for id := range want {
		if !found[id] {
			t.Errorf("missed ground-truth entry %s", id)
		}
	}
	for _, r := range rep.Results {
		if r.Status == StatusError {
			t.Errorf("%s on %s: error: %s", r.Test, r.Operation, r.Detail)
		}
	}
	if rep.Partial || rep.Requests == 0 {
		t.Errorf("partial %v, %d requests", rep.Partial, rep.Requests)
	}
	t.Logf("%d results, %d findings, %d requests", len(rep.Results), len(rep.Findings()), rep.Requests)
}

// TestShopHardened scans the shop with every planted flaw fixed: zero
// findings.
func TestShopHardened(t *testing.T) {
	s := startShop(t, shop.Options{Hardened: true})
	rep, err := Run(t.Context(), shopConfig(t, s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Findings() {
		t.Errorf("false positive on the hardened shop: %s on %s (%s): %s", r.Test, r.Operation, r.Identity, r.Detail)
	}
	for _, r := range rep.Results {
		if r.Status == StatusError {
			t.Errorf("%s on %s: error: %s", r.Test, r.Operation, r.Detail)
		}
	}
}

// TestGeneration: every operation of the shop's spec gets a generated
// request, producers before consumers, and the shop accepts it – or
// refuses it for a reason the spec cannot express (pay needs a card or a
// gift card; codes and URLs are made up).
func TestGeneration(t *testing.T) {
	s := startShop(t, shop.Options{})
	r, err := newRunner(shopConfig(t, s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if err := r.authenticate(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.crawl(t.Context())
	refused := map[string]int{
		"POST /api/v2/checkout/pay":            400, // one of card or gift_card: not in the schema
		"POST /api/v2/coupons/validate":        404, // a made-up code
		"GET /api/v2/giftcards/{code}/balance": 404, // a made-up code
		"POST /api/v2/imports":                 400, // example.test is not loopback
		"DELETE /api/v2/cart/items/{id}":       404, // the confirmed order emptied the cart
	}
	for _, op := range r.cfg.API.Ops {
		resp := r.smoke[op.String()]
		if op.String() == "PATCH /api/v2/admin/users/{id}" {
			// The crawl does not change another user's account through an
			// admin operation; the request is still built.
			if resp != nil {
				t.Errorf("%s: sent by the crawl", op)
			}
			if req := r.gen.build(op, "admin").request(); !strings.Contains(string(req.Body), `"role":"customer"`) {
				t.Errorf("%s: body %s", op, req.Body)
			}
			continue
		}
		if resp == nil {
			t.Errorf("%s: no request generated", op)
			continue
		}
		want, ok := refused[op.String()]
		switch {
		case ok && resp.Status != want:
			t.Errorf("%s: %d, want %d: %s", op, resp.Status, want, resp.Body)
		case !ok && !is2xx(resp.Status):
			t.Errorf("%s: %d, want 2xx: %s", op, resp.Status, resp.Body)
		}
	}
	// Producer values reached their consumers.
	if got := r.smoke["GET /api/v2/orders/{id}"]; got == nil || !strings.Contains(string(got.Body), `"user_id":1`) {
		t.Errorf("GET /orders/{id} did not read alice's own order")
	}
	ops := r.order()
	idx := func(s string) int { return slices.IndexFunc(ops, func(o *Operation) bool { return o.String() == s }) }
	if !(idx("POST /api/v2/checkout/quote") < idx("POST /api/v2/checkout/pay") && idx("POST /api/v2/checkout/pay") < idx("POST /api/v2/checkout/confirm")) {
		t.Errorf("checkout steps out of order")
	}
}
