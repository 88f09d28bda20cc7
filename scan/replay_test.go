package scan

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/simulate/shop"
	"github.com/vigilsec/vigil/store/sqlite"
)

const simTraffic = "../testdata/sim/seed7-30s.traffic.jsonl.gz"

var (
	simOnce     sync.Once
	simFindings []vigil.Finding
	simErr      error
)

// simulatedFindings runs the simulator's 30 s capture of the demo shop
// through Vigil's detectors as vigil analyze does (technique detectors,
// mass assignment against the shop's spec, the behavioural detectors; ids
// and endpoints filled as the pipeline fills them), writes the findings to
// a SQLite store, and reads back those the built-in replay templates take.
func simulatedFindings(t *testing.T) []vigil.Finding {
	t.Helper()
	simOnce.Do(func() { simFindings, simErr = loadSimFindings(t.TempDir()) })
	if simErr != nil {
		t.Fatal(simErr)
	}
	return simFindings
}

func loadSimFindings(dir string) ([]vigil.Finding, error) {
	ctx := context.Background()
	xs, err := ingest.ReadAll(simTraffic, ingest.Options{})
	if err != nil {
		return nil, err
	}
	sp, err := spec.Parse("openapi.yaml", shop.Spec())
	if err != nil {
		return nil, err
	}
	as, err := detect.New(detect.Builtin())
	if err != nil {
		return nil, err
	}
	as = append(as, inventory.NewMassAssignment(spec.NewSet(sp)))
	as = append(as, behavior.All(behavior.Config{})...)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	n := 0
	for _, x := range xs {
		ep := vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: inventory.Template(x.Request.Path())}
		for _, a := range as {
			fs, err := a.Analyze(ctx, x)
			if err != nil {
				return nil, err
			}
			for i := range fs {
				n++
				fs[i].ID = fmt.Sprintf("f%04d", n)
				if fs[i].Endpoint == (vigil.Endpoint{}) {
					fs[i].Endpoint = ep
				}
				if fs[i].Time.IsZero() {
					fs[i].Time = x.Time
				}
			}
			if err := st.WriteFindings(ctx, fs); err != nil {
				return nil, err
			}
		}
	}
	ts, err := BuiltinTemplates()
	if err != nil {
		return nil, err
	}
	return DetectedFrom(ctx, st, ts)
}

func replayTemplates(t *testing.T) []*Template {
	t.Helper()
	return builtinWhere(t, func(x *Template) bool { return x.Kind == KindReplay })
}

