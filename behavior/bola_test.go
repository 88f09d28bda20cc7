package behavior

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
)

// step is one exchange of a multi-actor scenario.
type step struct {
	a vigil.Actor
	r req
}

// scenario plays steps in order, one second apart unless r.after says.
func scenario(t testing.TB, an vigil.Analyzer, steps []step) []vigil.Finding {
	t.Helper()
	var out []vigil.Finding
	at := t0
	for _, s := range steps {
		if s.r.after == 0 {
			s.r.after = time.Second
		}
		at = at.Add(s.r.after)
		fs, err := an.Analyze(context.Background(), exchange(s.a, at, s.r))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out
}

func principal(n int) vigil.Actor {
	return vigil.Actor{Principal: fmt.Sprintf("jwt:%d", n), Addr: fmt.Sprintf("198.51.100.%d", n%250)}
}

func orderList(ids ...int) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf(`{"id":%d,"status":"delivered","items":[{"id":1}]}`, id))
	}
	return `{"orders":[` + strings.Join(parts, ",") + `]}`
}

func listed(path, resp string) req {
	r := get(path, 200)
	r.resp = resp
	return r
}

// owners lists the orders of customers 1..n: customer i owns 1000+3i ... 1002+3i.
func owners(n int) []step {
	var out []step
	for i := 1; i <= n; i++ {
		out = append(out, step{principal(i), listed("/api/v2/orders", orderList(1000+3*i, 1001+3*i, 1002+3*i))})
	}
	return out
}

func reads(a vigil.Actor, ids ...int) []step {
	var out []step
	for _, id := range ids {
		out = append(out, step{a, get(fmt.Sprintf("/api/v2/orders/%d", id), 200)})
	}
	return out
}

