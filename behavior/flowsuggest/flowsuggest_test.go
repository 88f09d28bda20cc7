package flowsuggest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior/flowsuggest"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/sensor/ingest"
)

const (
	shopTraffic = "../../testdata/sim/seed7-30s.traffic.jsonl.gz"
	shopSpec    = "../../simulate/shop/openapi.yaml"
)

// shopProfiles builds the demo shop's inventory by replaying the
// simulator's recorded traffic.
func shopProfiles(t testing.TB) []*inventory.Profile {
	t.Helper()
	xs, err := ingest.ReadAll(shopTraffic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.New(inventory.Config{})
	for _, x := range xs {
		inv.Observe(x)
	}
	return inv.Profiles()
}

// call is one request of a hand-made API: "POST /signup 201".
type call string

// observe builds an inventory from calls, each seen three times with
// different ids where the path has digits.
func observe(t testing.TB, calls []call) []*inventory.Profile {
	t.Helper()
	inv := inventory.New(inventory.Config{})
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		for _, c := range calls {
			var method, path string
			var status int
			if _, err := fmt.Sscanf(string(c), "%s %s %d", &method, &path, &status); err != nil {
				t.Fatalf("%q: %v", c, err)
			}
			path = strings.ReplaceAll(path, "123", fmt.Sprint(123+i*7))
			u, _ := url.Parse("https://api.test" + path)
			at = at.Add(time.Second)
			inv.Observe(&vigil.Exchange{
				ID: fmt.Sprint(i, path), Time: at,
				Request:  vigil.Request{Method: method, URL: u, Header: http.Header{}},
				Response: &vigil.Response{Status: status, Header: http.Header{}},
				Actor:    vigil.Actor{Addr: "192.0.2.1"},
			})
		}
	}
	return inv.Profiles()
}

// flowOf is a flow in brief: "name: step!(needs) step step".
func flowOf(f config.Flow) string {
	var b strings.Builder
	b.WriteString(f.Name + ":")
	for _, s := range f.Steps {
		b.WriteString(" " + s.Name)
		if s.NeedsSuccess {
			b.WriteString("!")
		}
		b.WriteString("=" + s.Method + strings.Join(s.Path, ","))
	}
	return b.String()
}

// roundTrip writes r, reads it back through the config loader and checks
// that the flows come back as suggested.
func roundTrip(t *testing.T, r flowsuggest.Result) (string, config.Config) {
	t.Helper()
	var buf bytes.Buffer
	if err := flowsuggest.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the suggestion does not load as a config: %v\n%s", err, buf.String())
	}
	var want []config.Flow
	for _, s := range r.Flows {
		want = append(want, s.Flow)
	}
	if diff := cmp.Diff(want, cfg.Behavior.Flows); diff != "" {
		t.Errorf("flows after the round trip (-suggested +loaded):\n%s", diff)
	}
	if err := cfg.Behavior.DetectorConfig().Validate(); err != nil {
		t.Errorf("behavior.Config.Validate: %v", err)
	}
	return buf.String(), cfg
}

