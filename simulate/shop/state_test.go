package shop

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGroundTruth(t *testing.T) {
	const ok = `{"id":"x","title":"t","method":"GET","path":"/a","category":"API1:2023","area":"shadow","trigger":"GET /a","in_spec":false,"active":false,"scan":"vigil discover"}`
	tests := []struct {
		name, in, want string // want: substring of the error, "" for none
	}{
		{"valid", "[" + ok + "]", ""},
		{"duplicate id", "[" + ok + "," + ok + "]", "duplicate id"},
		{"unknown area", "[" + strings.Replace(ok, `"shadow"`, `"ddos"`, 1) + "]", `unknown area "ddos"`},
		{"unknown category", "[" + strings.Replace(ok, "API1:2023", "API11:2023", 1) + "]", "unknown category"},
		{"2019 category", "[" + strings.Replace(ok, "API1:2023", "API1:2019", 1) + "]", "unknown category"},
		{"no trigger", "[" + strings.Replace(ok, `"GET /a"`, `""`, 1) + "]", "trigger"},
		{"relative path", "[" + strings.Replace(ok, `"/a"`, `"a"`, 1) + "]", "path"},
		{"no scan note", "[" + strings.Replace(ok, `"vigil discover"`, `""`, 1) + "]", "scan (how vigil scan finds it"},
		{"active outside the spec", "[" + strings.Replace(ok, `"active":false`, `"active":true`, 1) + "]", "active but not in the spec"},
		{"active in the spec", "[" + strings.Replace(strings.Replace(ok, `"active":false`, `"active":true`, 1), `"in_spec":false`, `"in_spec":true`, 1) + "]", ""},
		{"unknown field", `[{"id":"x","severity":"high"}]`, "unknown field"},
		{"trailing value", "[" + ok + "] []", "more than one"},
		{"not JSON", "{", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseGroundTruth([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseGroundTruth(f *testing.F) {
	f.Add(vulnsJSON)
	f.Add([]byte(`[{"id":"x"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := parseGroundTruth(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if v.ID == "" || seen[v.ID] || v.Trigger == "" || v.Scan == "" || (v.Active && !v.InSpec) {
				t.Fatalf("accepted a bad entry %+v", v)
			}
			seen[v.ID] = true
		}
	})
}

func TestSeedIsDeterministic(t *testing.T) {
	a, b, c := newSeed(1), newSeed(1), newSeed(2)
	opt := cmp.AllowUnexported(seedData{}, user{})
	if diff := cmp.Diff(a, b, opt); diff != "" {
		t.Errorf("same seed, different data (-first +second):\n%s", diff)
	}
	if a.secret == c.secret || cmp.Equal(a.products, c.products) {
		t.Error("seeds 1 and 2 gave the same data")
	}
	if !strings.HasPrefix(a.weakCode, "SAVE") || len(a.weakCode) != 8 {
		t.Errorf("weak coupon %q, want SAVE and four digits", a.weakCode)
	}
	if got := len(a.users); got != seedCustomers+2 {
		t.Errorf("%d users, want %d", got, seedCustomers+2)
	}
	for _, u := range a.users[:seedCustomers] {
		if !checkPassword(u.PasswordHash, fmt.Sprintf("Passw0rd!%d", u.ID)) || u.Email != fmt.Sprintf("user%d@shop.test", u.ID) {
			t.Fatalf("user %d: credentials are not the documented ones", u.ID)
		}
	}
}

func TestFIFO(t *testing.T) {
	f := newFIFO[int, string](3)
	var evicted []int
	for i := range 6 {
		if k, ok := f.put(i, fmt.Sprint(i)); ok {
			evicted = append(evicted, k)
		}
		if i == 3 {
			f.del(2) // deleted out of order: not evicted again
		}
	}
	if diff := cmp.Diff([]int{0, 1}, evicted); diff != "" {
		t.Errorf("evicted (-want +got):\n%s", diff)
	}
	for _, k := range []int{3, 4, 5} {
		if _, ok := f.get(k); !ok {
			t.Errorf("key %d evicted, want kept", k)
		}
	}
	if f.len() != 3 {
		t.Errorf("len %d, want 3", f.len())
	}
	for i := range 2000 { // the key log is compacted
		f.put(100+i%5, "x")
		f.del(100 + i%5)
	}
	if len(f.order) > 2*f.limit+16 {
		t.Errorf("key log grew to %d", len(f.order))
	}
}

// TestGrowthIsBounded: registrations and orders beyond their caps evict the
// oldest run-time entries, never seeded data.
func TestGrowthIsBounded(t *testing.T) {
	s := startShop(t)
	c := newClient(t, s)
	s.app.mu.Lock()
	s.app.registered.limit = 2
	s.app.created.limit = 2
	s.app.mu.Unlock()
	for i := range 4 {
		if r := c.call("POST", "/api/v2/auth/register", "", map[string]string{"email": fmt.Sprintf("r%d@mail.test", i), "password": "Hunter2!0000"}); r.status != 201 {
			t.Fatalf("register %d: %v", i, r)
		}
	}
	for i, want := range []int{401, 401, 200, 200} {
		r := c.call("POST", "/api/v2/auth/login", "", map[string]string{"email": fmt.Sprintf("r%d@mail.test", i), "password": "Hunter2!0000"})
		if r.status != want {
			t.Errorf("login r%d after eviction = %d, want %d", i, r.status, want)
		}
	}
	tok := c.customer(50)
	var ids []int64
	for range 3 {
		qid := c.quoteOne(tok, 2, nil)
		r := c.call("POST", "/api/v2/checkout/confirm", tok, map[string]string{"quote_id": qid, "payment_id": "p"})
		ids = append(ids, int64(r.num("id")))
	}
	for i, want := range []int{404, 200, 200} {
		if r := c.call("GET", fmt.Sprintf("/api/v2/orders/%d", ids[i]), tok, nil); r.status != want {
			t.Errorf("order %d = %d, want %d", ids[i], r.status, want)
		}
	}
	if r := c.call("GET", "/api/v2/orders/1001", tok, nil); r.status != 200 {
		t.Errorf("seeded order 1001 = %v, want 200 (never evicted)", r)
	}
	if r := c.call("GET", "/api/v2/orders", tok, nil); len(r.json["orders"].([]any)) != ordersPerUser+2 {
		t.Errorf("user50's orders = %v, want %d (evicted ones skipped)", r, ordersPerUser+2)
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:8080", "nonsense"} {
		if s, err := Start(t.Context(), Options{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded, want a loopback-only error", addr)
		}
	}
}

func TestCompanionServices(t *testing.T) {
	s := startShop(t)
	c := newClient(t, s)
	for _, tt := range []struct {
		base, path, want string
	}{
		{s.MetadataURL(), "/latest/meta-data/iam/security-credentials/", "shop-role"},
		{s.MetadataURL(), "/latest/meta-data/iam/security-credentials/shop-role", "SecretAccessKey"},
	} {
		cc := *c
		cc.base = tt.base
		if r := cc.call("GET", tt.path, "", nil); r.status != 200 || !strings.Contains(string(r.raw), tt.want) {
			t.Errorf("GET %s%s = %v, want %q", tt.base, tt.path, r, tt.want)
		}
	}
	p := *c
	p.base = s.PartnerURL()
	if r := p.call("POST", "/v1/charges", "wrong-key", map[string]any{"amount": 1}); r.status != 401 {
		t.Errorf("partner without the shop's key = %v, want 401", r)
	}
	l := *c
	l.base = s.LLMURL()
	r := l.call("POST", "/v1/chat/completions", "", map[string]any{"messages": []map[string]string{{"role": "user", "content": "hello"}}})
	if r.status != 200 || !strings.Contains(string(r.raw), "choices") {
		t.Errorf("LLM = %v", r)
	}
}

// TestCloseWithUnusedConns: connections that never sent a byte – a
// transport's spare dials – do not hold Close up to its deadline.
func TestCloseWithUnusedConns(t *testing.T) {
	s, err := Start(t.Context(), Options{Seed: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{s.URL(), s.PartnerURL(), s.LLMURL(), s.MetadataURL()} {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close with unused connections open: %v", err)
	}
}