// builtinWhere returns the built-in templates keep says yes to.
func builtinWhere(t testing.TB, keep func(*Template) bool) []*Template {
	t.Helper()
	ts, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	var out []*Template
	for _, x := range ts {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// replayTruth maps a confirmed replay (test id and operation) to the
// shop's ground truth.
var replayTruth = map[string]string{
	"replay.sqli GET /api/v2/products/search":                "sqli-search",
	"replay.ssrf POST /api/v2/imports":                       "ssrf-import",
	"replay.bola GET /api/v2/orders/{id}":                    "bola-orders",
	"replay.bola GET /api/v2/addresses/{id}":                 "bola-addresses",
	"replay.bfla POST /api/v2/admin/coupons":                 "bfla-admin-coupons",
	"replay.mass-assignment PATCH /api/v2/users/me":          "mass-assignment-role",
	"replay.mass-assignment POST /api/v2/cart/items":         "mass-assignment-price",
	"replay.prompt POST /api/v2/support/chat":                "prompt-injection",
	"replay.rate-limit GET /api/v2/giftcards/{code}/balance": "no-rate-limit-giftcard",
	"replay.rate-limit POST /api/v2/auth/login":              "no-rate-limit-login",
}

// TestReplayShop replays the attacks Vigil detected in the simulator's
// traffic against the vulnerable shop (each confirmed attack is a planted
// flaw; the technique detectors' attacks are all confirmed) and against
// its hardened twin (nothing confirmed, and what was confirmed before is
// tested again and passes).
func TestReplayShop(t *testing.T) {
	fs := simulatedFindings(t)
	ids := map[string]bool{}
	for _, f := range fs {
		ids[f.ID] = true
	}
	vulns, err := shop.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]bool{}
	for _, v := range vulns {
		truth[v.ID] = true
	}
	for k, id := range replayTruth {
		if !truth[id] {
			t.Fatalf("%s: %s is not in the shop's ground truth", k, id)
		}
	}
	confirmed := map[string]bool{}
	for _, hardened := range []bool{false, true} {
		s := startShop(t, shop.Options{Hardened: hardened})
		cfg := shopConfig(t, s.URL())
		cfg.Templates = replayTemplates(t)
		cfg.Findings = fs
		rep, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]Status{}
		for _, r := range rep.Results {
			key := r.Test + " " + r.Operation
			status[key] = r.Status
			switch r.Status {
			case StatusError:
				t.Errorf("hardened %v: %s: error %s", hardened, key, r.Detail)
			case StatusFail:
				if hardened {
					t.Errorf("hardened shop: %s confirmed: %s", key, r.Detail)
				} else if _, ok := replayTruth[key]; !ok {
					t.Errorf("%s confirmed, but it is no planted flaw: %s", key, r.Detail)
				}
				if len(r.Evidence) == 0 {
					t.Errorf("%s: confirmed without evidence", key)
				}
				confirmed[key] = true
			case StatusSkipped:
				if !strings.HasPrefix(r.Detail, "not replayed: ") {
					t.Errorf("%s skipped without saying why: %s", key, r.Detail)
				}
			}
			// Every result names the findings it came from.
			m := regexp.MustCompile(`from (\d+ findings|finding) (f\d{4})`).FindStringSubmatch(r.Detail)
			if m == nil || !ids[m[2]] {
				t.Errorf("%s: the detail names no finding of the store: %s", key, r.Detail)
			}
		}
		if !hardened {
			for _, key := range []string{"replay.sqli GET /api/v2/products/search", "replay.ssrf POST /api/v2/imports",
				"replay.bola GET /api/v2/orders/{id}", "replay.bfla POST /api/v2/admin/coupons",
				"replay.mass-assignment PATCH /api/v2/users/me", "replay.mass-assignment POST /api/v2/cart/items"} {
				if status[key] != StatusFail {
					t.Errorf("%s: %q, want it confirmed", key, status[key])
				}
			}
			for key, want := range map[string]string{
				"replay.bola GET /api/v1/orders/{id}": "not in the spec",
				"replay.bfla GET /internal/debug":     "not in the spec",
				"replay.bfla GET /api/v2/admin/users": "not reproduced", // customers are refused: the finding was a false alarm
				"replay.unsupported 2 endpoints":      "detect.misconfig.verbose",
			} {
				i := slices.IndexFunc(rep.Results, func(r Result) bool { return r.Test+" "+r.Operation == key && strings.Contains(r.Detail, want) })
				if i < 0 {
					t.Errorf("no result %s saying %q", key, want)
				}
			}
			continue
		}
		for key := range confirmed {
			if status[key] != StatusPass {
				t.Errorf("hardened shop: %s: %q, want pass (tested again, not reproduced)", key, status[key])
			}
		}
	}
}