func steps(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestBOLA(t *testing.T) {
	eve := principal(666)
	admin := vigil.Actor{Principal: "jwt:901", Addr: "10.0.0.9"}
	partner := vigil.Actor{Principal: "apikey:abc123", Addr: "100.64.0.1"}
	products := func(a vigil.Actor, from, n int) []step {
		var out []step
		for i := range n {
			out = append(out, step{a, get(fmt.Sprintf("/api/v2/products/%d", from+i), 200)})
		}
		return out
	}
	productList := func(a vigil.Actor, from, n int) step {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`{"id":%d,"name":"chair"}`, from+i))
		}
		return step{a, listed("/api/v2/products", `{"limit":20,"products":[`+strings.Join(parts, ",")+`]}`)}
	}
	tests := []struct {
		name  string
		steps []step
		want  map[string]int
	}{
		// Attacks.
		{"reads three orders listed to others", steps(owners(5), reads(eve, 1003, 1006, 1009)), map[string]int{DetectorBOLA: 1}},
		{"reads owned by GET first on a listed collection", steps(owners(1)[:1], reads(principal(1), 2003, 2004), reads(principal(2), 2006), reads(eve, 2003, 2004, 2006)),
			map[string]int{DetectorBOLA: 1}},
		{"ownership from a top-level array and data", steps(
			[]step{{principal(1), listed("/api/v2/invoices", `[{"id":"INV-0001"},{"id":"INV-0002"}]`)},
				{principal(2), listed("/api/v2/invoices", `{"data":[{"id":"INV-0003","owner":{"id":"x"}}],"total":1}`)}},
			[]step{{eve, get("/api/v2/invoices/INV-0001", 200)}, {eve, get("/api/v2/invoices/INV-0002", 200)}, {eve, get("/api/v2/invoices/INV-0003", 200)}}),
			map[string]int{DetectorBOLA: 1}},
		{"same objects on the v1 twin", steps(owners(3), []step{{eve, get("/api/v1/orders/1003", 200)}, {eve, get("/api/v1/orders/1006", 200)}, {eve, get("/api/v1/orders/1009", 200)}}),
			map[string]int{DetectorBOLA: 1}},
		{"deleting others' objects", steps(owners(3), []step{{eve, req{method: "DELETE", target: "/api/v2/orders/1003", status: 204}},
			{eve, req{method: "DELETE", target: "/api/v2/orders/1006", status: 204}}, {eve, req{method: "DELETE", target: "/api/v2/orders/1009", status: 204}}}),
			map[string]int{DetectorBOLA: 1}},
		{"once per window", steps(owners(10), reads(eve, 1003, 1006, 1009, 1012, 1015, 1018, 1021, 1024)), map[string]int{DetectorBOLA: 1}},
		{"once per window and endpoint: orders, then addresses", steps(owners(10), func() []step {
			var out []step
			for i := 1; i <= 4; i++ {
				out = append(out, step{principal(i), listed("/api/v2/addresses", fmt.Sprintf(`[{"id":%d}]`, 500+i))})
			}
			return out
		}(), reads(eve, 1003, 1006, 1009, 1012), []step{{eve, get("/api/v2/addresses/501", 200)}, {eve, get("/api/v2/addresses/502", 200)},
			{eve, get("/api/v2/addresses/503", 200)}, {eve, get("/api/v2/addresses/504", 200)}}), map[string]int{DetectorBOLA: 2}},
		{"enumeration mostly 404", func() []step {
			var out []step
			for i := range 25 {
				st := 404
				if i%3 == 0 {
					st = 200
				}
				out = append(out, step{eve, get(fmt.Sprintf("/api/v2/orders/%d", 5000+i), st)})
			}
			return out
		}(), map[string]int{DetectorEnumeration: 1}},
		{"anonymous enumeration 403", func() []step {
			var out []step
			for i := range 20 {
				out = append(out, step{vigil.Actor{Addr: "203.0.113.7"}, get(fmt.Sprintf("/api/v2/users/%d", 10+i), 403)})
			}
			return out
		}(), map[string]int{DetectorEnumeration: 1}},

		// Not attacks.
		{"reads owned by GET on a never listed template", steps(reads(principal(1), 2003, 2004), reads(principal(2), 2006), reads(eve, 2003, 2004, 2006)),
			map[string]int{}},
		{"two foreign reads (a shared link)", steps(owners(5), reads(eve, 1003, 1006)), map[string]int{}},
		{"own orders read again and again", steps(owners(5), reads(principal(3), 1009, 1010, 1011, 1009, 1010, 1011, 1009)), map[string]int{}},
		{"the same foreign order three times", steps(owners(5), reads(eve, 1003, 1003, 1003)), map[string]int{}},
		{"an admin reading everyone's orders", steps(owners(10), []step{{admin, get("/api/v2/admin/users?page=1", 200)}}, reads(admin, 1003, 1006, 1009, 1012, 1015)),
			map[string]int{}},
		{"an admin path refused does not make an admin", steps(owners(5), []step{{eve, get("/api/v2/admin/users", 403)}}, reads(eve, 1003, 1006, 1009)),
			map[string]int{DetectorBOLA: 1}},
		{"a partner and customers reading products", func() []step {
			out := []step{productList(partner, 1, 50), productList(partner, 51, 50)}
			for c := 1; c <= 6; c++ {
				out = append(out, productList(principal(c), 1+10*c, 20))
				out = append(out, products(principal(c), 100-7*c, 5)...)
			}
			out = append(out, products(partner, 1, 60)...)
			return out
		}(), map[string]int{}},
		{"products read without lists by many", func() []step {
			var out []step
			for c := 1; c <= 8; c++ {
				out = append(out, products(principal(c), 1, 12)...)
			}
			return out
		}(), map[string]int{}},
		{"anonymous reads count for nothing", steps(owners(5), func() []step {
			var out []step
			for _, id := range []int{1003, 1006, 1009, 1012} {
				out = append(out, step{vigil.Actor{Addr: "203.0.113.8"}, get(fmt.Sprintf("/api/v2/orders/%d", id), 200)})
			}
			return out
		}()), map[string]int{}},
		{"refused foreign reads are not BOLA", steps(owners(5), []step{{eve, get("/api/v2/orders/1003", 403)}, {eve, get("/api/v2/orders/1006", 403)}, {eve, get("/api/v2/orders/1009", 403)}}),
			map[string]int{}},
		{"product views with some gone", func() []step {
			var out []step
			for i := range 60 {
				st := 200
				if i%6 == 3 {
					st = 404
				}
				out = append(out, step{principal(1), get(fmt.Sprintf("/api/v2/products/%d", 1+i), st)})
			}
			return out
		}(), map[string]int{}},
		{"foreign reads spread over two windows", steps(owners(5), reads(eve, 1003, 1006), []step{{eve, req{method: "GET", target: "/api/v2/orders/1009", status: 200, after: 11 * time.Minute}}}),
			map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBOLA(Config{})
			fs := scenario(t, b, tt.steps)
			if got := count(fs); !equalCounts(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
				for _, f := range fs {
					t.Log(f, f.Evidence)
				}
			}
			for _, f := range fs {
				want := vigil.SeverityHigh
				if f.Detector == DetectorEnumeration {
					want = vigil.SeverityMedium
				}
				if f.Category != vigil.API1BOLA || f.Area != vigil.AreaChained || f.Severity != want {
					t.Errorf("%s: category %q area %q severity %s", f.Detector, f.Category, f.Area, f.Severity)
				}
			}
		})
	}
}

