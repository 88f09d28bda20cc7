package recon

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// knownTemplates is a small documented API for the synthetic tests.
var knownTemplates = map[string]bool{
	"GET /api/v2/products":      true,
	"GET /api/v2/products/{id}": true,
	"GET /api/v2/users/me":      true,
	"GET /api/v2/users/{id}":    true,
	"GET /api/v1/users/{id}":    true,
	"GET /api/v1/orders":        true,
	"GET /health":               true,
	"GET /metrics":              true,
}

func knownSet(_, method, path string) bool {
	return knownTemplates[method+" "+inventory.Template(path)]
}

// step is one request of a synthetic actor; after is the time since the
// previous one (1 s when zero).
type step struct {
	method string
	path   string
	status int
	body   bool
	after  time.Duration
}

func get(path string, status int) step { return step{method: "GET", path: path, status: status} }

func exchange(a vigil.Actor, at time.Time, s step) *vigil.Exchange {
	x := &vigil.Exchange{
		ID:      fmt.Sprintf("x-%d", at.UnixNano()),
		Time:    at,
		Request: vigil.Request{Method: s.method, URL: &url.URL{Scheme: "https", Host: "shop.test", Path: s.path}},
		Actor:   a,
	}
	if s.method == "" {
		x.Request.Method = "GET"
	}
	if s.status != 0 {
		x.Response = &vigil.Response{Status: s.status}
		if s.body {
			x.Response.Body = []byte(`{"secret":"x"}`)
			x.Response.BodySize = int64(len(x.Response.Body))
		}
	}
	return x
}

// play runs steps for one actor from t0 and returns the findings.
func play(t testing.TB, d *Detector, a vigil.Actor, steps []step) []vigil.Finding {
	t.Helper()
	var out []vigil.Finding
	at := t0
	for _, s := range steps {
		if s.after == 0 {
			s.after = time.Second
		}
		at = at.Add(s.after)
		fs, err := d.Analyze(context.Background(), exchange(a, at, s))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out
}

func count(fs []vigil.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Detector]++
	}
	return m
}