// TestReplayRules replays hand-made findings against the notes API with
// and without its flaws: what is confirmed, what passes, what is skipped
// and why.
func TestReplayRules(t *testing.T) {
	ep := func(m, p string) vigil.Endpoint { return vigil.Endpoint{Host: "api.test", Method: m, Template: p} }
	ev := func(where, why string) []vigil.Evidence {
		return []vigil.Evidence{{Where: where, Value: "[redacted]", Why: why}}
	}
	sqli := func(id string, e vigil.Endpoint, where string) vigil.Finding {
		return vigil.Finding{ID: id, Detector: "detect.injection.sqli", Endpoint: e, Title: "SQL injection attempt", Evidence: ev(where, "SQL injection: libinjection")}
	}
	for _, tc := range []struct {
		name     string
		flaws    []string
		safe     bool
		findings []vigil.Finding
		want     []string // "status test operation | detail substring", in result order
	}{
		{"sqli confirmed", []string{"sqli"}, false,
			[]vigil.Finding{sqli("a1", ep("GET", "/search"), "query.q"), sqli("a2", ep("GET", "/search"), "query.q")},
			[]string{"fail replay.sqli GET /search | from 2 findings a1, a2 (detect.injection.sqli)"}},
		{"sqli not reproduced", nil, false,
			[]vigil.Finding{sqli("a1", ep("GET", "/search"), "query.q")},
			[]string{"pass replay.sqli GET /search | not reproduced: inject.sql-error"}},
		{"in a header", []string{"sqli"}, false,
			[]vigil.Finding{sqli("a1", ep("GET", "/search"), "header.User-Agent")},
			[]string{"skipped replay.sqli GET /search | the attack was in header.User-Agent"}},
		{"outside the spec: a GET with a query parameter", []string{"sqli", "legacy"}, false,
			[]vigil.Finding{sqli("a1", ep("GET", "/v0/search"), "query.q")},
			[]string{"fail replay.sqli GET /v0/search | inject.sql-error"}},
		{"outside the spec: a POST", []string{"sqli"}, false,
			[]vigil.Finding{sqli("a1", ep("POST", "/v0/notes"), "body.text")},
			[]string{"skipped replay.sqli POST /v0/notes | not in the spec"}},
		{"no endpoint", nil, false,
			[]vigil.Finding{sqli("a1", vigil.Endpoint{}, "query.q")},
			[]string{"skipped replay.sqli (no endpoint) | names no endpoint"}},
		{"alg none confirmed", []string{"jwt"}, false,
			[]vigil.Finding{{ID: "j1", Detector: "detect.auth.jwt", Endpoint: ep("GET", "/me"), Title: "Unsigned JWT (alg none)", Evidence: ev("header.Authorization", "alg none")}},
			[]string{"fail replay.jwt-alg-none GET /me | auth.jwt-alg-none: accepted with an unsigned"}},
		{"alg none refused", nil, false,
			[]vigil.Finding{{ID: "j1", Detector: "detect.auth.jwt", Endpoint: ep("GET", "/me"), Title: "Unsigned JWT (alg none)", Evidence: ev("header.Authorization", "alg none")}},
			[]string{"pass replay.jwt-alg-none GET /me | refused"}},
		{"expired token without one to send", nil, false,
			[]vigil.Finding{{ID: "j2", Detector: "detect.auth.jwt", Endpoint: ep("GET", "/me"), Title: "Expired JWT accepted"}},
			[]string{"skipped replay.expired-token GET /me | needs an identity with an expired_token"}},
		{"command injection, by technique", []string{"command"}, false,
			[]vigil.Finding{{ID: "c1", Detector: "detect.injection.other", Endpoint: ep("GET", "/ping"), Evidence: ev("query.host", "command injection: shell metacharacters")}},
			[]string{"fail replay.command GET /ping | inject.command"}},
		{"xss confirmed", []string{"xss"}, false,
			[]vigil.Finding{{ID: "x1", Detector: "detect.injection.xss", Endpoint: ep("GET", "/greet"), Evidence: ev("query.name", "script tag")}},
			[]string{"fail replay.xss GET /greet | inject.xss-reflected"}},
		{"xss escaped", nil, false,
			[]vigil.Finding{{ID: "x1", Detector: "detect.injection.xss", Endpoint: ep("GET", "/greet"), Evidence: ev("query.name", "script tag")}},
			[]string{"pass replay.xss GET /greet | not reproduced"}},
		{"ssrf with --safe", []string{"ssrf"}, true,
			[]vigil.Finding{{ID: "s1", Detector: "detect.ssrf", Endpoint: ep("POST", "/fetch"), Evidence: ev("body.url", "loopback address")}},
			[]string{"skipped replay.ssrf POST /fetch | skipped by --safe"}},
		{"ssrf confirmed", []string{"ssrf"}, false,
			[]vigil.Finding{{ID: "s1", Detector: "detect.ssrf", Endpoint: ep("POST", "/fetch"), Evidence: ev("body.url", "loopback address")}},
			[]string{"fail replay.ssrf POST /fetch | the target called it"}},
		{"bola confirmed", []string{"bola"}, false,
			[]vigil.Finding{{ID: "b1", Detector: "behavior.bola", Endpoint: ep("GET", "/notes/{id}"), Evidence: ev("object.id", "owned by another principal")}},
			[]string{"fail replay.bola GET /notes/{id} | bola.read-other-object"}},
		{"mass assignment of a property the response shows", []string{"mass"}, false,
			[]vigil.Finding{{ID: "m1", Detector: "detect.mass-assignment", Endpoint: ep("PATCH", "/me"), Evidence: ev("body.role", "privilege-like property not in the spec")}},
			[]string{"fail replay.mass-assignment PATCH /me | \"role\""}},
		{"no replay test", nil, false,
			[]vigil.Finding{{ID: "r1", Detector: "recon.probe", Endpoint: ep("GET", "/.env")}, {ID: "r2", Detector: "recon.probe", Endpoint: ep("GET", "/.git/config")}},
			[]string{"skipped replay.unsupported 2 endpoints | no replay test takes these findings of recon.probe; from 2 findings r1, r2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flaws := map[string]bool{}
			for _, f := range tc.flaws {
				flaws[f] = true
			}
			srv := httptest.NewServer(&notes{flaws: flaws, role: map[string]string{"alice": "user", "bob": "user", "root": "admin"}})
			defer srv.Close()
			cfg := notesConfig(t, srv.URL, "replay.")
			cfg.Findings, cfg.Safe = tc.findings, tc.safe
			rep, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(tc.want) {
				for _, r := range rep.Results {
					t.Logf("%s %s %s: %s", r.Status, r.Test, r.Operation, r.Detail)
				}
				t.Fatalf("%d results, want %d", len(rep.Results), len(tc.want))
			}
			for i, w := range tc.want {
				head, sub, _ := strings.Cut(w, " | ")
				r := rep.Results[i]
				if got := fmt.Sprintf("%s %s %s", r.Status, r.Test, r.Operation); got != head || !strings.Contains(r.Detail, sub) {
					t.Errorf("got  %s: %s\nwant %s: …%s…", got, r.Detail, head, sub)
				}
			}
		})
	}
}