func TestSuggestShop(t *testing.T) {
	ps := shopProfiles(t)
	doc, err := spec.Load(shopSpec)
	if err != nil {
		t.Fatal(err)
	}
	set := spec.NewSet(doc)
	for _, tc := range []struct {
		name  string
		specs *spec.Set
	}{{"traffic only", nil}, {"documented only", set}} {
		t.Run(tc.name, func(t *testing.T) {
			r := flowsuggest.Suggest(ps, flowsuggest.Options{Specs: tc.specs})
			got := map[string]string{}
			for _, s := range r.Flows {
				got[s.Kind] = flowOf(s.Flow)
				if len(s.Why) == 0 || !strings.Contains(strings.Join(s.Why, " "), "needs_success on") {
					t.Errorf("%s: the why does not say which step needs success: %q", s.Kind, s.Why)
				}
				for _, st := range s.Flow.Steps {
					for _, p := range st.Path {
						if set.Match("127.0.0.1", st.Method, p) == nil {
							t.Errorf("%s step %s: %s %s is not a documented operation", s.Kind, st.Name, st.Method, p)
						}
					}
				}
			}
			want := map[string]string{
				"checkout": "checkout: cart=POST/api/v2/cart/items quote=POST/api/v2/checkout/quote pay!=POST/api/v2/checkout/pay confirm=POST/api/v2/checkout/confirm",
				"coupon":   "coupon: cart!=POST/api/v2/cart/items apply=POST/api/v2/coupons/validate",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			// Seen but without a partner step: said, not suggested.
			notes := strings.Join(r.Notes, "\n")
			for _, w := range []string{"POST /api/v2/auth/register", "POST /api/v2/auth/login", "GET /api/v2/giftcards/{id}/balance"} {
				if !strings.Contains(notes, w) {
					t.Errorf("notes do not mention %s:\n%s", w, notes)
				}
			}
			text, _ := roundTrip(t, r)
			if !strings.Contains(text, "# needs_success on pay") {
				t.Errorf("no comment on the pay step:\n%s", text)
			}
		})
	}
}

// TestSuggestAPIs runs hand-made APIs with other names, and APIs whose
// words look like flows but are not (benign twins: nothing to suggest).
func TestSuggestAPIs(t *testing.T) {
	second := []call{
		"POST /signup 201", "POST /account/verify 200",
		"POST /auth/session 200", "POST /auth/mfa/verify 200",
		"POST /otp/send 202",
		"POST /forgot-password 202", "POST /password/reset 200",
		"POST /basket/lines 201", "POST /orders 201", "POST /orders/123/pay 200", "POST /orders/123/confirm 200",
		"POST /promo/apply 200",
		"GET /gift-cards/123/balance 200", "POST /gift-cards/123/redeem 200",
		"GET /products 200", "GET /products/123 200",
	}
	secondSpec, err := spec.Load("testdata/second-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		calls []call
		specs *spec.Set
		want  []string
	}{
		{"second API", second, nil, []string{
			"signup: register!=POST/signup verify=POST/account/verify",
			"login: login!=POST/auth/session second-factor=POST/auth/mfa/verify",
			"otp: send!=POST/otp/send verify=POST/auth/mfa/verify",
			"password-reset: request!=POST/forgot-password confirm=POST/password/reset",
			"checkout: cart=POST/basket/lines order=POST/orders pay!=POST/orders/{id}/pay confirm=POST/orders/{id}/confirm",
			"coupon: cart!=POST/basket/lines apply=POST/promo/apply",
			"giftcard: cart!=POST/basket/lines balance=GET/gift-cards/{id}/balance redeem=POST/gift-cards/{id}/redeem",
		}},
		{"second API, documented endpoints only", second, spec.NewSet(secondSpec), []string{
			"signup: register!=POST/signup verify=POST/account/verify",
			"password-reset: request!=POST/forgot-password confirm=POST/password/reset",
			"giftcard: cart!=POST/basket/lines balance=GET/gift-cards/{id}/balance redeem=POST/gift-cards/{id}/redeem",
		}},
		{"place order after payment, users collection", []call{
			"POST /v1/users 201", "POST /v1/users/activate 200",
			"POST /v1/checkout/payment 200", "POST /v1/orders 201",
			"POST /v1/vouchers/validate 200", "POST /v1/vouchers/redeem 200",
			"GET /v1/giftcards/123/balance 200", "POST /v1/giftcards/123/redeem 200",
		}, nil, []string{
			"signup: register!=POST/v1/users verify=POST/v1/users/activate",
			"checkout: pay!=POST/v1/checkout/payment confirm=POST/v1/orders",
			"coupon: validate!=POST/v1/vouchers/validate apply=POST/v1/vouchers/redeem",
			"giftcard: balance=GET/v1/giftcards/{id}/balance redeem=POST/v1/giftcards/{id}/redeem",
		}},
		{"look-alikes", []call{
			"GET /orders/123/payment 200",        // reading a payment is not paying
			"POST /payments.partner/charges 200", // no pay word at the end
			"POST /admin/coupons 201",            // creating coupons
			"GET /account/verify 200",            // a GET is not a verification
			"POST /users/123 200",                // an update, not a sign-up
			"POST /auth/token/refresh 200",       // refreshing is not logging in
			"POST /checkout/pay 404",             // never answered: not an endpoint
			"POST /checkout/confirm 404",
		}, nil, nil},
		{"one-time codes beside their sender", []call{
			"POST /login 200", "POST /mfa/totp/verify 200",
			"POST /phone/otp/send 202", "POST /phone/otp/verify 200",
		}, nil, []string{
			"login: login!=POST/login second-factor=POST/mfa/totp/verify,/phone/otp/verify",
			"otp: send!=POST/phone/otp/send verify=POST/phone/otp/verify",
		}},
		{"steps without partners", []call{
			"POST /register 201", "POST /login 200", "POST /mfa/verify 200",
			"POST /pay 200", "POST /coupon 200", "POST /giftcard/redeem 200",
		}, nil, []string{
			"login: login!=POST/login second-factor=POST/mfa/verify",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := flowsuggest.Suggest(observe(t, tc.calls), flowsuggest.Options{Specs: tc.specs})
			var got []string
			for _, s := range r.Flows {
				got = append(got, flowOf(s.Flow))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flows (-want +got):\n%s\nnotes: %q", diff, r.Notes)
			}
			_, cfg := roundTrip(t, r)
			if len(tc.want) == 0 && cfg.Behavior.Flows != nil {
				t.Errorf("nothing recognised, yet the output declares flows (it would turn off the defaults): %+v", cfg.Behavior.Flows)
			}
		})
	}
}

// FuzzSuggest feeds endpoints of any shape: the suggestion always loads
// back through the config loader with the flows it announced.
func FuzzSuggest(f *testing.F) {
	for _, seed := range [][3]string{
		{"POST", "/api/v2/checkout/pay", "/api/v2/checkout/confirm"},
		{"POST", "/signup", "/account/verify"},
		{"POST", "/otp/send", "/otp/verify"},
		{"POST", "/cart/a b", "/coupon/apply"},
		{"POST", "/cart\x85", "/promo/apply|x"},
		{"M-SEARCH", "/gift/{id}/balance", "/gift/{id}/redeem"},
		{"POST", "/", "//"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, a, b string) {
		var ps []*inventory.Profile
		for _, m := range []string{method, "POST", "GET"} {
			for _, p := range []string{a, b, a + "/pay", b + "/confirm", "/cart" + a} {
				ps = append(ps, &inventory.Profile{
					Endpoint: vigil.Endpoint{Host: "api.test", Method: m, Template: p},
					Count:    3, Statuses: map[int]int64{200: 3},
				})
			}
		}
		r := flowsuggest.Suggest(ps, flowsuggest.Options{})
		roundTrip(t, r)
	})
}