func repeat(n int, f func(i int) step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var attacker = vigil.Actor{Addr: "203.0.113.9"}

func TestKinds(t *testing.T) {
	unknown := func(n int) []step {
		return repeat(n, func(i int) step { return get(fmt.Sprintf("/hidden-%d/thing", i), 404) })
	}
	tests := []struct {
		name  string
		known bool // use knownSet
		steps []step
		want  map[string]int
		sev   map[string]vigil.Severity
	}{
		{name: "probe burst by status", steps: unknown(15),
			want: map[string]int{DetectorProbe: 1}, sev: map[string]vigil.Severity{DetectorProbe: vigil.SeverityMedium}},
		{name: "probe burst by Known", known: true,
			steps: repeat(15, func(i int) step { return get(fmt.Sprintf("/api/v2/shadow%d", i), 200) }),
			want:  map[string]int{DetectorProbe: 1}},
		{name: "one short of a probe burst", steps: unknown(14), want: map[string]int{}},
		{name: "user with typos", known: true,
			steps: []step{get("/api/v2/prodcts", 404), get("/api/v2/products", 200), get("/api/v2/user/me", 404),
				get("/api/v2/users/me", 200), get("/api/v2/orderz", 404)},
			want: map[string]int{}},
		{name: "crawler of deleted products, known", known: true,
			steps: repeat(200, func(i int) step { return get(fmt.Sprintf("/api/v2/products/%d", 5000+i), 404) }),
			want:  map[string]int{}},
		{name: "crawler of deleted products, status only",
			steps: repeat(200, func(i int) step { return get(fmt.Sprintf("/api/v2/products/%d", 5000+i), 404) }),
			want:  map[string]int{}},
		{name: "same unknown path over and over",
			steps: repeat(100, func(int) step { return get("/favicon.ico", 404) }),
			want:  map[string]int{}},
		{name: "static files of a page are not unknown endpoints", known: true,
			steps: repeat(30, func(i int) step { return get(fmt.Sprintf("/static/chunk-%d.js", i), 200) }),
			want:  map[string]int{}},
		{name: "CORS preflights", known: true,
			steps: repeat(30, func(i int) step { return step{method: "OPTIONS", path: fmt.Sprintf("/api/v2/x%d", i), status: 405} }),
			want:  map[string]int{}},
		{name: "wordlist",
			steps: []step{get("/.env", 404), get("/.git/config", 404), get("/server-status", 403)},
			want:  map[string]int{DetectorWordlist: 1}, sev: map[string]vigil.Severity{DetectorWordlist: vigil.SeverityMedium}},
		{name: "wordlist with a leak",
			steps: []step{get("/.env", 404), {method: "GET", path: "/actuator/env", status: 200, body: true}, get("/wp-login.php", 404)},
			want:  map[string]int{DetectorWordlist: 1}, sev: map[string]vigil.Severity{DetectorWordlist: vigil.SeverityHigh}},
		{name: "wordlist is case-insensitive and deep",
			steps: []step{get("/.GIT/config", 404), get("/.git/HEAD", 404), get("/app/.ENV", 404)},
			want:  map[string]int{DetectorWordlist: 1}},
		{name: "an admin using one admin area is one entry",
			steps: repeat(20, func(i int) step { return get(fmt.Sprintf("/admin/page%d", i), 200) }),
			want:  map[string]int{}},
		{name: "nested admin API is not the wordlist",
			steps: []step{get("/api/v2/admin/users", 200), get("/api/v2/admin/stats", 200), get("/api/v2/admin/coupons", 200)},
			want:  map[string]int{}},
		{name: "monitoring probe on known endpoints", known: true,
			steps: repeat(60, func(i int) step { return get([]string{"/health", "/metrics"}[i%2], 200) }),
			want:  map[string]int{}},
		{name: "monitoring probe, status only",
			steps: repeat(60, func(i int) step { return get([]string{"/health", "/metrics", "/actuator/health"}[i%3], 200) }),
			want:  map[string]int{}},
		{name: "spec hunting",
			steps: []step{get("/swagger.json", 404), get("/openapi.json", 404)},
			want:  map[string]int{DetectorSpecHunting: 1}, sev: map[string]vigil.Severity{DetectorSpecHunting: vigil.SeverityLow}},
		{name: "spec hunting under a versioned prefix",
			steps: []step{get("/api/v3/api-docs", 404), get("/v2/api-docs", 404), get("/api/openapi.yaml", 404)},
			want:  map[string]int{DetectorSpecHunting: 1}},
		{name: "SPA fetching its spec", known: true,
			steps: concat([]step{get("/openapi.json", 200)}, repeat(20, func(i int) step { return get("/api/v2/products", 200) })),
			want:  map[string]int{}},
		{name: "developer reading the docs",
			steps: []step{get("/docs", 200), get("/openapi.json", 200), get("/docs", 200), get("/openapi.json", 304)},
			want:  map[string]int{}},
		{name: "version rolling",
			steps: []step{get("/api/v2/users/1", 403), get("/api/v1/users/1", 404), get("/api/v3/users/1", 404)},
			want:  map[string]int{DetectorVersionRolling: 1}, sev: map[string]vigil.Severity{DetectorVersionRolling: vigil.SeverityMedium}},
		{name: "version rolling finds a zombie twin",
			steps: []step{get("/api/v3/orders/7", 404), get("/api/v2/orders/7", 403), {method: "GET", path: "/api/v1/orders/7", status: 200, body: true}},
			want:  map[string]int{DetectorVersionRolling: 1}, sev: map[string]vigil.Severity{DetectorVersionRolling: vigil.SeverityHigh}},
		{name: "dated versions",
			steps: []step{get("/api/2024-01-01/items/9", 404), get("/api/2023-06-01/items/9", 404), get("/api/2022-01-01/items/9", 404)},
			want:  map[string]int{DetectorVersionRolling: 1}},
		{name: "versions of different endpoints",
			steps: []step{get("/api/v1/a", 200), get("/api/v2/b", 200), get("/api/v3/c", 200)},
			want:  map[string]int{}},
		{name: "leaving the main version for an older unknown one", known: true,
			steps: []step{get("/api/v2/users/me", 200), get("/api/v2/products", 200), get("/api/v2/products/3", 200),
				{method: "GET", path: "/api/v1/account", status: 200, body: true}},
			want: map[string]int{DetectorVersionRolling: 1}, sev: map[string]vigil.Severity{DetectorVersionRolling: vigil.SeverityHigh}},
		{name: "legitimate v1 client", known: true,
			steps: repeat(50, func(i int) step { return get([]string{"/api/v1/users/12", "/api/v1/orders"}[i%2], 200) }),
			want:  map[string]int{}},
		{name: "main v2 client using a documented v1 endpoint", known: true,
			steps: concat(repeat(10, func(int) step { return get("/api/v2/products", 200) }), []step{get("/api/v1/orders", 200)}),
			want:  map[string]int{}},
		{name: "window expiry",
			steps: concat(unknown(10), []step{get("/late-1", 404)}, []step{{method: "GET", path: "/late-2", status: 404, after: 11 * time.Minute}},
				repeat(4, func(i int) step { return get(fmt.Sprintf("/late-x%d", i), 404) })),
			want: map[string]int{}},
		{name: "one finding per kind per window",
			steps: concat(unknown(60), repeat(12, func(i int) step { return get(fmt.Sprintf("/.git/%d", i), 404) }),
				repeat(8, func(i int) step { return get(fmt.Sprintf("/swagger%d.json/../openapi.json%d", i, i), 404) })),
			want: map[string]int{DetectorProbe: 1, DetectorWordlist: 1}},
		{name: "a later window fires again",
			steps: concat(unknown(15), []step{{method: "GET", path: "/next-0", status: 404, after: 11 * time.Minute}},
				repeat(14, func(i int) step { return get(fmt.Sprintf("/next-%d", i+1), 404) })),
			want: map[string]int{DetectorProbe: 2}},
		{name: "no response counts as a request", known: true,
			steps: repeat(15, func(i int) step { return get(fmt.Sprintf("/api/v2/gone%d", i), 0) }),
			want:  map[string]int{DetectorProbe: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			if tt.known {
				cfg.Known = knownSet
			}
			d := New(cfg)
			fs := play(t, d, attacker, tt.steps)
			got := count(fs)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
				for _, f := range fs {
					t.Logf("  %s %v", f, f.Evidence)
				}
			}
			for _, f := range fs {
				checkFinding(t, f)
				if want, ok := tt.sev[f.Detector]; ok && f.Severity != want {
					t.Errorf("%s severity %s, want %s", f.Detector, f.Severity, want)
				}
			}
		})
	}
}

