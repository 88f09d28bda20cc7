package behavior_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/config"
)

// step is one request of a hand-built actor, a second after the previous one
// unless after says otherwise.
type step struct {
	method, path string
	status       int
	after        time.Duration
}

// TestDeclaredFlows runs hand-built traffic through every behavioural
// detector built from the example in docs/flows.yaml (the one
// docs/behavior.md shows): skipping a declared step raises
// behavior.flow-skip; doing the steps in order, or failing the later step,
// does not.
func TestDeclaredFlows(t *testing.T) {
	cfg, err := config.Load("../docs/flows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bc := cfg.Behavior.DetectorConfig()
	if len(bc.Flows) != 3 {
		t.Fatalf("docs/flows.yaml declares %d flows, want 3", len(bc.Flows))
	}
	tests := []struct {
		name  string
		steps []step
		want  string // the skipped flow's name, or "" for none
	}{
		{"signup in order", []step{
			{"POST", "/api/signup", 201, 0}, {"POST", "/api/signup/verify", 200, 0}, {"POST", "/api/signup/complete", 201, 0}}, ""},
		{"signup completed without the phone check", []step{
			{"POST", "/api/signup", 201, 0}, {"POST", "/api/signup/complete", 201, 0}}, "signup"},
		{"signup completed after a failed phone check", []step{
			{"POST", "/api/auth/register", 201, 0}, {"POST", "/api/signup/verify", 401, 0}, {"POST", "/api/signup/complete", 201, 0}}, "signup"},
		{"signup completion refused", []step{
			{"POST", "/api/signup/complete", 403, 0}, {"POST", "/api/signup/complete", 400, 0}}, ""},
		{"gift card redeemed after the code", []step{
			{"POST", "/api/otp/verify", 200, 0}, {"POST", "/api/giftcards/GC-1234/redeem", 200, 0}}, ""},
		{"gift card redeemed twice after one code", []step{
			{"POST", "/api/otp/verify", 200, 0}, {"POST", "/api/giftcards/GC-1234/redeem", 200, 0},
			{"POST", "/api/giftcards/GC-9876/redeem", 200, 3 * time.Minute}}, ""},
		{"gift card redeemed without the code", []step{
			{"GET", "/api/giftcards/GC-1234/balance", 200, 0}, {"POST", "/api/giftcards/GC-1234/redeem", 200, 0}}, "giftcard-redeem"},
		{"gift card redeemed after the code expired", []step{
			{"POST", "/api/otp/verify", 200, 0}, {"POST", "/api/giftcards/GC-1234/redeem", 200, 11 * time.Minute}}, "giftcard-redeem"},
		{"gift card balance only", []step{
			{"GET", "/api/giftcards/GC-1234/balance", 200, 0}, {"GET", "/api/giftcards/GC-1234/redeem", 200, 0}}, ""},
		{"checkout paid", []step{
			{"POST", "/api/v2/checkout/quote", 201, 0}, {"POST", "/api/v2/checkout/pay", 200, 0}, {"POST", "/api/v2/checkout/confirm", 201, 0}}, ""},
		{"checkout unpaid (still watched once flows are declared)", []step{
			{"POST", "/api/v2/checkout/quote", 201, 0}, {"POST", "/api/v2/checkout/confirm", 201, 0}}, "checkout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := behavior.All(bc)
			actor := vigil.Actor{Principal: "jwt:17", Addr: "192.0.2.7"}
			at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			var skipped []string
			for i, s := range tc.steps {
				at = at.Add(max(s.after, time.Second))
				x := flowExchange(actor, at, s, i)
				for _, a := range as {
					fs, err := a.Analyze(context.Background(), x)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range fs {
						if f.Detector == behavior.DetectorFlowSkip {
							skipped = append(skipped, f.Title)
						}
					}
				}
			}
			switch {
			case tc.want == "" && len(skipped) > 0:
				t.Errorf("flow-skip raised for benign traffic: %q", skipped)
			case tc.want != "" && (len(skipped) != 1 || !strings.Contains(skipped[0], ": "+tc.want+" ")):
				t.Errorf("flow-skip findings %q, want one for flow %q", skipped, tc.want)
			}
		})
	}
}

func flowExchange(a vigil.Actor, at time.Time, s step, i int) *vigil.Exchange {
	u, _ := url.Parse("https://api.test" + s.path)
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}}
	return &vigil.Exchange{
		ID:       "x-" + strings.Repeat("i", i+1),
		Time:     at,
		Request:  vigil.Request{Method: s.method, URL: u, Header: h, Body: []byte(`{}`), BodySize: 2},
		Response: &vigil.Response{Status: s.status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)},
		Actor:    a,
	}
}

// TestDeclaringFlowsDoc keeps docs/behavior.md's example the file the tests
// run: the yaml block of "Declaring flows" is docs/flows.yaml.
func TestDeclaringFlowsDoc(t *testing.T) {
	md, err := os.ReadFile("../docs/behavior.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../docs/flows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(md), "\n## Declaring flows\n")
	if !ok {
		t.Fatal(`docs/behavior.md has no "## Declaring flows" section`)
	}
	_, block, ok := strings.Cut(sec, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal(`"Declaring flows" has no yaml block`)
	}
	if block != string(example) {
		t.Errorf("the yaml block of docs/behavior.md's \"Declaring flows\" differs from docs/flows.yaml:\n%s", block)
	}
}

// TestDeclaredFlowVelocity: a declared flow is also watched for velocity.
// One actor redeeming 30 gift cards within the window (before any baseline
// is learned, 30 is the bar) raises behavior.flow-velocity; a customer
// redeeming 5 does not.
func TestDeclaredFlowVelocity(t *testing.T) {
	cfg, err := config.Load("../docs/flows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		redeems int
		want    int
	}{{"customer", 5, 0}, {"card drainer", 30, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			fd := behavior.NewFlows(cfg.Behavior.DetectorConfig())
			actor := vigil.Actor{Principal: "jwt:31", Addr: "192.0.2.31"}
			at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			steps := []step{{"POST", "/api/otp/verify", 200, 0}}
			for range tc.redeems {
				steps = append(steps, step{"POST", "/api/giftcards/GC-1/redeem", 200, 0})
			}
			got := 0
			for i, s := range steps {
				at = at.Add(5 * time.Second)
				fs, err := fd.Analyze(context.Background(), flowExchange(actor, at, s, i))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					switch f.Detector {
					case behavior.DetectorFlowVelocity:
						got++
						if !strings.Contains(f.Title, "giftcard-redeem") {
							t.Errorf("title %q does not name the flow", f.Title)
						}
					case behavior.DetectorFlowSkip:
						t.Errorf("flow-skip for redemptions after a code: %s", f.Title)
					}
				}
			}
			if got != tc.want {
				t.Errorf("%d flow-velocity findings, want %d", got, tc.want)
			}
		})
	}
}
