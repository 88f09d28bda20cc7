package detect

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate"
)

// step is one exchange of a stateful detector's story and whether it must
// raise a finding; want is a substring of the findings' evidence.
type step struct {
	name string
	x    *vigil.Exchange
	want string
}

func runSteps(t *testing.T, a vigil.Analyzer, id string, steps []step) {
	t.Helper()
	for i, s := range steps {
		got, err := a.Analyze(context.Background(), s.x)
		if err != nil {
			t.Fatalf("step %d %s: %v", i, s.name, err)
		}
		var whys string
		for _, f := range got {
			if f.Detector != id {
				t.Errorf("step %d %s: finding from %s", i, s.name, f.Detector)
			}
			for _, e := range f.Evidence {
				whys += e.Why + "|"
			}
		}
		switch {
		case s.want == "" && len(got) > 0:
			t.Errorf("step %d %s: want no finding, got %s", i, s.name, whys)
		case s.want != "" && !strings.Contains(whys, s.want):
			t.Errorf("step %d %s: want a finding with %q, got %q", i, s.name, s.want, whys)
		}
	}
}

func repeat(n int, f func(i int) step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func at(addr string) func(*vigil.Exchange) {
	return func(x *vigil.Exchange) { x.Actor.Addr = addr }
}

func TestUnauth(t *testing.T) {
	const h = "https://api.shop.test"
	d := NewUnauth(UnauthConfig{MinAuthed: 5, Reopen: 3})
	cust := as("c1", "customer")
	var steps []step
	steps = append(steps, repeat(5, func(i int) step {
		return step{"customer reads orders", ex("GET", fmt.Sprintf("%s/api/v2/orders/%d", h, 100+i), cust), ""}
	})...)
	steps = append(steps,
		step{"anonymous before any refusal", ex("GET", h+"/api/v2/cart"), ""},
		step{"anonymous refused", ex("GET", h+"/api/v2/orders/7", resp(401, `{}`)), ""},
		step{"anonymous served", ex("GET", h+"/api/v2/orders/8", at("198.51.100.1")), "refused calls without credentials"},
		step{"anonymous with an XFF bypass", ex("GET", h+"/api/v2/orders/9", at("198.51.100.2"), hdr("X-Forwarded-For", "127.0.0.1")), "answered 5 authenticated calls"},
		step{"anonymous refused again", ex("GET", h+"/api/v2/orders/9", resp(403, `{}`)), ""},
		step{"preflight", ex("OPTIONS", h+"/api/v2/orders/9", resp(204, "")), ""},
		step{"API key", ex("GET", h+"/api/v2/orders/9", hdr("X-Api-Key", "ak_1")), ""},
		step{"session cookie", ex("GET", h+"/api/v2/orders/9", hdr("Cookie", "sessionid=abc")), ""},
		step{"other method", ex("DELETE", h+"/api/v2/orders/9"), ""},
		// A third address succeeding anonymously: the endpoint went public.
		step{"third address", ex("GET", h+"/api/v2/orders/10", at("203.0.113.3")), ""},
		step{"public now", ex("GET", h+"/api/v2/orders/11", at("203.0.113.4")), ""},
	)
	runSteps(t, d, unauthID, steps)

	// An endpoint that served an anonymous call while learning never counts
	// as protected.
	d2 := NewUnauth(UnauthConfig{MinAuthed: 2})
	runSteps(t, d2, unauthID, []step{
		{"anonymous served first", ex("GET", h+"/api/v2/products/1"), ""},
		{"customer", ex("GET", h+"/api/v2/products/2", cust), ""},
		{"customer", ex("GET", h+"/api/v2/products/3", cust), ""},
		{"anonymous refused (rate limit)", ex("GET", h+"/api/v2/products/3", resp(403, `{}`)), ""},
		{"anonymous served", ex("GET", h+"/api/v2/products/4"), ""},
	})
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7:443": "203.0.113.7", "[2001:db8::1]:8080": "2001:db8::1", "203.0.113.7": "203.0.113.7",
		"2001:db8::1": "2001:db8::1", "::1": "::1", "203.0.113.7:": "203.0.113.7:", "host:http": "host:http", "": "",
	} {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenShare(t *testing.T) {
	const h = "https://api.shop.test"
	d := NewTokenShare(TokenShareConfig{Networks: 3, Window: time.Hour})
	tok := as("u1", "customer")
	when := func(min int) func(*vigil.Exchange) {
		return func(x *vigil.Exchange) { x.Time = t0.Add(time.Duration(min) * time.Minute) }
	}
	fp := func(f string) func(*vigil.Exchange) { return func(x *vigil.Exchange) { x.Actor.Fingerprint = f } }
	runSteps(t, d, tokenShareID, []step{
		{"home", ex("GET", h+"/o", tok, at("203.0.113.7"), when(0)), ""},
		{"home neighbour address", ex("GET", h+"/o", tok, at("203.0.113.99"), when(1)), ""},
		{"carrier", ex("GET", h+"/o", tok, at("100.70.1.2"), when(2)), ""},
		{"office v6", ex("GET", h+"/o", tok, at("2001:db8:1:2::5"), when(3)), ""},
		{"office v6 same /48", ex("GET", h+"/o", tok, at("2001:db8:1:ff::9"), when(4)), ""},
		{"rejected elsewhere", ex("GET", h+"/o", tok, at("45.1.1.1"), when(5), resp(401, `{}`)), ""},
		{"fourth network", ex("GET", h+"/o", tok, at("45.1.1.1"), when(6), fp("a")), "4 client networks"},
		{"fourth again", ex("GET", h+"/o", tok, at("45.1.1.2"), when(7), fp("b")), ""},
		{"fifth, three fingerprints", ex("GET", h+"/o", tok, at("46.1.1.1"), when(8), fp("c")), "3 client fingerprints"},
		{"window over", ex("GET", h+"/o", tok, at("47.1.1.1"), when(200)), ""},
		{"placeholder token", ex("GET", h+"/o", hdr("Authorization", "Bearer [REDACTED]"), at("48.1.1.1"), when(201)), ""},
	})
	t.Run("bounded", func(t *testing.T) {
		d := NewTokenShare(TokenShareConfig{MaxTokens: 10})
		for i := range 100 {
			d.Analyze(context.Background(), ex("GET", h+"/o", hdr("X-Api-Key", fmt.Sprintf("key-%020d", i))))
		}
		if n := len(d.cur) + len(d.prev); n > 10 {
			t.Errorf("%d tokens kept, want <= 10", n)
		}
	})
}

func TestBulk(t *testing.T) {
	const h = "https://api.shop.test"
	d := NewBulk(BulkConfig{Learn: 5})
	size := func(n int64) func(*vigil.Exchange) { return func(x *vigil.Exchange) { x.Response.BodySize = n } }
	steps := repeat(5, func(i int) step {
		return step{"learn", ex("GET", fmt.Sprintf("%s/api/v2/orders/%d", h, i), size(int64(800+i*100))), ""}
	})
	steps = append(steps,
		step{"a bigger page", ex("GET", h+"/api/v2/orders/9", size(30<<10)), ""},
		step{"a whole table", ex("GET", h+"/api/v2/orders/9", size(5<<20)), "the largest of this endpoint so far (30720 bytes)"},
		step{"grown slowly", ex("GET", h+"/api/v2/orders/9", size(200<<10)), ""},
		step{"error page", ex("GET", h+"/api/v2/orders/9", size(50<<20), resp(500, "x")), ""},
		step{"other endpoint still learning", ex("GET", h+"/api/v2/export", size(50<<20)), ""},
	)
	runSteps(t, d, bulkID, steps)
	t.Run("bounded", func(t *testing.T) {
		d := NewBulk(BulkConfig{MaxEndpoints: 10})
		for i := range 100 {
			d.Analyze(context.Background(), ex("GET", fmt.Sprintf("%s/e%d", h, i)))
		}
		if len(d.eps) > 10 {
			t.Errorf("%d endpoints kept, want <= 10", len(d.eps))
		}
	})
}

// TestStatefulConcurrent runs each learning detector over the corpus from
// several goroutines (run with -race): no error, no crash.
func TestStatefulConcurrent(t *testing.T) {
	xs, _ := loadCorpus(t)
	for _, f := range Builtin() {
		if !statefulIDs[f.ID] {
			continue
		}
		t.Run(f.ID, func(t *testing.T) {
			a := f.New()
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := g; i < len(xs); i += 4 {
						if _, err := a.Analyze(context.Background(), &xs[i]); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestStatefulSimulator runs the learning detectors over the simulator
// fixture: no benign actor may get a finding from them.
func TestStatefulSimulator(t *testing.T) {
	dir := filepath.Join("..", "testdata", "sim")
	truth, err := simulate.ReadTruthFile(filepath.Join(dir, "seed7-30s.truth.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	campaign := map[string]string{} // addr → campaign
	for _, l := range truth {
		campaign[l.Addr] = l.Campaign
	}
	xs := readSimTraffic(t, filepath.Join(dir, "seed7-30s.traffic.jsonl.gz"))
	for _, f := range Builtin() {
		if !statefulIDs[f.ID] {
			continue
		}
		t.Run(f.ID, func(t *testing.T) {
			a := f.New()
			benign, attacks := 0, 0
			for _, x := range xs {
				fs, err := a.Analyze(context.Background(), x)
				if err != nil {
					t.Fatal(err)
				}
				c := campaign[x.Actor.Addr]
				if c == "benign" {
					benign++
				}
				for _, fd := range fs {
					if c == "benign" || c == "" {
						t.Errorf("finding on %q actor %s: %s %+v", c, x.Actor.Key(), fd, fd.Evidence)
					} else {
						attacks++
					}
				}
			}
			if benign < 1000 {
				t.Fatalf("only %d benign exchanges joined to the truth", benign)
			}
			t.Logf("%d exchanges, %d benign, %d findings on attackers", len(xs), benign, attacks)
		})
	}
}

func TestHeaders(t *testing.T) {
	const h = "https://api.shop.test"
	d := NewHeaders()
	cust := as("c1", "customer")
	secure := resp(200, `{"email":"a@b.c"}`, "Cache-Control", "no-store", "X-Content-Type-Options", "nosniff", "Strict-Transport-Security", "max-age=600")
	runSteps(t, d, headersID, []step{
		{"secure", ex("GET", h+"/api/v2/users/me", cust, secure), ""},
		{"no cache control", ex("GET", h+"/api/v2/orders/1", cust, resp(200, `{"id":1}`, "X-Content-Type-Options", "nosniff", "Strict-Transport-Security", "max-age=1")), "browsers and shared caches"},
		{"same endpoint again", ex("GET", h+"/api/v2/orders/2", cust, resp(200, `{"id":2}`, "X-Content-Type-Options", "nosniff", "Strict-Transport-Security", "max-age=1")), ""},
		{"same endpoint, other headers missing", ex("GET", h+"/api/v2/orders/3", cust, resp(200, `{"id":3}`)), "sniff the JSON"},
		{"no credentials", ex("GET", h+"/api/v2/products", resp(200, `{"id":3}`)), ""},
		{"error", ex("GET", h+"/api/v2/cart", cust, resp(404, `{"error":"x"}`)), ""},
		{"not JSON", ex("GET", h+"/api/v2/export", cust, resp(200, "a,b", "Content-Type", "text/csv")), ""},
		{"plain http, no HSTS expected", ex("GET", "http://api.shop.test/api/v2/me", cust, resp(200, `{}`, "Cache-Control", "private", "X-Content-Type-Options", "nosniff")), ""},
		{"https without HSTS", ex("GET", h+"/api/v2/me", cust, resp(200, `{}`, "Cache-Control", "private", "X-Content-Type-Options", "nosniff")), "downgraded"},
	})
	fs, _ := NewHeaders().Analyze(context.Background(), ex("GET", h+"/a", cust, resp(200, `{}`)))
	if len(fs) != 1 || fs[0].Severity != vigil.SeverityLow || fs[0].Category != vigil.API8Misconfiguration {
		t.Errorf("finding %+v: want one low API8 finding", fs)
	}
}