// checkFinding checks what every finding must carry.
func checkFinding(t *testing.T, f vigil.Finding) {
	t.Helper()
	if f.Area != vigil.AreaShadow || f.Category != vigil.API9InventoryManagement {
		t.Errorf("%s: area %q category %q", f.Detector, f.Area, f.Category)
	}
	if f.Actor != attacker {
		t.Errorf("%s: actor %+v", f.Detector, f.Actor)
	}
	if len(f.Evidence) == 0 || len(f.Evidence) > MaxEvidence {
		t.Errorf("%s: %d evidence items", f.Detector, len(f.Evidence))
	}
	for _, e := range f.Evidence {
		if e.Where != "request.path" || e.Value == "" || e.Why == "" || len(e.Value) > MaxPathBytes {
			t.Errorf("%s: bad evidence %+v", f.Detector, e)
		}
	}
	if f.Time.IsZero() || f.ExchangeID == "" || f.Title == "" {
		t.Errorf("%s: incomplete finding %+v", f.Detector, f)
	}
}

func TestEvidenceNamesThePaths(t *testing.T) {
	d := New(Config{})
	fs := play(t, d, attacker, []step{get("/.env", 404), get("/.git/config", 404), get("/server-status", 404)})
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	var paths []string
	for _, e := range fs[0].Evidence {
		paths = append(paths, e.Value)
	}
	if got := strings.Join(paths, " "); got != "/.env /.git/config /server-status" {
		t.Errorf("evidence paths %q", got)
	}
	if why := fs[0].Evidence[0].Why; why != "well-known sensitive path, answered 404" {
		t.Errorf("why %q", why)
	}
}

