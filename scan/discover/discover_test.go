package discover

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/inventory/spec"
)

// itemsSpec documents a small API that is not shaped like the shop.
const itemsSpec = `openapi: 3.0.3
info: {title: items, version: "1"}
paths:
  /api/v2/items:
    get: {responses: {"200": {description: ok}}}
    post: {responses: {"201": {description: created}}}
  /api/v2/items/{itemId}:
    get:
      parameters: [{name: itemId, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
  /api/v2/reports/daily:
    get: {responses: {"200": {description: ok}}}
  /api/v2/reports/legacy:
    get: {deprecated: true, responses: {"200": {description: ok}}}
`

func itemsSet(t *testing.T) *spec.Set {
	t.Helper()
	sp, err := spec.Parse("items.yaml", []byte(itemsSpec))
	if err != nil {
		t.Fatal(err)
	}
	return spec.NewSet(sp)
}

// itemsAPI serves the documented routes only (the deprecated one too when
// legacy is set); fallback answers everything else.
func itemsAPI(legacy bool, fallback http.HandlerFunc) http.Handler {
	mux := http.NewServeMux()
	js := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /api/v2/items", func(w http.ResponseWriter, r *http.Request) { js(w, 200, []int{1, 2}) })
	mux.HandleFunc("POST /api/v2/items", func(w http.ResponseWriter, r *http.Request) { js(w, 201, map[string]int{"id": 3}) })
	mux.HandleFunc("GET /api/v2/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		js(w, 200, map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("GET /api/v2/reports/daily", func(w http.ResponseWriter, r *http.Request) { js(w, 200, "ok") })
	if legacy {
		mux.HandleFunc("GET /api/v2/reports/legacy", func(w http.ResponseWriter, r *http.Request) { js(w, 200, "old") })
	}
	mux.HandleFunc("/", fallback)
	return mux
}

func plain404(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(404)
	fmt.Fprintf(w, `{"error":"no route for %s"}`, r.URL.Path)
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestCleanAPIs runs against APIs with no shadow endpoints, in the shapes
// that fool naive scanners: every finding is a false positive.
func TestCleanAPIs(t *testing.T) {
	spa := func(nonce bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			page := "<!doctype html><html><head><title>index.html</title></head><body><div id=app></div></body></html>"
			if nonce {
				page = strings.Replace(page, "<head>", fmt.Sprintf(`<head><meta name=csrf content="%016x">`, rand.Uint64()), 1)
			}
			fmt.Fprint(w, page)
		}
	}
	// gateway wants a token before it routes anything under /api.
	gateway := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if (r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")) && r.Header.Get("Authorization") == "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"error":"token required","path":%q,"request":"%x"}`, r.URL.Path, rand.Uint64())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	login := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sso/signin?next="+r.URL.Path, http.StatusFound)
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"404", itemsAPI(false, plain404)},
		{"spa catch-all", itemsAPI(false, spa(false))},
		{"spa with nonce", itemsAPI(false, spa(true))},
		{"gateway 401", gateway(itemsAPI(false, plain404))},
		{"redirect to login", itemsAPI(false, login)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.h)
			for _, withSpec := range []bool{true, false} {
				cfg := fast(srv.URL)
				if withSpec {
					cfg.Spec = itemsSet(t)
				}
				rep, err := Run(t.Context(), cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Found) != 0 || rep.Errors != 0 {
					logReport(t, rep)
					t.Errorf("spec %v: %d findings, %d errors on an API without shadow endpoints", withSpec, len(rep.Found), rep.Errors)
				}
				t.Logf("spec %v: %d sent, %d not found, catch-all %q", withSpec, rep.Sent, rep.NotFound, rep.CatchAll)
			}
		})
	}
}

// TestShadowBehindCatchAll checks the soft-404 guard does not hide what
// answers differently from the catch-all, and that a deprecated operation
// still answering is a zombie.
func TestShadowBehindCatchAll(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /internal/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "requests_total 12\n")
	})
	mux.HandleFunc("GET /api/v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"legacy":true}`, r.PathValue("id"))
	})
	mux.Handle("/", itemsAPI(true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>index.html</html>")
	}))
	srv := serve(t, mux)
	cfg := fast(srv.URL)
	cfg.Spec = itemsSet(t)
	cfg.Verbose = true
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := byPath(rep)
	if r := found["/internal/metrics"]; r.Class != ClassShadow || r.Status != 200 {
		t.Errorf("/internal/metrics: %+v", r)
	}
	if r := found["/api/v1/items/1"]; r.Class != ClassZombie || r.Twin != "/api/v2/items/{itemId}" {
		t.Errorf("/api/v1/items/1: %+v", r)
	}
	if r := found["/api/v2/reports/legacy"]; r.Class != ClassZombie || !strings.Contains(r.Reason, "deprecated") {
		t.Errorf("/api/v2/reports/legacy: %+v", r)
	}
	if r := found["/admin"]; r.Class != ClassNotFound || !strings.Contains(r.Reason, "catch-all") {
		t.Errorf("/admin with -v: %+v, want not-found (catch-all)", r)
	}
	if rep.CatchAll == "" {
		t.Error("no catch-all described")
	}
	if t.Failed() {
		logReport(t, rep)
	}
}

