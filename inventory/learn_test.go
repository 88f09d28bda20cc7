package inventory

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate"
)

func TestLearnerFixedRules(t *testing.T) {
	l := NewLearner(LearnerConfig{})
	for _, c := range []struct{ path, want string }{
		{"/api/v2/orders/8812/items/3", "/api/v2/orders/{id}/items/{id}"},
		{"/api/v2/users/me", "/api/v2/users/me"},
		{"/api/v2/giftcards/GC-1434/balance", "/api/v2/giftcards/{id}/balance"},
		{"/api/v2/invoices/INV2024001", "/api/v2/invoices/{id}"},
		{"/video/h264/profiles", "/video/h264/profiles"},
		{"/files/5f3c9a1e2b4d6f80a1c3e5f7a9b1c3d5", "/files/{id}"},
		{"//api//v2/products/", "/api/v2/products"},
		{"", "/"},
		{"/", "/"},
		{"/api/v2/orders/{id}", "/api/v2/orders/{id}"}, // a template maps to itself
		{"/" + strings.Repeat("a", 200), "/{id}"},      // no endpoint is named by a long word
	} {
		if got := l.Observe("shop.test", c.path); got != c.want {
			t.Errorf("Observe(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestLearnerDepthCap(t *testing.T) {
	l := NewLearner(LearnerConfig{})
	deep := strings.Repeat("/a", maxDepth+10)
	got := l.Observe("h", deep)
	if want := strings.Repeat("/a", maxDepth) + "/" + Other; got != want {
		t.Errorf("deep path = %q, want %q", got, want)
	}
}

// TestLearnerCardinality: a position with many distinct words becomes a
// parameter, the popular literal beside it stays, versions stay, and
// templates made before the position was learned move with Retemplate.
func TestLearnerCardinality(t *testing.T) {
	l := NewLearner(LearnerConfig{})
	for range 50 {
		l.Observe("h", "/v1/users/me")
	}
	early := l.Observe("h", "/v1/users/alice")
	if early != "/v1/users/alice" {
		t.Fatalf("first username = %q, want it literal while the position is young", early)
	}
	gen := l.Generation()
	for i := range 200 {
		l.Observe("h", "/v1/users/"+names[i%40]+"/repos")
		if i%2 == 0 {
			l.Observe("h", "/v1/users/me")
		}
	}
	if l.Generation() == gen {
		t.Fatal("40 distinct usernames did not make the position a parameter")
	}
	for _, c := range []struct{ path, want string }{
		{"/v1/users/zoe-unseen", "/v1/users/{id}"},
		{"/v1/users/me", "/v1/users/me"},
		{"/v1/users/bob/repos", "/v1/users/{id}/repos"},
	} {
		if got := l.Observe("h", c.path); got != c.want {
			t.Errorf("Observe(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	if got := l.Retemplate("h", early); got != "/v1/users/{id}" {
		t.Errorf("Retemplate(%q) = %q, want /v1/users/{id}", early, got)
	}

	// Versions are never a parameter, however many there are.
	v := NewLearner(LearnerConfig{MaxLiterals: 4})
	for i := range 10 {
		v.Observe("h", "/api/v"+strconv.Itoa(i)+"/users")
	}
	if got := v.Observe("h", "/api/v7/users"); got != "/api/v7/users" {
		t.Errorf("version segment = %q, want literal", got)
	}
}

// TestLearnerShapeRun: a few values of one generated-looking shape are
// enough.
func TestLearnerShapeRun(t *testing.T) {
	l := NewLearner(LearnerConfig{})
	for _, code := range []string{"ab12x", "cd34y", "ef56z", "gh78w", "ij90v"} {
		l.Observe("h", "/coupons/"+code+"/redeem")
	}
	if got := l.Observe("h", "/coupons/kl11q/redeem"); got != "/coupons/{id}/redeem" {
		t.Errorf("coupon codes = %q, want /coupons/{id}/redeem", got)
	}
	for _, w := range []string{"search", "popular", "expiring"} {
		if got := l.Observe("h", "/deals/"+w); got != "/deals/"+w {
			t.Errorf("word %q = %q, want literal", w, got)
		}
	}
}

// TestLearnerFloodIsBounded: a million random paths from a scanner fold
// into a few templates, the tree stays within its cap, and the real API's
// templates survive.
func TestLearnerFloodIsBounded(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	l := NewLearner(LearnerConfig{MaxNodes: 5_000})
	r := rand.New(rand.NewPCG(1, 2))
	templates := map[string]bool{}
	for i := range n {
		if i%10 == 0 {
			l.Observe("h", "/api/v2/products/"+strconv.Itoa(r.IntN(1000)))
			continue
		}
		p := "/" + randWord(r)
		if r.IntN(2) == 0 {
			p += "/" + randWord(r) + "/" + randWord(r)
		}
		if len(templates) < 10_000 {
			templates[l.Observe("h", p)] = true
		} else {
			l.Observe("h", p)
		}
	}
	st := l.Stats()
	if st.Nodes > 5_000+100 {
		t.Errorf("tree holds %d nodes, cap 5000", st.Nodes)
	}
	if got := l.Observe("h", "/api/v2/products/77"); got != "/api/v2/products/{id}" {
		t.Errorf("real endpoint after the flood = %q", got)
	}
	final := map[string]bool{}
	for tp := range templates {
		final[l.Retemplate("h", tp)] = true
	}
	if len(final) > 50 {
		t.Errorf("the flood left %d templates, want a handful", len(final))
	}
	t.Logf("%d random paths: %d nodes, %d positions learned, %d templates after retemplating", n, st.Nodes, st.Learned, len(final))
}

func randWord(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 3+r.IntN(8))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

func TestLearnerConcurrent(t *testing.T) {
	l := NewLearner(LearnerConfig{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				l.Observe("h", fmt.Sprintf("/v1/users/%s/repos/%d", names[(i+g)%len(names)], i))
				l.Retemplate("h", "/v1/users/alice")
			}
		})
	}
	wg.Wait()
	if got := l.Observe("h", "/v1/users/someone-new/repos/1"); got != "/v1/users/{id}/repos/{id}" {
		t.Errorf("after concurrent learning: %q", got)
	}
}

// names are usernames and slugs for the second test API.
var names = func() []string {
	first := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
		"niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara", "zack", "anna", "ben",
		"chloe", "dmitri", "elena", "farid", "gwen", "hugo", "ines", "jonas", "kira", "liam", "mei", "noah", "omar",
		"priya", "quinn", "rosa", "sven"}
	var out []string
	for _, f := range first {
		out = append(out, f, f+"-dev", f+"k")
	}
	return out
}()

// TestTemplatingPrecisionRecall measures the templater against ground
// truth: the demo shop's simulated traffic (the template each simulated
// request aims at) and a second, differently shaped API generated here.
// Both figures are over endpoints that exist (answered other than 404/405),
// with parameter names ignored; both must be at least 0.98.
func TestTemplatingPrecisionRecall(t *testing.T) {
	t.Run("shop", func(t *testing.T) {
		obs := shopObservations(t, "../testdata/sim/seed7-30s.traffic.jsonl.gz", "../testdata/sim/seed7-30s.truth.jsonl.gz")
		checkPrecisionRecall(t, obs)
	})
	t.Run("collab", func(t *testing.T) {
		checkPrecisionRecall(t, collabObservations(20_000, 3))
	})
}

// observation is one request with its true template.
type observation struct {
	host, method, path, truth string
	exists                    bool // the endpoint answered other than 404/405
}

var paramPattern = regexp.MustCompile(`\{[^}/]*\}`)

func normTemplate(t string) string { return paramPattern.ReplaceAllString(t, "{}") }

func checkPrecisionRecall(t *testing.T, obs []observation) {
	t.Helper()
	l := NewLearner(LearnerConfig{})
	made := make([]string, len(obs))
	for i, o := range obs {
		made[i] = l.Observe(o.host, o.path)
	}
	found, truth := map[string]bool{}, map[string]bool{}
	right := 0
	for i, o := range obs {
		got := normTemplate(l.Retemplate(o.host, made[i]))
		want := normTemplate(o.truth)
		if got == want {
			right++
		}
		if o.exists {
			found[o.method+" "+got] = true
			truth[o.method+" "+want] = true
		}
	}
	both := 0
	var wrong []string
	for k := range found {
		if truth[k] {
			both++
		} else {
			wrong = append(wrong, "extra "+k)
		}
	}
	for k := range truth {
		if !found[k] {
			wrong = append(wrong, "missed "+k)
		}
	}
	sort.Strings(wrong)
	precision := float64(both) / float64(len(found))
	recall := float64(both) / float64(len(truth))
	t.Logf("templating: precision %.3f, recall %.3f over %d true endpoints; %d of %d requests templated exactly",
		precision, recall, len(truth), right, len(obs))
	if precision < 0.98 || recall < 0.98 {
		t.Errorf("precision %.3f, recall %.3f, want both ≥ 0.98; differences:\n%s", precision, recall, strings.Join(wrong, "\n"))
	}
}

// shopObservations joins captured traffic to the simulator's truth: by actor
// address, method and path, in order.
func shopObservations(t *testing.T, trafficPath, truthPath string) []observation {
	t.Helper()
	type key struct{ addr, method, path string }
	queue := map[key][]string{}
	exists := map[key][]bool{}
	lines, err := simulate.ReadTruthFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		k := key{l.Addr, l.Method, l.Path}
		queue[k] = append(queue[k], l.Template)
		exists[k] = append(exists[k], l.Status != 404 && l.Status != 405 && l.Status != 0)
	}
	var obs []observation
	for _, x := range readTraffic(t, trafficPath) {
		if x.Request.Host() == "payments.partner.test" {
			continue // the shop's own calls to its partner, through the egress proxy: no truth line
		}
		k := key{x.Actor.Addr, x.Request.Method, x.Request.Path()}
		if len(queue[k]) == 0 {
			t.Fatalf("exchange %s %s from %s has no truth line", x.Request.Method, x.Request.Path(), x.Actor.Addr)
		}
		obs = append(obs, observation{host: x.Request.Host(), method: k.method, path: k.path, truth: queue[k][0], exists: exists[k][0]})
		queue[k], exists[k] = queue[k][1:], exists[k][1:]
	}
	if len(obs) < 1000 {
		t.Fatalf("only %d exchanges joined", len(obs))
	}
	return obs
}

// collabObservations generates traffic for a second API shaped unlike the
// shop: usernames, repository slugs and country codes as parameters (no
// number or UUID to give them away), literals beside them ("/users/me",
// "/search/repos"), two versions, hashes and numbers, skewed popularity.
func collabObservations(n int, seed uint64) []observation {
	r := rand.New(rand.NewPCG(seed, seed+1))
	repos := []string{}
	for _, a := range []string{"web", "api", "infra", "docs", "mobile", "data", "ml", "ops", "auth", "billing", "search", "chat"} {
		for _, b := range []string{"app", "service", "tools", "kit", "lib"} {
			repos = append(repos, a+"-"+b)
		}
	}
	countries := strings.Fields("fr de es it pt nl be lu ch at pl cz sk hu ro bg gr cy mt ie uk us ca mx br ar cl co pe jp kr cn in id th vn ph my sg au nz za ng ke eg ma tn dz")
	user := func() string { return names[min(len(names)-1, int(r.ExpFloat64()*20))] }
	type op struct {
		method, truth string
		path          func() string
		weight        int
		exists        bool
	}
	ops := []op{
		{"GET", "/v1/users/me", func() string { return "/v1/users/me" }, 30, true},
		{"GET", "/v1/users/{username}", func() string { return "/v1/users/" + user() }, 20, true},
		{"GET", "/v1/users/{username}/repos", func() string { return "/v1/users/" + user() + "/repos" }, 10, true},
		{"GET", "/v1/repos/{owner}/{repo}", func() string { return "/v1/repos/" + user() + "/" + repos[r.IntN(len(repos))] }, 20, true},
		{"GET", "/v1/repos/{owner}/{repo}/pulls", func() string { return "/v1/repos/" + user() + "/" + repos[r.IntN(len(repos))] + "/pulls" }, 10, true},
		{"GET", "/v1/repos/{owner}/{repo}/pulls/{number}", func() string {
			return "/v1/repos/" + user() + "/" + repos[r.IntN(len(repos))] + "/pulls/" + strconv.Itoa(1+r.IntN(500))
		}, 10, true},
		{"POST", "/v1/repos/{owner}/{repo}/issues", func() string { return "/v1/repos/" + user() + "/" + repos[r.IntN(len(repos))] + "/issues" }, 5, true},
		{"GET", "/v1/search/repos", func() string { return "/v1/search/repos" }, 8, true},
		{"GET", "/v1/countries/{cc}", func() string { return "/v1/countries/" + countries[r.IntN(len(countries))] }, 6, true},
		{"GET", "/v1/files/{sha256}", func() string { return fmt.Sprintf("/v1/files/%064x", r.Uint64()) }, 4, true},
		{"GET", "/v1/teams/{slug}/members", func() string { return "/v1/teams/" + repos[r.IntN(len(repos))] + "/members" }, 4, true},
		{"GET", "/v2/users/{username}", func() string { return "/v2/users/" + user() }, 4, true},
		{"GET", "/v1/health", func() string { return "/v1/health" }, 3, true},
		{"GET", "/v1/releases/{date}", func() string { return fmt.Sprintf("/v1/releases/2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)) }, 2, true},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	obs := make([]observation, 0, n)
	for range n {
		w := r.IntN(total)
		for _, o := range ops {
			if w < o.weight {
				obs = append(obs, observation{host: "collab.test", method: o.method, path: o.path(), truth: o.truth, exists: o.exists})
				break
			}
			w -= o.weight
		}
	}
	return obs
}

// BenchmarkLearnerObserve: learned templating of the second test API's
// paths, against the fixed-template baseline timed in the same run.
func BenchmarkLearnerObserve(b *testing.B) {
	obs := collabObservations(10_000, 5)
	xs := make([]*vigil.Exchange, len(obs))
	for i, o := range obs {
		xs[i] = &vigil.Exchange{Request: vigil.Request{Method: o.method, URL: &url.URL{Host: o.host, Path: o.path}}}
	}
	l := NewLearner(LearnerConfig{})
	for _, x := range xs {
		l.Observe(x.Request.Host(), x.Request.Path())
	}
	benchAgainstTemplate(b, xs, func(x *vigil.Exchange) { l.Observe(x.Request.Host(), x.Request.Path()) })
}

// FuzzLearner feeds a learner a stream of paths cut from the input and
// checks its invariants: no panic, templates start with "/" and have no
// empty segment, Retemplate of a template is stable, the tree stays within
// its cap, and no template is longer than its path plus the parameter
// markers.
func FuzzLearner(f *testing.F) {
	f.Add("/api/v2/orders/8812\n/api/v2/orders/8813\n/users/me\n/users/alice\n/users/bob")
	f.Add("//a//b/\n/{id}/x\n/" + strings.Repeat("z/", 40))
	f.Add("/giftcards/GC-0001/balance\n/giftcards/GC-0002/balance\n/giftcards/GC-0003/balance\n/giftcards/GC-0004/balance")
	f.Fuzz(func(t *testing.T, input string) {
		l := NewLearner(LearnerConfig{MaxLiterals: 3, ShapeRun: 2, MaxNodes: 64})
		var made []string
		for _, p := range strings.Split(input, "\n") {
			got := l.Observe("h", p)
			if !strings.HasPrefix(got, "/") || (got != "/" && strings.Contains(got, "//")) {
				t.Fatalf("Observe(%q) = %q", p, got)
			}
			if len(got) > len(p)+(maxDepth+1)*(len(Other)+1)+1 {
				t.Fatalf("Observe(%q) = %q: longer than its path allows", p, got)
			}
			made = append(made, got)
		}
		for _, m := range made {
			r := l.Retemplate("h", m)
			if again := l.Retemplate("h", r); again != r {
				t.Fatalf("Retemplate not stable: %q → %q → %q", m, r, again)
			}
		}
		if st := l.Stats(); st.Nodes > 64+maxDepth*2+8 {
			t.Fatalf("tree holds %d nodes, cap 64", st.Nodes)
		}
	})
}