func TestActorsAreSeparate(t *testing.T) {
	d := New(Config{})
	var all []vigil.Finding
	// 15 actors with one unknown path each make no burst.
	for i := range 15 {
		a := vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}
		all = append(all, play(t, d, a, []step{get(fmt.Sprintf("/nope-%d", i), 404)})...)
	}
	// A principal and an address with the same text are different actors.
	all = append(all, play(t, d, vigil.Actor{Principal: "x"}, []step{get("/.env", 404), get("/.svn", 404)})...)
	all = append(all, play(t, d, vigil.Actor{Addr: "x"}, []step{get("/admin", 404)})...)
	if len(all) != 0 {
		t.Errorf("findings across actors: %v", all)
	}
	if got := d.Stats().Actors; got != 17 {
		t.Errorf("tracking %d actors, want 17", got)
	}
}

func TestEviction(t *testing.T) {
	d := New(Config{MaxActors: 4})
	burst := repeat(14, func(i int) step { return get(fmt.Sprintf("/u%d", i), 404) })
	play(t, d, attacker, burst)
	for i := range 6 {
		play(t, d, vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}, []step{get("/api/v2/products", 200)})
	}
	st := d.Stats()
	if st.Actors != 4 || st.Evictions != 3 {
		t.Errorf("actors %d evictions %d, want 4 and 3", st.Actors, st.Evictions)
	}
	// The attacker was least recently seen: its 14 paths are forgotten.
	if fs := play(t, d, attacker, []step{get("/u14", 404)}); len(fs) != 0 {
		t.Errorf("an evicted actor's state survived: %v", fs)
	}
	// Without eviction the 15th path makes the burst.
	d = New(Config{MaxActors: 100})
	play(t, d, attacker, burst)
	if fs := play(t, d, attacker, []step{get("/u14", 404)}); count(fs)[DetectorProbe] != 1 {
		t.Errorf("no burst without eviction: %v", fs)
	}
}

func TestShardedLimit(t *testing.T) {
	d := New(Config{MaxActors: 10_000})
	if n := d.table.Shards(); n != actortable.MaxShards {
		t.Fatalf("%d shards", n)
	}
	for i := range 30_000 {
		a := vigil.Actor{Addr: fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255)}
		d.Analyze(context.Background(), exchange(a, t0, get("/api/v2/products", 200)))
	}
	st := d.Stats()
	if st.Actors > 10_000 || st.Actors < 9_000 || st.Evictions != 30_000-st.Actors {
		t.Errorf("actors %d evictions %d", st.Actors, st.Evictions)
	}
}

func TestIdleActorsExpire(t *testing.T) {
	d := New(Config{Window: time.Minute, MaxActors: 127}) // one shard: reaping is per shard
	for i := range 100 {
		a := vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}
		d.Analyze(context.Background(), exchange(a, t0, get("/x", 404)))
	}
	// Later traffic of one actor sweeps the idle ones, a few per call.
	for i := range 100 {
		d.Analyze(context.Background(), exchange(attacker, t0.Add(time.Hour+time.Duration(i)*time.Second), get("/api/v2/products", 200)))
	}
	if st := d.Stats(); st.Actors != 1 || st.Expired != 100 {
		t.Errorf("actors %d expired %d, want 1 and 100", st.Actors, st.Expired)
	}
}

