package behavior

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

var (
	cartAdd = post("/api/v2/cart/items", `{"product_id":7,"quantity":1}`, 201)
	quote   = post("/api/v2/checkout/quote", `{}`, 201)
	paid    = post("/api/v2/checkout/pay", `{"quote_id":"q_000001","card":{"number":"[REDACTED]"}}`, 200)
	confirm = post("/api/v2/checkout/confirm", `{"quote_id":"q_000001","payment_id":"pay_00000001"}`, 201)
)

func withStatus(r req, status int) req { r.status = status; return r }
func after(r req, d time.Duration) req { r.after = d; return r }

func TestFlowSkip(t *testing.T) {
	tests := []struct {
		name  string
		flows []Flow
		reqs  []req
		want  int
	}{
		{"quote, pay, confirm", nil, []req{cartAdd, quote, paid, confirm}, 0},
		{"quote, confirm", nil, []req{cartAdd, quote, confirm}, 1},
		{"confirm after a failed pay", nil, []req{quote, withStatus(paid, 402), confirm}, 1},
		{"confirm after a failed then a good pay", nil, []req{quote, withStatus(paid, 402), paid, confirm}, 0},
		{"pay, then confirm twice (a retry)", nil, []req{quote, paid, confirm, confirm}, 0},
		{"confirm refused", nil, []req{quote, withStatus(confirm, 404), withStatus(confirm, 400)}, 0},
		{"pay expired", nil, []req{quote, paid, after(confirm, 11*time.Minute)}, 1},
		{"pay within the window", nil, []req{quote, paid, after(confirm, 9*time.Minute)}, 0},
		{"three unpaid orders", nil, []req{quote, confirm, quote, confirm, quote, confirm}, 1},
		{"unpaid orders a window apart", nil, []req{quote, confirm, after(quote, 11*time.Minute), confirm}, 2},
		{"short paths", nil, []req{post("/checkout/quote", "{}", 201), post("/checkout/confirm/", "{}", 201)}, 1},
		{"case and a trailing slash", nil, []req{post("/Checkout/PAY/", "{}", 200), post("/api/checkout/Confirm", "{}", 201)}, 0},
		{"another path is not the step", nil, []req{post("/api/precheckout/pay", "{}", 200), confirm}, 1},
		{"GET is not the step", nil, []req{get("/api/v2/checkout/pay", 200), confirm}, 1},
		{"nothing but browsing", nil, []req{get("/api/v2/products", 200), get("/api/v2/checkout/confirm", 200)}, 0},
		{"no flows", []Flow{}, []req{quote, confirm}, 0},
		{"password reset confirmed without a request", []Flow{PasswordResetFlow()}, []req{post("/api/auth/password/reset", `{"token":"x","password":"y"}`, 200)}, 1},
		{"password reset requested and confirmed", []Flow{PasswordResetFlow()}, []req{
			post("/api/auth/password/forgot", `{"email":"a@b.test"}`, 202), post("/api/auth/password/reset", `{"token":"x"}`, 200)}, 0},
		{"a flow with an id segment", []Flow{{Name: "order", Steps: []Step{
			{Name: "pay", Method: "post", PathSuffix: "/orders/{id}/pay", NeedsSuccess: true},
			{Name: "ship", Method: "POST", PathSuffix: "/orders/{id}/ship"},
		}}}, []req{post("/orders/12/pay", "{}", 200), post("/orders/12/ship", "{}", 200), post("/orders/13/ship", "{}", 200), post("/orders//ship", "{}", 200)}, 0},
		{"an id segment, skipped", []Flow{{Name: "order", Steps: []Step{
			{Name: "pay", Method: "POST", PathSuffix: "/orders/{id}/pay", NeedsSuccess: true},
			{Name: "ship", Method: "", PathSuffix: "/orders/{id}/ship"},
		}}}, []req{post("/orders/12/pay", "{}", 500), req{method: "PUT", target: "/orders/12/ship", status: 204}}, 1},
		{"three steps, both required", []Flow{{Name: "kyc", Steps: []Step{
			{Name: "start", Method: "POST", PathSuffix: "/kyc/start", NeedsSuccess: true},
			{Name: "verify", Method: "POST", PathSuffix: "/kyc/verify", NeedsSuccess: true},
			{Name: "payout", Method: "POST", PathSuffix: "/payouts"},
		}}}, []req{post("/kyc/start", "{}", 200), post("/kyc/verify", "{}", 200), post("/payouts", "{}", 201)}, 0},
		{"three steps, the first skipped", []Flow{{Name: "kyc", Steps: []Step{
			{Name: "start", Method: "POST", PathSuffix: "/kyc/start", NeedsSuccess: true},
			{Name: "verify", Method: "POST", PathSuffix: "/kyc/verify", NeedsSuccess: true},
			{Name: "payout", Method: "POST", PathSuffix: "/payouts"},
		}}}, []req{post("/kyc/verify", "{}", 200)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewFlows(Config{Flows: tt.flows})
			fs := play(t, d, user, tt.reqs)
			if len(fs) != tt.want {
				t.Errorf("%d findings, want %d", len(fs), tt.want)
				for _, f := range fs {
					t.Log(f, f.Evidence)
				}
			}
			for _, f := range fs {
				if f.Detector != DetectorFlowSkip || f.Severity != vigil.SeverityHigh || f.Category != vigil.API6BusinessFlows || f.Area != vigil.AreaBusinessLogic {
					t.Errorf("finding %v", f)
				}
			}
		})
	}
}

