package discover

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/simulate/shop"
)

// startShop runs the demo shop on 127.0.0.1 for one test.
func startShop(t *testing.T) *shop.Shop {
	t.Helper()
	s, err := shop.Start(t.Context(), shop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func shopSpec(t *testing.T) *spec.Set {
	t.Helper()
	sp, err := spec.Parse("openapi.yaml", shop.Spec())
	if err != nil {
		t.Fatal(err)
	}
	return spec.NewSet(sp)
}

// fast is a Config for loopback targets: polite limits would only make the
// tests slow.
func fast(target string) Config {
	return Config{Target: target, Rate: 2000, Concurrency: 8, Timeout: 5 * time.Second}
}

func byPath(rep *Report) map[string]Result {
	m := map[string]Result{}
	for _, r := range rep.Found {
		m[r.Path] = r
	}
	return m
}

func logReport(t *testing.T, rep *Report) {
	t.Helper()
	t.Logf("planned %d, sent %d, not found %d, errors %d, found %d, in %v; catch-all %q",
		rep.Planned, rep.Sent, rep.NotFound, rep.Errors, len(rep.Found), rep.Duration.Round(time.Millisecond), rep.CatchAll)
	for _, r := range rep.Found {
		t.Logf("  %-10s %3d %-40s twin=%q %s", r.Class, r.Status, r.Path, r.Twin, r.Reason)
	}
}

func TestShopWithSpec(t *testing.T) {
	s := startShop(t)
	set := shopSpec(t)
	cfg := fast(s.URL())
	cfg.Spec = set
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	found := byPath(rep)
	want := []struct{ path, class, twin string }{
		{"/api/v1/users/1", ClassZombie, "/api/v2/users/{id}"},
		{"/api/v1/orders/1", ClassZombie, "/api/v2/orders/{id}"},
		{"/internal/debug", ClassShadow, ""},
		{"/api/v1/account", ClassShadow, ""},
		{"/api/v1/export/users", ClassShadow, ""},
	}
	for _, w := range want {
		r, ok := found[w.path]
		if !ok {
			t.Errorf("%s not found", w.path)
			continue
		}
		if r.Class != w.class || r.Twin != w.twin {
			t.Errorf("%s: class %q twin %q, want %q %q", w.path, r.Class, r.Twin, w.class, w.twin)
		}
	}
	if r := found["/api/v1/users/1"]; !strings.HasPrefix(r.Reason, "protected (401)") {
		t.Errorf("/api/v1/users/1: reason %q, want protected (401) first", r.Reason)
	}
	for _, r := range rep.Found {
		if set.Match("", "GET", r.Path) != nil {
			t.Errorf("documented %s reported as %s", r.Path, r.Class)
		}
		if !strings.HasPrefix(r.Path, "/api/v1/") && r.Path != "/internal/debug" && r.Path != "/openapi.json" {
			t.Errorf("unexpected finding %s %d (%s)", r.Path, r.Status, r.Reason)
		}
	}
	if rep.Errors != 0 || rep.Stopped || rep.CatchAll != "" {
		t.Errorf("errors %d, stopped %v, catch-all %q", rep.Errors, rep.Stopped, rep.CatchAll)
	}
	if rep.Sent != rep.Planned || rep.Sent > DefaultMaxRequests {
		t.Errorf("sent %d of %d planned", rep.Sent, rep.Planned)
	}
}

func TestShopWithoutSpec(t *testing.T) {
	s := startShop(t)
	rep, err := Run(t.Context(), fast(s.URL()), nil)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	found := byPath(rep)
	if r, ok := found["/internal/debug"]; !ok || r.Class != ClassShadow || r.Status != 200 {
		t.Errorf("/internal/debug: %+v, want a 200 shadow", r)
	}
	if _, ok := found["/api/v1/account"]; !ok {
		t.Errorf("/api/v1/account not found")
	}
	for _, r := range rep.Found {
		if r.Class != ClassShadow {
			t.Errorf("%s: class %s without a spec", r.Path, r.Class)
		}
	}
}

// noneToken is an unsigned JWT, which the shop's legacy /api/v1 routes
// accept (its planted jwt-alg-none flaw): an authenticated crawl.
func noneToken(sub int, role string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"sub": fmt.Sprint(sub), "role": role, "exp": time.Now().Add(time.Hour).Unix()})
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
}

func TestShopAuthenticatedCrawl(t *testing.T) {
	s := startShop(t)
	cfg := fast(s.URL())
	cfg.Spec = shopSpec(t)
	cfg.Headers = http.Header{"Authorization": {"Bearer " + noneToken(1, "admin")}}
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	found := byPath(rep)
	for _, p := range []string{"/api/v1/users/1", "/api/v1/account", "/api/v1/export/users"} {
		if r, ok := found[p]; !ok || r.Status != 200 {
			t.Errorf("%s: %+v, want a 200", p, r)
		}
	}
	if r := found["/api/v1/users/1"]; r.Class != ClassZombie || r.Twin != "/api/v2/users/{id}" {
		t.Errorf("/api/v1/users/1: %+v", r)
	}
	// There is no order 1: the route's own 404 ("no such order") is not the
	// shop's 404 for unknown paths.
	if r := found["/api/v1/orders/1"]; r.Status != 404 || r.Class != ClassZombie || r.Twin != "/api/v2/orders/{id}" {
		t.Errorf("/api/v1/orders/1: %+v, want a 404 zombie", r)
	}
}