// TestBoundedState floods one actor and checks every per-actor bound.
func TestBoundedState(t *testing.T) {
	d := New(Config{ProbeBurst: 10_000}) // capped at MaxRemembered
	if d.Config().ProbeBurst != MaxRemembered {
		t.Fatalf("ProbeBurst %d", d.Config().ProbeBurst)
	}
	long := "/" + strings.Repeat("é", 400)
	var fs []vigil.Finding
	for i := range 5000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		for _, p := range []string{
			fmt.Sprintf("/probe%d", i), fmt.Sprintf("/.git/x%d", i), fmt.Sprintf("/api/v%d/users/1", i),
			fmt.Sprintf("/api/v%d/swagger.json", i%9999), long + fmt.Sprint(i),
		} {
			got, _ := d.Analyze(context.Background(), exchange(attacker, at, get(p, 404)))
			fs = append(fs, got...)
		}
	}
	if c := count(fs); c[DetectorProbe] != 1 || c[DetectorWordlist] != 1 || c[DetectorVersionRolling] != 1 || c[DetectorSpecHunting] != 1 {
		t.Errorf("findings %v, want one of each kind", c)
	}
	checkBounds(t, d, 1)
}

// checkBounds checks the table and every tracked actor against the limits.
func checkBounds(t testing.TB, d *Detector, maxActors int) {
	t.Helper()
	n := d.table.Each(func(a *actortable.Node[actor]) {
		for kd, k := range a.State.kinds {
			if k == nil {
				continue
			}
			if len(k.ents) > MaxRemembered || len(k.examples) > MaxEvidence {
				t.Errorf("kind %d: %d entries, %d examples", kd, len(k.ents), len(k.examples))
			}
			for _, e := range k.examples {
				if len(e.path) > MaxPathBytes {
					t.Errorf("kind %d: example of %d bytes", kd, len(e.path))
				}
			}
		}
	})
	if n > maxActors || int64(n) != d.Stats().Actors {
		t.Errorf("%d actors in the table, stats say %d, limit %d", n, d.Stats().Actors, maxActors)
	}
}