func TestBOLAEvidence(t *testing.T) {
	b := NewBOLA(Config{})
	eve := principal(666)
	fs := scenario(t, b, steps(owners(3), reads(eve, 1003, 1006, 1009)))
	if len(fs) != 1 {
		t.Fatalf("findings %v", fs)
	}
	f := fs[0]
	if f.Actor != eve || f.Endpoint.Template != "/api/v2/orders/{id}" || f.Endpoint.Method != "GET" {
		t.Errorf("finding %+v", f)
	}
	text := fmt.Sprint(f.Evidence)
	for _, want := range []string{"behavior.foreign_objects 3", "object.id 10**"} {
		if !strings.Contains(text, want) {
			t.Errorf("evidence %s lacks %q", text, want)
		}
	}
	for _, leak := range []string{"1003", "1006", "1009"} {
		if strings.Contains(text, leak) {
			t.Errorf("evidence %s shows id %s unmasked", text, leak)
		}
	}
	if st := b.Stats(); st.Findings[DetectorBOLA] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestListIDs(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`[{"id":1},{"id":"a b"},{"x":{"id":9}},3,"s",[{"id":4}]]`, "1|a b"},
		{`{"orders":[{"id":1,"items":[{"id":7}]},{"status":"x","id":2}],"next":{"id":5},"data":[{"id":3}]}`, "1|2|3"},
		{`{"id":5,"name":"one object"}`, ""},
		{`{"items":[{"id":1},{"id":`, "1"},
		{`{"items":[{"id":{"x":1}},{"id":[1]},{"id":true}]}`, "true"},
		{``, ""}, {`nul`, ""}, {`{"a":[]}`, ""},
	} {
		var got []string
		var ids [maxListIDs][]byte
		for _, id := range ids[:listIDs([]byte(tc.body), &ids)] {
			got = append(got, string(id))
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("%s: got %q, want %q", tc.body, got, tc.want)
		}
	}
	// At most maxListIDs.
	var parts []string
	for i := range 500 {
		parts = append(parts, fmt.Sprintf(`{"id":%d}`, i))
	}
	var ids [maxListIDs][]byte
	n := listIDs([]byte("["+strings.Join(parts, ",")+"]"), &ids)
	if n != maxListIDs {
		t.Errorf("%d ids from a list of 500", n)
	}
}

// checkBOLABounds checks the tables against the limits.
func checkBOLABounds(t testing.TB, b *BOLA, maxActors int) {
	t.Helper()
	n := b.table.Each(func(a *actortable.Node[bolaActor]) {
		if len(a.State.foreign) > maxForeign || cap(a.State.foreign) > maxForeign {
			t.Errorf("%d foreign reads (cap %d)", len(a.State.foreign), cap(a.State.foreign))
		}
		for _, e := range a.State.enum {
			if e != nil && (len(e.ids) > 2*b.cfg.Threshold || cap(e.ids) > 2*b.cfg.Threshold) {
				t.Errorf("%d enumeration ids (cap %d)", len(e.ids), cap(e.ids))
			}
		}
	})
	if n > maxActors || int64(n) != b.Stats().Actors {
		t.Errorf("%d actors, stats %d, limit %d", n, b.Stats().Actors, maxActors)
	}
	for i := range b.owners {
		sh := &b.owners[i]
		sh.mu.Lock()
		if len(sh.m) > sh.limit || len(sh.ents) > sh.limit || len(sh.m) != len(sh.ents) {
			t.Errorf("owner shard %d: %d map entries, %d entries, limit %d", i, len(sh.m), len(sh.ents), sh.limit)
		}
		sh.mu.Unlock()
	}
	b.tmu.Lock()
	if len(b.tmpls) > maxOwnTemplates {
		t.Errorf("%d templates", len(b.tmpls))
	}
	b.tmu.Unlock()
}

func TestBOLABoundedState(t *testing.T) {
	b := NewBOLA(Config{MaxActors: 200})
	ctx := context.Background()
	for i := range 150_000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		a := principal(i % 1000)
		b.Analyze(ctx, exchange(a, at, get(fmt.Sprintf("/api/v2/things%d/%d", i%5000, i), 200)))
		if i%7 == 0 {
			b.Analyze(ctx, exchange(a, at, get(fmt.Sprintf("/api/v2/things/%d", i), 404)))
		}
	}
	if n := b.Objects(); n > MaxObjects || n < MaxObjects*9/10 {
		t.Errorf("%d objects", n)
	}
	checkBOLABounds(t, b, 200)
	// The LRU keeps recent objects: an object just learned is still owned.
	eve := principal(666)
	fs := scenario(t, b, steps(owners(3), reads(eve, 1003, 1006, 1009)))
	if count(fs)[DetectorBOLA] != 1 {
		t.Errorf("after churn: %v", fs)
	}
}