func TestFlowSkipEvidence(t *testing.T) {
	d := NewFlows(Config{})
	fs := play(t, d, user, []req{quote, withStatus(paid, 402), after(confirm, 30*time.Second)})
	if len(fs) != 1 {
		t.Fatalf("%d findings", len(fs))
	}
	f := fs[0]
	if f.Title != "Business flow skipped: checkout confirm without pay" || f.Endpoint.Template != "/api/v2/checkout/confirm" {
		t.Errorf("finding %v", f)
	}
	var missing vigil.Evidence
	for _, e := range f.Evidence {
		if e.Where == "flow.missing" {
			missing = e
		}
	}
	if missing.Value != "pay" || !strings.Contains(missing.Why, "last tried 30s before, answered 402") {
		t.Errorf("missing %+v", missing)
	}
	fs = play(t, NewFlows(Config{}), user, []req{quote, confirm})
	if len(fs) != 1 || !strings.Contains(fs[0].Evidence[2].Why, "not tried") {
		t.Errorf("evidence %v", fs)
	}
}

func TestFlowSkipIsPerActor(t *testing.T) {
	d := NewFlows(Config{})
	other := vigil.Actor{Principal: "jwt:18"}
	play(t, d, other, []req{quote, paid})
	if fs := play(t, d, user, []req{quote, confirm}); len(fs) != 1 {
		t.Errorf("another actor's payment counted: %v", fs)
	}
	if fs := play(t, d, other, []req{confirm}); len(fs) != 0 {
		t.Errorf("the payer was flagged: %v", fs)
	}
	st := d.Stats()
	if st.Actors != 2 || st.Findings[DetectorFlowSkip] != 1 {
		t.Errorf("stats %+v", st)
	}
	// Traffic outside the flows creates no state.
	d = NewFlows(Config{})
	play(t, d, user, []req{get("/api/v2/products/1", 200), cartAdd, get("/api/v2/checkout/pay", 200)})
	if st := d.Stats(); st.Actors != 0 {
		t.Errorf("%d actors tracked", st.Actors)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	if err := (Config{Flows: append(DefaultFlows(), PasswordResetFlow())}).Validate(); err != nil {
		t.Errorf("default flows: %v", err)
	}
	for _, c := range []Config{
		{Window: -1}, {Threshold: MaxThreshold + 1}, {MaxActors: -1},
		{Flows: []Flow{{Name: "", Steps: DefaultFlows()[0].Steps}}},
		{Flows: []Flow{{Name: "x", Steps: DefaultFlows()[0].Steps[:1]}}},
		{Flows: []Flow{{Name: "x", Steps: []Step{{Name: "a", PathSuffix: "/a"}, {Name: "b", PathSuffix: " | / "}}}}},
		{Flows: []Flow{DefaultFlows()[0], DefaultFlows()[0]}},
	} {
		err := c.Validate()
		var ve *vigil.Error
		if err == nil || !errors.As(err, &ve) || ve.Code != vigil.EINVALID {
			t.Errorf("%+v: %v", c, err)
		}
	}
	// Invalid flows are ignored, valid ones kept.
	d := NewFlows(Config{Flows: []Flow{{Name: "bad"}, DefaultFlows()[0]}})
	if len(d.flows) != 1 || d.flows[0].name != "checkout" {
		t.Errorf("flows %+v", d.flows)
	}
	c := NewCracking(Config{Threshold: 1_000_000}).Config()
	if c.Threshold != MaxThreshold || c.Window != DefaultWindow || c.MaxActors != DefaultMaxActors {
		t.Errorf("config %+v", c)
	}
}

func TestMatchSuffix(t *testing.T) {
	for _, tt := range []struct {
		path, suffix string
		want         bool
	}{
		{"/api/v2/checkout/pay", "/checkout/pay", true},
		{"/checkout/pay", "/checkout/pay", true},
		{"checkout/pay", "/checkout/pay", false},
		{"/checkout/pay//", "/checkout/pay", true},
		{"/CHECKOUT/Pay", "/checkout/pay", true},
		{"/precheckout/pay", "/checkout/pay", false},
		{"/pay", "/checkout/pay", false},
		{"/checkout/pay/extra", "/checkout/pay", false},
		{"/orders/9/pay", "/orders/{id}/pay", true},
		{"/orders//pay", "/orders/{id}/pay", false},
		{"", "/x", false},
	} {
		segs := suffixSegments(splitSuffixes(tt.suffix)[0])
		if got := matchSuffix(tt.path, segs); got != tt.want {
			t.Errorf("matchSuffix(%q, %q) = %v", tt.path, tt.suffix, got)
		}
	}
}

func TestFlowsHostileInput(t *testing.T) {
	d := NewFlows(Config{})
	for _, x := range []*vigil.Exchange{
		nil, {}, {Request: vigil.Request{Method: "POST"}},
		{Time: time.Unix(1<<62, 0), Request: vigil.Request{Method: "POST", URL: exchange(user, t0, confirm).Request.URL}, Response: &vigil.Response{Status: 201}},
		{Time: time.Unix(-1<<62, 0), Request: vigil.Request{Method: "POST", URL: exchange(user, t0, confirm).Request.URL}, Response: &vigil.Response{Status: 201}},
	} {
		if _, err := d.Analyze(context.Background(), x); err != nil {
			t.Error(err)
		}
	}
}