func TestConcurrent(t *testing.T) {
	d := New(Config{Known: knownSet, MaxActors: 1000})
	const workers, actorsPer = 8, 20
	var wg sync.WaitGroup
	results := make([][]vigil.Finding, workers)
	for w := range workers {
		wg.Go(func() {
			// Like the pipeline: one worker owns each actor, actors interleave.
			at := t0
			for round := range 20 {
				for i := range actorsPer {
					a := vigil.Actor{Addr: fmt.Sprintf("198.51.%d.%d", w, i)}
					at = at.Add(time.Millisecond)
					s := get("/api/v2/products/1", 200)
					if i%2 == 0 { // every other actor probes
						s = get(fmt.Sprintf("/hidden/%d-%d", round, i), 404)
					}
					fs, _ := d.Analyze(context.Background(), exchange(a, at, s))
					results[w] = append(results[w], fs...)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, fs := range results {
		for _, f := range fs {
			if f.Detector != DetectorProbe {
				t.Errorf("unexpected %s", f)
			}
			total++
		}
	}
	if want := workers * actorsPer / 2; total != want {
		t.Errorf("%d probe findings, want %d", total, want)
	}
	if st := d.Stats(); st.Findings[DetectorProbe] != int64(total) || st.Actors != workers*actorsPer {
		t.Errorf("stats %+v", st)
	}
	checkBounds(t, d, 1000)
}

func TestHostileInput(t *testing.T) {
	d := New(Config{Known: knownSet})
	for _, x := range []*vigil.Exchange{
		nil,
		{},
		{Request: vigil.Request{URL: &url.URL{}}},
		{Time: time.Unix(1<<62, 0), Request: vigil.Request{Method: "GET", URL: &url.URL{Path: "/.env"}}},
		{Time: time.Unix(-1<<62, 0), Request: vigil.Request{Method: "\x00", URL: &url.URL{Path: "//////"}}, Response: &vigil.Response{Status: 404}},
		{Request: vigil.Request{URL: &url.URL{Path: "/api/v9999.999/../v0/%00"}}, Response: &vigil.Response{Status: -1}},
	} {
		if _, err := d.Analyze(context.Background(), x); err != nil {
			t.Error(err)
		}
	}
}

func TestParsers(t *testing.T) {
	versions := []struct {
		path string
		want string
		seg  int
	}{
		{"/api/v2/users/1", "v2", 1}, {"/V3/x", "v3", 0}, {"/api/v1.1/x", "v1.1", 1},
		{"/api/2023-01-01/x", "2023-01-01", 1}, {"/2023-01-01/x", "2023-01-01", 0},
		{"/reports/2023-01-01", "", -1}, {"/api/2023-01-01", "", -1}, {"/a/b/c/v2", "", -1},
		{"/api/v", "", -1}, {"/api/v12345/x", "", -1}, {"/api/version/x", "", -1}, {"/api/v1beta/x", "", -1},
	}
	for _, tt := range versions {
		v, seg := findVersion(tt.path)
		if v.String() != tt.want || seg != tt.seg {
			t.Errorf("findVersion(%q) = %q %d, want %q %d", tt.path, v, seg, tt.want, tt.seg)
		}
	}
	if !parseVersion("v1").olderThan(parseVersion("v2")) || parseVersion("v2").olderThan(parseVersion("v1.9")) ||
		parseVersion("v1").olderThan(parseDate("2023-01-01")) {
		t.Error("olderThan")
	}
	words := map[string]string{
		"/.env": ".env", "/x/y/.git/config": ".git/config", "/actuator": "actuator", "/actuator/env": "actuator/env",
		"/api/internal/x": "api/internal", "/API/Internal": "api/internal", "/api/v2/.env": ".env",
		"/admin": "admin", "/api/admin": "", "/api/v2/users": "", "/internals": "", "/debug/pprof/": "debug/pprof",
	}
	for p, want := range words {
		m := matchWordlist(p)
		got := ""
		if m.ok {
			got = m.key()
		}
		if got != want {
			t.Errorf("matchWordlist(%q) = %q, want %q", p, got, want)
		}
	}
	specs := map[string]bool{
		"/swagger.json": true, "/api/v1/openapi.yaml": true, "/v3/api-docs": true, "/v2/api-docs/swagger-config": true,
		"/swagger-ui/index.html": true, "/.well-known/openapi.json": true, "/docs": true, "/docs/guide/intro": false,
		"/api/v2/products": false, "/openapi.json/x": false, "/x/swagger.json": false,
	}
	for p, want := range specs {
		if got := isSpecFile(p); got != want {
			t.Errorf("isSpecFile(%q) = %v", p, got)
		}
	}
	if got := versionless("/api/v1/users/12", 1); got != "/api/{v}/users/{id}" {
		t.Errorf("versionless %q", got)
	}
}

// TestBytesPerActor measures the memory of actors that only make ordinary
// requests.
func TestBytesPerActor(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n = 100_000
	d := New(Config{Known: knownSet, MaxActors: n})
	xs := make([]*vigil.Exchange, n)
	for i := range xs {
		xs[i] = exchange(vigil.Actor{Addr: fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255)}, t0, get("/api/v2/products", 200))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, x := range xs {
		d.Analyze(context.Background(), x)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(xs)
	per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
	t.Logf("%.0f bytes per tracked benign actor", per)
	if per > 400 {
		t.Errorf("%.0f bytes per actor", per)
	}
	// An attacker filling every kind.
	runtime.GC()
	runtime.ReadMemStats(&before)
	const attackers = 1000
	d2 := New(Config{MaxActors: attackers})
	for i := range attackers {
		a := vigil.Actor{Addr: fmt.Sprintf("10.1.%d.%d", i>>8, i&255)}
		for j := range MaxRemembered {
			long := "/" + strings.Repeat("a", 300)
			for _, p := range []string{long + fmt.Sprint(j), fmt.Sprintf("/.git/%d%s", j, long), fmt.Sprintf("/api/v%d/x%s", j, long), fmt.Sprintf("/api/v%d/swagger.json", j)} {
				d2.Analyze(context.Background(), exchange(a, t0, get(p, 404)))
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%.0f bytes per attacker with every kind full", (float64(after.HeapAlloc)-float64(before.HeapAlloc))/attackers)
	runtime.KeepAlive(d)
	runtime.KeepAlive(d2)
}

func BenchmarkAnalyze(b *testing.B) {
	bench := func(b *testing.B, path string, known func(host, method, path string) bool) {
		d := New(Config{Known: known})
		xs := make([]*vigil.Exchange, 1024)
		for i := range xs {
			xs[i] = exchange(vigil.Actor{Addr: fmt.Sprintf("10.0.%d.%d", i>>8, i&255)}, t0.Add(time.Duration(i)), get(path, 200))
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			d.Analyze(ctx, xs[i&1023])
		}
	}
	exact := func(_, _, p string) bool { return p == "/api/v2/cart" }
	// The baseline, timed in the same run: templating the same path.
	b.Run("baseline-template", func(b *testing.B) {
		x := exchange(vigil.Actor{Addr: "10.0.0.1"}, t0, get("/api/v2/products/42", 200))
		b.ReportAllocs()
		for b.Loop() {
			templateSink = inventory.Template(x.Request.Path())
		}
	})
	b.Run("known-template", func(b *testing.B) { bench(b, "/api/v2/products/42", knownSet) })
	b.Run("known-exact", func(b *testing.B) { bench(b, "/api/v2/cart", exact) })
	b.Run("status-only", func(b *testing.B) { bench(b, "/api/v2/products/42", nil) })
}

// FuzzAnalyze feeds random method, path, status and time sequences for a
// few actors and checks that nothing panics and state stays bounded.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte("\x00\x01/.env\x00\x02\x04/api/v1/users/1\x00\x03\x01/swagger.json"))
	f.Add([]byte("\x01\x00/a\x00\x01\x00/b\x00\x02\x00/c/v2/2023-01-01/x"))
	f.Add([]byte(strings.Repeat("\x00\x00/x\x00", 100)))
	methods := []string{"GET", "POST", "HEAD", "OPTIONS", "DELETE", "get", ""}
	statuses := []int{0, 200, 204, 301, 400, 401, 403, 404, 405, 410, 500, 501, -7, 99999}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := New(Config{MaxActors: 3, ProbeBurst: 3, Window: time.Minute, Known: knownSet})
		at := t0
		for len(data) >= 2 {
			op, arg := data[0], data[1]
			data = data[2:]
			path, rest, _ := strings.Cut(string(data), "\x00")
			data = []byte(rest)
			at = at.Add(time.Duration(int8(arg)) * 7 * time.Second) // may go backwards
			x := exchange(vigil.Actor{Addr: fmt.Sprint(op % 5)}, at, step{method: methods[int(op>>3)%len(methods)], path: path, status: statuses[int(arg)%len(statuses)], body: arg&1 == 1})
			fs, err := d.Analyze(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if len(f.Evidence) > MaxEvidence {
					t.Fatalf("%d evidence items", len(f.Evidence))
				}
			}
		}
		checkBounds(t, d, 3)
	})
}

var templateSink string