// counter counts the requests a test server gets, and their times.
type counter struct {
	mu    sync.Mutex
	times []time.Time
	paths []string
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.times = append(c.times, time.Now())
		c.paths = append(c.paths, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (c *counter) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.times)
}

func TestMaxRequests(t *testing.T) {
	var c counter
	srv := serve(t, c.wrap(http.HandlerFunc(plain404)))
	for _, max := range []int{1, 2, 7, 25} {
		cfg := fast(srv.URL)
		cfg.MaxRequests = max
		cfg.Spec = itemsSet(t)
		before := c.n()
		var last [2]int
		rep, err := Run(t.Context(), cfg, func(done, total int) { last = [2]int{done, total} })
		if err != nil {
			t.Fatal(err)
		}
		got := c.n() - before
		if got > max || rep.Sent != got || rep.Planned != rep.Sent {
			t.Errorf("max %d: server got %d, report sent %d of %d planned", max, got, rep.Sent, rep.Planned)
		}
		if last != [2]int{rep.Planned, rep.Planned} {
			t.Errorf("max %d: last progress %v, want %d of %d", max, last, rep.Planned, rep.Planned)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.paths {
		if !strings.HasPrefix(p, "GET ") {
			t.Errorf("sent %s: only GET is allowed", p)
		}
	}
}

func TestRate(t *testing.T) {
	var c counter
	srv := serve(t, c.wrap(http.HandlerFunc(plain404)))
	const rate, n = 40.0, 40
	cfg := Config{Target: srv.URL, Rate: rate, Concurrency: 8, MaxRequests: n}
	start := time.Now()
	rep, err := Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if rep.Sent != n {
		t.Fatalf("sent %d, want %d", rep.Sent, n)
	}
	// n requests evenly spaced at rate take (n-1)/rate.
	if min := time.Duration(float64(n-1) / rate * float64(time.Second) * 0.9); took < min {
		t.Errorf("%d requests in %v at %v/s: faster than %v", n, took, rate, min)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	const window = 250 * time.Millisecond
	limit := int(rate*window.Seconds()) + 2
	for i := range c.times {
		in := 0
		for _, t2 := range c.times[i:] {
			if t2.Sub(c.times[i]) < window {
				in++
			}
		}
		if in > limit {
			t.Fatalf("%d requests within %v, want at most %d", in, window, limit)
		}
	}
	t.Logf("%d requests at %v/s took %v", n, rate, took.Round(time.Millisecond))
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n atomic.Int32
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 30 {
			cancel()
		}
		if r.URL.Path == "/found-early" {
			fmt.Fprint(w, "here")
			return
		}
		plain404(w, r)
	}))
	cfg := fast(srv.URL)
	cfg.Wordlist = []string{"found-early"}
	cfg.Concurrency = 2
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Stopped || rep.Sent >= rep.Planned || rep.Sent < 29 {
		t.Errorf("stopped %v, sent %d of %d", rep.Stopped, rep.Sent, rep.Planned)
	}
	if r, ok := byPath(rep)["/found-early"]; !ok || r.Class != ClassShadow {
		t.Errorf("partial results lost: %+v", rep.Found)
	}
	if rep.Errors != 0 {
		t.Errorf("%d errors: cancelled requests are not errors", rep.Errors)
	}
	// Cancelled before it starts: no request at all.
	before := n.Load()
	rep, err = Run(ctx, cfg, nil)
	if err != nil || !rep.Stopped || rep.Sent != 0 || n.Load() != before {
		t.Errorf("cancelled run: err %v, report %+v, %d requests", err, rep, n.Load()-before)
	}
}

