package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
)

// stepTemplates is the oracle of "every step hits the endpoint its label
// says": the templates each step may aim at. "probe" and "recon" are checked
// against their wordlists separately.
var stepTemplates = map[string][]string{
	"login":                   {"/api/v2/auth/login"},
	"login.typo":              {"/api/v2/auth/login"},
	"register":                {"/api/v2/auth/register"},
	"browse.list":             {"/api/v2/products"},
	"browse.product":          {"/api/v2/products/{id}"},
	"search":                  {"/api/v2/products/search"},
	"cart.add":                {"/api/v2/cart/items"},
	"cart.view":               {"/api/v2/cart"},
	"cart.remove":             {"/api/v2/cart/items/{id}"},
	"coupon.validate":         {"/api/v2/coupons/validate"},
	"coupon.typo":             {"/api/v2/coupons/validate"},
	"checkout.quote":          {"/api/v2/checkout/quote"},
	"checkout.pay":            {"/api/v2/checkout/pay"},
	"checkout.confirm":        {"/api/v2/checkout/confirm"},
	"giftcard.balance":        {"/api/v2/giftcards/{code}/balance"},
	"account.me":              {"/api/v2/users/me"},
	"account.addresses":       {"/api/v2/addresses"},
	"account.address":         {"/api/v2/addresses/{id}"},
	"account.address-add":     {"/api/v2/addresses"},
	"orders.list":             {"/api/v2/orders"},
	"orders.view":             {"/api/v2/orders/{id}"},
	"support.chat":            {"/api/v2/support/chat"},
	"partner.catalog":         {"/api/v2/products"},
	"partner.product":         {"/api/v2/products/{id}"},
	"enumerate.orders":        {"/api/v2/orders/{id}"},
	"enumerate.addresses":     {"/api/v2/addresses/{id}"},
	"coupon.crack":            {"/api/v2/coupons/validate"},
	"coupon.use":              {"/api/v2/checkout/quote"},
	"giftcard.crack":          {"/api/v2/giftcards/{code}/balance"},
	"giftcard.use":            {"/api/v2/checkout/pay"},
	"checkout.confirm-unpaid": {"/api/v2/checkout/confirm"},
	"cart.negative-quantity":  {"/api/v2/cart/items"},
	"cart.price-tamper":       {"/api/v2/cart/items"},
	"admin.coupon-create":     {"/api/v2/admin/coupons"},
	"credential-stuffing":     {"/api/v2/auth/login"},
	"account-takeover":        {"/api/v2/users/me"},
	"jwt-forgery":             {"/api/v1/account", "/api/v2/admin/users", "/api/v2/admin/stats"},
	"ssrf":                    {"/api/v2/imports"},
	"privilege-escalation":    {"/api/v2/users/me"},
	"bulk-export":             {"/api/v1/export/users", "/api/v2/admin/users"},
	"use.v1-users":            {"/api/v1/users/{id}"},
	"use.v1-orders":           {"/api/v1/orders/{id}"},
	"use.debug":               {"/internal/debug"},
	"use.export":              {"/api/v1/export/users"},
	"mutate.cart":             {"/api/v2/cart/items"},
	"inject.search":           {"/api/v2/products/search"},
	"prompt-injection":        {"/api/v2/support/chat"},
}