// TestReplayUses: the templates a replay uses are found among the run's,
// the loaded ones and the built-in ones; a missing one or a replay is an
// error at start.
func TestReplayUses(t *testing.T) {
	parse := func(y string) *Template {
		ts, err := ParseTemplates("t.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		return ts[0]
	}
	rp := parse("id: replay.ldap\nname: L\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: [custom.ldap], uses: [inject.ldap]}\n")
	ldap := parse("id: inject.ldap\nname: L\nkind: inject\ncategory: API8:2023\nseverity: high\npayloads: [{value: 'x*)'}]\nmatchers: [{body: ldap_search}]\n")
	loop := parse("id: replay.loop\nname: L\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: [d], uses: [replay.sqli]}\n")
	for _, tc := range []struct {
		name         string
		ts, known    []*Template
		err, useKind string
	}{
		{"missing", []*Template{rp}, nil, "uses inject.ldap, which is no template", ""},
		{"loaded, not selected", []*Template{rp}, []*Template{rp, ldap}, "", KindInject},
		{"selected", []*Template{rp, ldap}, nil, "", KindInject},
		{"a replay", []*Template{loop}, nil, "a replay of its own", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveReplays(tc.ts, tc.known)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case len(got[rp.ID]) != 1 || got[rp.ID][0].Kind != tc.useKind:
				t.Errorf("uses %v", got[rp.ID])
			}
		})
	}
}

// FuzzReplayPlan: whatever a store's finding says (endpoint, evidence
// location, title), planning its replay neither panics nor aims at
// anything but a query, path or body parameter of a known operation.
func FuzzReplayPlan(f *testing.F) {
	f.Add("detect.injection.sqli", "GET", "/search", "query.q", "SQL injection", "SQL injection attempt")
	f.Add("detect.injection.other", "GET", "/ping", "query.host", "command injection: x", "")
	f.Add("detect.ssrf", "POST", "/fetch", "body.url", "loopback", "")
	f.Add("detect.mass-assignment", "PATCH", "/me", "body.role.x.0", "privilege-like property not in the spec", "")
	f.Add("behavior.bola", "GET", "/notes/{id}", "path.1", "owned by another principal", "")
	f.Add("detect.injection.sqli", "GET", "/v0/search", "query.", "", "")
	f.Add("detect.injection.sqli", "GET", "/notes/{id}", "path.-1", "", "")
	f.Add("detect.auth.jwt", "get", "//me", "header.Authorization", "", "Expired JWT accepted")
	f.Add("recon.probe", "", "", "", "", "")
	data, err := os.ReadFile("testdata/notes-api.yaml")
	if err != nil {
		f.Fatal(err)
	}
	api, err := ParseAPI("notes", data)
	if err != nil {
		f.Fatal(err)
	}
	all, err := BuiltinTemplates()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, detector, method, template, where, why, title string) {
		fd := vigil.Finding{ID: "x", Detector: detector, Title: title, Endpoint: vigil.Endpoint{Method: method, Template: template},
			Evidence: []vigil.Evidence{{Where: where, Why: why}}}
		r, err := newRunner(Config{Target: "http://127.0.0.1:9", API: api, Templates: all, Findings: []vigil.Finding{fd}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		for _, tg := range r.replays {
			if tg.skip == "" && tg.op == nil {
				t.Fatalf("%s: a replay without an operation", tg.t.ID)
			}
			for _, p := range tg.places {
				if (p.in != "query" && p.in != "path" && p.in != "body") || p.name == "" {
					t.Fatalf("%s: aimed at %+v", tg.t.ID, p)
				}
			}
		}
	})
}

// TestReplayCap: at most maxReplayTargets replays, and one more result
// says how many findings were left out.
func TestReplayCap(t *testing.T) {
	cfg := notesConfig(t, "http://127.0.0.1:9", "replay.")
	for i := range maxReplayTargets + 100 {
		cfg.Findings = append(cfg.Findings, vigil.Finding{ID: fmt.Sprint(i), Detector: "behavior.bola",
			Endpoint: vigil.Endpoint{Method: "GET", Template: fmt.Sprintf("/v%d/notes/{id}", i)}})
	}
	r, err := newRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if len(r.replays) != maxReplayTargets+1 {
		t.Fatalf("%d replays, want %d", len(r.replays), maxReplayTargets+1)
	}
	last := r.replays[maxReplayTargets]
	if last.count != 100 || !strings.Contains(last.skip, "more than 500 replays") {
		t.Errorf("last replay: %d findings, %q", last.count, last.skip)
	}
}
