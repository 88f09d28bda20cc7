package inventory

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/sensor/ingest"
)

// readTraffic reads a traffic fixture.
func readTraffic(t testing.TB, path string) []*vigil.Exchange {
	t.Helper()
	xs, err := ingest.ReadAll(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

const shopTraffic = "../testdata/sim/seed7-30s.traffic.jsonl.gz"

func profileMap(ps []*Profile) map[string]*Profile {
	m := map[string]*Profile{}
	for _, p := range ps {
		m[p.Method+" "+p.Template] = p
	}
	return m
}

func TestInventoryShopTraffic(t *testing.T) {
	inv := New(Config{})
	xs := readTraffic(t, shopTraffic)
	var wg sync.WaitGroup
	for w := range 4 { // the pipeline's workers feed it at once
		wg.Go(func() {
			for i := w; i < len(xs); i += 4 {
				inv.Observe(xs[i])
			}
		})
	}
	wg.Wait()
	ps := inv.Profiles()
	m := profileMap(ps)
	var total int64
	for _, p := range ps {
		total += p.Count
	}
	if total != int64(len(xs)) {
		t.Errorf("profiles count %d exchanges, want %d", total, len(xs))
	}
	for _, want := range []string{
		"GET /api/v2/giftcards/{id}/balance", "GET /api/v2/users/me", "GET /api/v2/products/{id}",
		"GET /api/v1/users/{id}", "GET /internal/debug", "POST /api/v2/auth/login",
	} {
		if m[want] == nil {
			t.Errorf("endpoint %s missing", want)
		}
	}
	login := m["POST /api/v2/auth/login"]
	if login != nil {
		if login.RequestTypes["application/json"] == 0 || login.Statuses[200] == 0 || login.Auth["none"] == 0 {
			t.Errorf("login profile: %+v", login)
		}
	}
	if me := m["GET /api/v2/users/me"]; me != nil && me.Auth["jwt"] == 0 {
		t.Errorf("users/me auth kinds %v, want jwt among them", me.Auth)
	}
	if p := m["GET /api/v2/products"]; p == nil || p.Param("query", "limit") == nil {
		t.Errorf("products query params not recorded: %+v", p)
	}
	for _, p := range ps {
		if p.Party != "" {
			t.Errorf("%s is %q party without a first-party list, want unknown", p.Endpoint, p.Party)
		}
	}
}

func exchangeTo(host, method, path string, status int, t time.Time) *vigil.Exchange {
	return &vigil.Exchange{
		Time:     t,
		Request:  vigil.Request{Method: method, URL: &url.URL{Scheme: "https", Host: host, Path: path}, Header: http.Header{}},
		Response: &vigil.Response{Status: status, Header: http.Header{}},
	}
}

func TestInventoryAuth(t *testing.T) {
	inv := New(Config{})
	now := time.Now()
	x := exchangeTo("h", "GET", "/internal/debug", 200, now)
	inv.Observe(x)
	y := exchangeTo("h", "GET", "/internal/debug", 200, now)
	y.Request.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	inv.Observe(y)
	z := exchangeTo("h", "GET", "/internal/debug", 401, now)
	inv.Observe(z)
	p := inv.Profiles()[0]
	if p.Unauthenticated2xx != 1 || p.Auth["none"] != 2 || p.Auth["jwt"] != 1 {
		t.Errorf("auth counts %v, unauthenticated 2xx %d; want none 2, jwt 1 and one unauthenticated 2xx", p.Auth, p.Unauthenticated2xx)
	}
}

func TestInventoryParty(t *testing.T) {
	inv := New(Config{FirstParty: []string{"shop.test", "API.shop.test:443"}})
	now := time.Now()
	for _, h := range []string{"shop.test", "api.shop.test", "payments.partner.test"} {
		inv.Observe(exchangeTo(h, "POST", "/v1/charges", 200, now))
	}
	got := map[string]string{}
	for _, p := range inv.Profiles() {
		got[p.Host] = p.Party
	}
	want := map[string]string{"shop.test": PartyFirst, "api.shop.test": PartyFirst, "payments.partner.test": PartyThird}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s: party %q, want %q", h, got[h], w)
		}
	}
}

// TestInventoryRekey: endpoints recorded before a position became a
// parameter are merged into the parameter's endpoint.
func TestInventoryRekey(t *testing.T) {
	inv := New(Config{})
	now := time.Now()
	for i := range 400 {
		inv.Observe(exchangeTo("h", "GET", "/teams/"+names[i%len(names)]+"/members", 200, now))
	}
	m := profileMap(inv.Profiles())
	p := m["GET /teams/{id}/members"]
	if p == nil || p.Count != 400 || len(m) != 1 {
		keys := []string{}
		for k := range m {
			keys = append(keys, k)
		}
		t.Fatalf("after learning: %d endpoints %v, want one with 400", len(m), keys[:min(5, len(keys))])
	}
}

// TestInventoryFloodMemory: a million random paths leave a bounded
// inventory, and the heap stays flat.
func TestInventoryFloodMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	inv := New(Config{MaxEndpoints: 2_000, Learner: LearnerConfig{MaxNodes: 20_000}})
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Now()
	x := exchangeTo("h", "GET", "/", 404, now)
	var before runtime.MemStats
	for i := range n {
		if i == n/10 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		x.Request.URL.Path = "/" + randWord(r) + "/" + randWord(r) + strconv.Itoa(i%7)
		inv.Observe(x)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	ps := inv.Profiles()
	if len(ps) > 2_000+10 {
		t.Errorf("%d endpoints after the flood, cap 2000", len(ps))
	}
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d random paths: %d endpoints, %d learner nodes, heap %+d KB from 10%% to 100%% of the flood",
		n, len(ps), inv.Learner().Stats().Nodes, growth/1024)
	if growth > 8<<20 {
		t.Errorf("heap grew %d MB during the flood, want flat", growth>>20)
	}
}

// BenchmarkInventoryObserve: the whole profile update per exchange (sampled
// schema inference included), against the fixed-template baseline timed in
// the same run (benchAgainstTemplate).
func BenchmarkInventoryObserve(b *testing.B) {
	xs := readTraffic(b, shopTraffic)
	inv := New(Config{})
	for _, x := range xs {
		inv.Observe(x)
	}
	benchAgainstTemplate(b, xs, func(x *vigil.Exchange) { inv.Observe(x) })
}

// FuzzAPIKeyHeader: apiKeyHeader is the lower-cased comparison it replaces.
func FuzzAPIKeyHeader(f *testing.F) {
	for _, s := range []string{"X-Api-Key", "x-api-key", "API-KEY", "X-Auth-Token", "Host", "X-Api-\u212aey", "Api-Key", "x-auth-tokeN", "\u0130"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n := strings.ToLower(name)
		if got, want := apiKeyHeader(name), n == "x-api-key" || n == "api-key" || n == "x-auth-token"; got != want {
			t.Errorf("apiKeyHeader(%q) = %v, want %v", name, got, want)
		}
	})
}

// FuzzLowerScheme: lowerScheme picks the same case of AuthKind's switch as
// strings.ToLower.
func FuzzLowerScheme(f *testing.F) {
	for _, s := range []string{"Bearer", "bearer", "BASIC", "Basic", "Digest", "", "beare\u017f", "ba\u017fic", "B\u0130"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToLower(s)
		if want != "bearer" && want != "basic" {
			want = ""
		}
		got := lowerScheme(s)
		if got != "bearer" && got != "basic" {
			got = ""
		}
		if got != want {
			t.Fatalf("lowerScheme(%q) = %q, strings.ToLower: %q", s, got, strings.ToLower(s))
		}
	})
}