func TestRedirectToAnotherHostNotFollowed(t *testing.T) {
	var other counter
	elsewhere := serve(t, other.wrap(http.HandlerFunc(plain404)))
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/admin":
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
		case "/console":
			http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
		default:
			plain404(w, r)
		}
	}))
	for _, client := range []*http.Client{nil, {}} { // Run's client and a caller's that would follow
		cfg := fast(srv.URL)
		cfg.Client = client
		rep, err := Run(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := byPath(rep)
		r := found["/admin"]
		if r.Status != 302 || r.Location != elsewhere.URL+"/steal" || !strings.Contains(r.Reason, "another host") {
			t.Errorf("/admin: %+v", r)
		}
		if r := found["/console"]; r.Status != 301 || strings.Contains(r.Reason, "another host") {
			t.Errorf("/console: %+v", r)
		}
	}
	if other.n() != 0 {
		t.Errorf("the other host got %d requests", other.n())
	}
}

func TestBadTargets(t *testing.T) {
	for _, target := range []string{"", "ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1:8080", "http://", "http://user:pw@127.0.0.1/", "gopher://127.0.0.1"} {
		if rep, err := Run(t.Context(), Config{Target: target}, nil); err == nil {
			t.Errorf("%q: no error, report %+v", target, rep)
		}
	}
	// A closed port: unreachable is an error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Run(t.Context(), Config{Target: "http://" + addr, Rate: 1000, Timeout: time.Second}, nil); err == nil {
		t.Error("unreachable target: no error")
	}
}

func TestPlan(t *testing.T) {
	idx := newSpecIndex(itemsSet(t), "127.0.0.1")
	gs := plan("", idx, []string{"/mine", "also-mine", "http://elsewhere.test/x", "//elsewhere.test/y"}, false)
	var paths []string
	seen := map[string]bool{}
	for _, g := range gs {
		if seen[g.path] {
			t.Errorf("%s planned twice", g.path)
		}
		seen[g.path] = true
		paths = append(paths, g.path)
		if idx.match(g.path) != nil && g.path != "/api/v2/reports/legacy" {
			t.Errorf("documented %s planned", g.path)
		}
		if strings.Contains(g.path, "elsewhere") {
			t.Errorf("out-of-scope word planned: %s", g.path)
		}
	}
	for _, want := range []string{"/mine", "/also-mine", "/api/v1/items/1", "/api/v0/items/1", "/api/v3/items/1",
		"/api/v1/reports/daily", "/api/v1/export/items", "/api/v2/internal/reports", "/api/v1/account", "/internal/debug", "/.env"} {
		if !slices.Contains(paths, want) {
			t.Errorf("%s not planned", want)
		}
	}
	if paths[0] != "/mine" {
		t.Errorf("the caller's words come first: %v", paths[:3])
	}
	if len(builtin) < 150 || len(builtin) > 400 {
		t.Errorf("built-in list has %d paths", len(builtin))
	}
	if gs := plan("/base", newSpecIndex(nil, ""), nil, false); !strings.HasPrefix(gs[0].path, "/base/") {
		t.Errorf("base path not applied: %s", gs[0].path)
	}
}