// TestBOLAMemory measures bytes per ownership entry and per tracked actor.
func TestBOLAMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	var before, after runtime.MemStats
	xs := make([]*vigil.Exchange, MaxObjects)
	for i := range xs {
		xs[i] = exchange(principal(i%100), t0, get(fmt.Sprintf("/api/v2/orders/%d", i), 200))
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewBOLA(Config{MaxActors: 20_000})
	for _, x := range xs {
		b.Analyze(context.Background(), x)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perObj := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(MaxObjects)
	t.Logf("BOLA: %d objects, %.0f bytes per ownership entry", b.Objects(), perObj)
	runtime.KeepAlive(xs)

	// Actors with three foreign reads each and an enumeration slot.
	const n = 10_000
	own := steps(owners(3))
	scenario(t, b, own)
	foreign := []*vigil.Exchange{}
	for _, id := range []int{1003, 1006, 1009} {
		foreign = append(foreign, exchange(eve0, t0.Add(time.Hour), get(fmt.Sprintf("/api/v2/orders/%d", id), 200)))
	}
	for i := range 2 * DefaultThreshold {
		foreign = append(foreign, exchange(eve0, t0.Add(time.Hour), get(fmt.Sprintf("/api/v2/users/%d", i), 404)))
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		for _, x := range foreign {
			x.Actor = principal(100_000 + i)
			b.Analyze(context.Background(), x)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perActor := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
	t.Logf("BOLA: %.0f bytes per actor with 3 foreign reads and one enumeration slot full", perActor)
	runtime.KeepAlive(b)
	if perObj > 120 || perActor > 1500 {
		t.Errorf("bytes per object %.0f, per actor %.0f", perObj, perActor)
	}
}

var eve0 = vigil.Actor{Principal: "jwt:666"}

func FuzzAnalyzeBOLA(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("\x1c\x01[{\"id\":1},{\"id\":2}]\x00\x1d\x01/x/1\x00\x1e\x01/x/2\x00\x1e\x01/x/74\x00"))
	f.Add([]byte("\x1c\x01{\"items\":[{\"id\":\"a\",\"x\":[1,{\"id\":3}]}],\"data\":[{\"id\":2}]}\x00\x00\x08/admin/x\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBOLA(Config{MaxActors: 3, Threshold: 3, Window: time.Minute})
		fuzzPlayAuth(t, b, data, vigil.API1BOLA)
		checkBOLABounds(t, b, 3)
	})
}

// fuzzPlayAuth is fuzzPlay for the chained-area detectors: actors have
// principals (op%4, with 0 anonymous), list paths are in the mix, and
// findings must be of category cat.
func fuzzPlayAuth(t *testing.T, an vigil.Analyzer, data []byte, cat vigil.Category) {
	paths := []string{"/x/%d", "/x", "/api/v1/x/%d", "/api/v2/auth/login", "/oauth/token", "/admin/x", "/x/%d/y", "/sessions"}
	at := t0
	fuzzRecords(data, func(op, arg byte, s string) {
		at = at.Add(time.Duration(int8(arg)) * 5 * time.Second)
		r := fuzzReq(op, arg, strings.ReplaceAll(paths[int(op>>2)%len(paths)], "%d", fmt.Sprint(int(arg)%40)), s)
		if strings.HasPrefix(s, "/") {
			r.body = ""
		}
		a := vigil.Actor{Addr: fmt.Sprint(op % 4)}
		if op%4 != 0 {
			a.Principal = fmt.Sprintf("jwt:%d", op%4)
		}
		x := exchange(a, at, r)
		fuzzPath(x, s)
		fs, err := an.Analyze(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if len(f.Evidence) > 8 || f.Category != cat || f.Area != vigil.AreaChained {
				t.Fatalf("finding %v with %d evidence items", f, len(f.Evidence))
			}
			for _, e := range f.Evidence {
				if len(e.Value) > 300 {
					t.Fatalf("evidence value of %d bytes", len(e.Value))
				}
			}
		}
	})
}

// TestSimulatorTrafficAuth runs BOLA and Credentials on the recorded
// simulator traffic: the attackers get their findings, benign actors none.
func TestSimulatorTrafficAuth(t *testing.T) {
	b, c := NewBOLA(Config{}), NewCredentials(Config{})
	r := runSim(t, b, c)
	got, benign, attack := r.got, r.benign, r.attack
	for _, d := range []string{DetectorBOLA, DetectorEnumeration, DetectorCredentialStuffing, DetectorBruteForce} {
		t.Logf("%s: attack %d, benign %d", d, attack[d], benign[d])
	}
	for _, want := range []struct{ actor, detector string }{
		{"chain-recon", DetectorCredentialStuffing},
		{"bl-enumerator", DetectorBOLA},
	} {
		if got[want.actor][want.detector] == 0 {
			t.Errorf("%s got no %s (got %v)", want.actor, want.detector, got[want.actor])
		}
	}
	t.Logf("BOLA stats: %+v, %d objects", b.Stats(), b.Objects())
	t.Logf("Credentials stats: %+v, usernames %+v", c.Stats(), c.TargetStats())
}