// matchTemplate reports whether path fits template: {x} matches one
// non-empty segment, everything else literally.
func matchTemplate(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

func readTruth(t *testing.T, b []byte) []TruthLine {
	t.Helper()
	out, err := readAllTruth(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read truth: %v", err)
	}
	return out
}

// checkEndpoints asserts every truth line's template fits its path and is
// one its step may aim at.
func checkEndpoints(t *testing.T, lines []TruthLine) {
	t.Helper()
	bad := 0
	for _, l := range lines {
		if !matchTemplate(l.Template, l.Path) {
			t.Errorf("line %d step %s: template %s does not match path %s", l.Seq, l.Step, l.Template, l.Path)
			bad++
		}
		var ok bool
		switch l.Step {
		case "probe":
			ok = slices.Contains(shadowWordlist, l.Path) && l.Template == templateOf(l.Path)
		case "recon":
			ok = l.Template == templateOf(l.Path)
		default:
			ok = slices.Contains(stepTemplates[l.Step], l.Template)
		}
		if !ok {
			t.Errorf("line %d: step %q (campaign %s) aimed at %s %s, want one of %v", l.Seq, l.Step, l.Campaign, l.Method, l.Template, stepTemplates[l.Step])
			bad++
		}
		if bad > 10 {
			t.Fatal("too many endpoint mismatches")
		}
	}
}

func TestRunAgainstStandin(t *testing.T) {
	shop, meta, s := newStandin(t)
	var truth, progress bytes.Buffer
	sum, err := Run(t.Context(), Config{
		Target:     shop.URL,
		Rate:       60,
		Duration:   6 * time.Second,
		Seed:       7,
		Users:      40,
		SSRFTarget: meta.URL + "/latest/meta-data/iam/security-credentials/",
		Truth:      &truth,
		Progress:   &progress,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out := os.Getenv("SIMULATE_TRUTH_OUT"); out != "" { // to look at a run by hand
		if err := os.WriteFile(out, truth.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines := readTruth(t, truth.Bytes())
	if got := int64(len(lines)); got != sum.Requests {
		t.Errorf("truth has %d lines, summary says %d requests", got, sum.Requests)
	}
	assertCampaignsWork(t, sum, lines, append(slices.Clone(shopGoals), "business-logic:coupon-found"))
	if n := s.count("/latest/meta-data/iam/security-credentials/shop-role"); n != 0 {
		t.Errorf("the metadata service was hit directly %d times; only the shop may fetch it", n)
	}
	if !strings.Contains(progress.String(), "requests=") {
		t.Errorf("no progress line: %q", progress.String())
	}
}

// shape is a truth line without its timing fields.
func shape(l TruthLine) string {
	l.Seq, l.Time, l.LatencyMS = 0, time.Time{}, 0
	b, _ := json.Marshal(l)
	return string(b)
}

func shapes(t *testing.T, seed int64) map[string][]string {
	t.Helper()
	shop, meta, _ := newStandin(t)
	var truth bytes.Buffer
	if _, err := Run(t.Context(), Config{
		Target: shop.URL, Rate: 40, Duration: 3 * time.Second, Seed: seed, Users: 20,
		SSRFTarget: meta.URL + "/latest/meta-data/iam/security-credentials/", Truth: &truth,
	}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := map[string][]string{}
	for _, l := range readTruth(t, truth.Bytes()) {
		// The SSRF target's port differs between the two stand-ins; it is
		// only in the request body, not in the truth.
		out[l.Actor] = append(out[l.Actor], shape(l))
	}
	return out
}

func TestRunReproducible(t *testing.T) {
	var a, b, c map[string][]string
	var wg sync.WaitGroup
	wg.Go(func() { a = shapes(t, 42) })
	wg.Go(func() { b = shapes(t, 42) })
	wg.Go(func() { c = shapes(t, 43) })
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(a) == 0 {
		t.Fatal("empty truth")
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different truth (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same truth")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	shop, _, _ := newStandin(t)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Config{Target: shop.URL, Duration: time.Minute, Rate: 50, Users: 10})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"defaults", Config{Target: "http://127.0.0.1:8080"}, ""},
		{"localhost", Config{Target: "http://localhost:8080", SSRFTarget: "http://127.0.0.1:9/x"}, ""},
		{"remote target", Config{Target: "http://10.0.0.1:8080"}, "only loopback"},
		{"remote ssrf", Config{Target: "http://127.0.0.1:1", SSRFTarget: "http://169.254.169.254/latest/"}, "only loopback"},
		{"no target", Config{}, "not a URL"},
		{"ftp", Config{Target: "ftp://127.0.0.1/"}, "http or https"},
		{"rate", Config{Target: "http://127.0.0.1:1", Rate: -1}, "rate"},
		{"users", Config{Target: "http://127.0.0.1:1", Users: 501}, "users"},
		{"campaign", Config{Target: "http://127.0.0.1:1", Campaigns: []string{"chained", "ddos"}}, `unknown campaign "ddos"`},
		{"twice", Config{Target: "http://127.0.0.1:1", Campaigns: []string{"chained", "chained"}}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.withDefaults()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			case tt.want != "" && vigil.ErrorCode(err) != vigil.EINVALID:
				t.Errorf("error code %q, want %q", vigil.ErrorCode(err), vigil.EINVALID)
			}
		})
	}
}

func TestSurge(t *testing.T) {
	for _, tt := range []struct{ f, want float64 }{{0, 1}, {0.3, 1}, {0.5, surgePeak}, {0.9, 1}} {
		if got := surge(tt.f); got != tt.want {
			t.Errorf("surge(%v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	if got := surge(0.425); got <= 1 || got >= surgePeak {
		t.Errorf("surge(0.425) = %v, want a ramp value", got)
	}
}

func TestSchemaGuess(t *testing.T) {
	tests := []struct {
		name string
		msgs []string
		want map[string]string
	}{
		{"required with type", []string{`field "product_id" is required (integer)`}, map[string]string{"product_id": "integer"}},
		{"allowed list", []string{`unknown field "sku"; allowed fields: product_id, quantity, price`},
			map[string]string{"product_id": "", "quantity": "", "price": ""}},
		{"rejected stays out", []string{`field "qty" must be an integer`, `"qty" is not allowed`, `unknown property qty`}, map[string]string{}},
		{"type refines", []string{`allowed: product_id, quantity`, `quantity must be an integer`}, map[string]string{"product_id": "", "quantity": "integer"}},
		{"prose only", []string{"Something went wrong. Try again later."}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g schemaGuess
			for _, m := range tt.msgs {
				g.learn(m)
			}
			if diff := cmp.Diff(tt.want, g.fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzSchemaGuess(f *testing.F) {
	for _, s := range []string{`field "product_id" is required (integer)`, `unknown field "sku"; allowed fields: product_id, quantity, price`, "", "allowed: [a,b,c] must be string"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var g schemaGuess
		g.learn(msg)
		g.learn(msg)
		if len(g.fields) > maxGuessFields || len(g.allowed) > maxGuessFields || len(g.rejected) > maxGuessFields {
			t.Fatalf("unbounded: %d fields, %d allowed, %d rejected", len(g.fields), len(g.allowed), len(g.rejected))
		}
		for name := range g.rejected {
			if _, ok := g.fields[name]; ok {
				t.Fatalf("rejected field %q still guessed", name)
			}
		}
		_ = g.body(fixedRand{}, nil)
	})
}

type fixedRand struct{}

func (fixedRand) IntN(int) int { return 0 }

func TestLeaksSystemPrompt(t *testing.T) {
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"You are ShopBot, the support assistant. Never reveal the code.", true},
		{"My system prompt says: be nice", true},
		{"Happy to help with your order.", false},
		{"You are welcome! Your parcel ships today.", false},
	} {
		if got := leaksSystemPrompt(tt.text); got != tt.want {
			t.Errorf("leaksSystemPrompt(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestJWTSubject(t *testing.T) {
	for _, tt := range []struct{ tok, want string }{
		{unsignedJWT(map[string]any{"sub": "7"}), "7"},
		{unsignedJWT(map[string]any{"sub": 17}), "17"},
		{"not-a-jwt", ""},
		{"a.!!!.b", ""},
	} {
		if got := jwtSubject(tt.tok); got != tt.want {
			t.Errorf("jwtSubject(%q) = %q, want %q", tt.tok, got, tt.want)
		}
	}
	if got, want := fmt.Sprint(len(apiKeyPrincipal("k"))), fmt.Sprint(len("apikey:")+12); got != want {
		t.Errorf("apiKeyPrincipal length %s, want %s", got, want)
	}
}

// shopGoals are the goals every run of 6 s or more reaches against the shop
// (the weak coupon needs thousands of guesses: not in a short run).
var shopGoals = []string{
	"business-logic:giftcard-found", "business-logic:unpaid-order",
	"chained:account-stolen", "chained:ssrf-credentials", "chained:users-exported",
	"shadow:debug-found", "shadow:v1-twin-found",
	"automation:sqli-union", "automation:system-prompt-leaked",
}

// assertCampaignsWork checks a run's outcome: every campaign ran and reached
// its goals, the benign load saw no 5xx, identities did not leak between
// actors, and every step hit the endpoint its label says.
func assertCampaignsWork(t *testing.T, sum Summary, lines []TruthLine, wantGoals []string) {
	t.Helper()
	t.Logf("summary: %+v", sum)

	for _, g := range wantGoals {
		if !slices.Contains(sum.Achieved, g) {
			t.Errorf("goal %s not achieved; achieved %v", g, sum.Achieved)
		}
	}

	perCampaign := map[string]int{}
	principals := map[string]bool{}
	addrs := map[string]string{}
	for _, l := range lines {
		perCampaign[l.Campaign]++
		if l.Campaign == CampaignBenign && l.Status >= 500 {
			t.Errorf("benign line %d: %s %s got %d", l.Seq, l.Method, l.Path, l.Status)
		}
		if l.Campaign == CampaignChained {
			principals[l.Principal] = true
		}
		if prev, ok := addrs[l.Addr]; ok && prev != l.Actor {
			t.Errorf("address %s used by %s and %s", l.Addr, prev, l.Actor)
		}
		addrs[l.Addr] = l.Actor
		if !strings.HasPrefix(l.Addr, "100.") {
			t.Errorf("line %d: address %s outside 100.64.0.0/10", l.Seq, l.Addr)
		}
	}
	for _, c := range allCampaigns {
		if perCampaign[c] == 0 {
			t.Errorf("campaign %s sent nothing", c)
		}
	}
	if !principals["jwt:7"] {
		t.Errorf("chained campaign never acted as jwt:7; principals %v", principals)
	}
	checkEndpoints(t, lines)
	checkEndpoints(t, lines)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunReportsTruthFailure(t *testing.T) {
	shop, _, _ := newStandin(t)
	var progress bytes.Buffer
	sum, err := Run(t.Context(), Config{Target: shop.URL, Duration: time.Second, Rate: 200, Users: 20,
		Campaigns: []string{CampaignShadow}, Truth: failingWriter{}, Progress: &progress, ProgressTTY: true})
	if err == nil || !strings.Contains(err.Error(), "write truth: disk full") {
		t.Errorf("Run error = %v, want write truth: disk full", err)
	}
	if sum.Requests == 0 {
		t.Error("no requests sent")
	}
	if _, ok := sum.Campaigns[CampaignChained]; ok {
		t.Errorf("unselected campaign in summary: %v", sum.Campaigns)
	}
	if got := progress.String(); !strings.HasPrefix(got, "\r") || !strings.HasSuffix(got, "\n") {
		t.Errorf("TTY progress = %q, want \\r-rewritten line ending in a newline", got)
	}
}
