package behavior

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func giftcard(i, status int) req {
	return get(fmt.Sprintf("/api/v2/giftcards/GC-%04d/balance", i), status)
}

func coupon(code string, status int) req {
	r := post("/api/v2/coupons/validate", `{"code":"`+code+`"}`, status)
	if status == 404 {
		r.resp = `{"error":"unknown coupon","valid":false}`
	}
	if status == 200 {
		r.resp = `{"valid":true,"code":"` + code + `","percent_off":10}`
	}
	return r
}

func misses(n int) []req { return repeat(n, func(i int) req { return giftcard(i, 404) }) }

func TestCracking(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		reqs []req
		want map[string]int
	}{
		// Attacks.
		{"gift cards in the path", Config{}, misses(20), map[string]int{DetectorCracking: 1}},
		{"gift cards, then a hit", Config{}, concat(misses(42), []req{giftcard(42, 200), giftcard(42, 200), giftcard(43, 200)}),
			map[string]int{DetectorCracking: 1, DetectorCrackingSucceeded: 1}},
		{"coupon codes in a JSON body", Config{}, repeat(20, func(i int) req { return coupon(fmt.Sprintf("SAVE%04d", i), 404) }),
			map[string]int{DetectorCracking: 1}},
		{"coupon codes answered 200 valid:false", Config{}, repeat(25, func(i int) req {
			r := post("/api/v2/coupons/validate", fmt.Sprintf(`{"code":"SAVE%04d"}`, i), 200)
			r.resp = `{"valid" : false, "percent_off": 0}`
			return r
		}), map[string]int{DetectorCracking: 1}},
		{"OTP in a form, 401", Config{}, repeat(20, func(i int) req {
			return post("/api/v2/auth/otp/verify", fmt.Sprintf("user=alice&otp=%06d", i*7919), 401)
		}), map[string]int{DetectorCracking: 1}},
		{"reset token in the query", Config{}, repeat(20, func(i int) req {
			return get(fmt.Sprintf("/password/reset?reset_token=tok%d", i), 400)
		}), map[string]int{DetectorCracking: 1}},
		{"nested gift card in a payment", Config{}, repeat(20, func(i int) req {
			return post("/api/v2/checkout/pay", fmt.Sprintf(`{"quote_id":"q_1","payment":{"gift_card":"GC-%04d"}}`, i), 402)
		}), map[string]int{DetectorCracking: 1}},
		{"a smaller threshold", Config{Threshold: 5}, misses(5), map[string]int{DetectorCracking: 1}},
		// The 20th value is a hit: it makes the burst and cracks it.
		{"exactly 80% failed", Config{}, concat(misses(16), repeat(4, func(i int) req { return giftcard(100+i, 200) })),
			map[string]int{DetectorCracking: 1, DetectorCrackingSucceeded: 1}},
		{"two endpoints cracked", Config{}, concat(misses(20), repeat(20, func(i int) req { return coupon(fmt.Sprintf("SAVE%04d", i), 404) })),
			map[string]int{DetectorCracking: 2}},

		// Not attacks.
		{"one short of the threshold", Config{}, misses(19), map[string]int{}},
		{"75% failed", Config{}, concat(misses(15), repeat(5, func(i int) req { return giftcard(100+i, 200) })), map[string]int{}},
		{"a wrong coupon retried", Config{}, []req{coupon("WELCME10", 404), coupon("WELCME10", 404), coupon("WELCOME10", 200)}, map[string]int{}},
		{"three wrong coupons", Config{}, []req{coupon("SPRNG15", 404), coupon("SPRIN15", 404), coupon("SPRING51", 404), coupon("SPRING15", 200)}, map[string]int{}},
		{"own two gift cards and a typo", Config{}, []req{giftcard(42, 200), giftcard(1337, 200), giftcard(1377, 404), giftcard(1337, 200), giftcard(42, 200)}, map[string]int{}},
		{"30 product views", Config{}, repeat(30, func(i int) req { return get(fmt.Sprintf("/api/v2/products/%d", 1+i*7), 200) }), map[string]int{}},
		{"product views with some gone", Config{}, repeat(60, func(i int) req {
			if i%6 == 3 {
				return get(fmt.Sprintf("/api/v2/products/%d", 9000+i), 404)
			}
			return get(fmt.Sprintf("/api/v2/products/%d", 1+i), 200)
		}), map[string]int{}},
		{"a feed reading 200 products", Config{}, repeat(200, func(i int) req { return get(fmt.Sprintf("/api/v2/products/%d", i+1), 200) }), map[string]int{}},
		{"the same code 40 times", Config{}, repeat(40, func(int) req { return coupon("SAVE1234", 404) }), map[string]int{}},
		{"forbidden orders (BOLA, not cracking)", Config{}, repeat(40, func(i int) req { return get(fmt.Sprintf("/api/v2/orders/%d", 1001+i), 403) }), map[string]int{}},
		{"rate limited", Config{}, repeat(40, func(i int) req { return coupon(fmt.Sprintf("SAVE%04d", i), 429) }), map[string]int{}},
		{"server errors", Config{}, repeat(40, func(i int) req { return giftcard(i, 503) }), map[string]int{}},
		{"redacted codes", Config{}, repeat(40, func(int) req { return coupon("[REDACTED]", 404) }), map[string]int{}},
		{"logins failing (no code-like key)", Config{}, repeat(40, func(i int) req {
			return post("/api/v2/auth/login", fmt.Sprintf(`{"email":"user%d@shop.test","password":"x"}`, i), 401)
		}), map[string]int{}},
		{"misses spread over two windows", Config{}, concat(misses(10), []req{{method: "GET", target: "/api/v2/giftcards/GC-5000/balance", status: 404, after: 11 * time.Minute}},
			repeat(9, func(i int) req { return giftcard(6000+i, 404) })), map[string]int{}},
		{"404s on distinct endpoints without ids", Config{}, repeat(30, func(i int) req { return get(fmt.Sprintf("/api/v2/thing%c", 'a'+i), 404) }), map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCracking(tt.cfg)
			fs := play(t, c, attacker, tt.reqs)
			if got := count(fs); !equalCounts(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
				for _, f := range fs {
					t.Log(f, f.Evidence)
				}
			}
			for _, f := range fs {
				if f.Category != vigil.API6BusinessFlows || f.Area != vigil.AreaBusinessLogic {
					t.Errorf("%s: category %q area %q", f.Detector, f.Category, f.Area)
				}
				want := vigil.SeverityHigh
				if f.Detector == DetectorCrackingSucceeded {
					want = vigil.SeverityCritical
				}
				if f.Severity != want {
					t.Errorf("%s: severity %s", f.Detector, f.Severity)
				}
			}
		})
	}
}

func TestCrackingEvidence(t *testing.T) {
	c := NewCracking(Config{})
	fs := play(t, c, attacker, concat(misses(20), []req{giftcard(1337, 200)}))
	if len(fs) != 2 {
		t.Fatalf("%d findings: %v", len(fs), fs)
	}
	f := fs[0]
	if f.Endpoint.Template != "/api/v2/giftcards/{id}/balance" || f.Endpoint.Method != "GET" || f.Endpoint.Host != "shop.test" {
		t.Errorf("endpoint %+v", f.Endpoint)
	}
	ev := map[string]string{}
	examples := 0
	for _, e := range f.Evidence {
		if e.Where == "request.path" {
			examples++
			if !strings.HasPrefix(e.Value, "GC") || strings.Trim(e.Value[2:], "*") != "" || len(e.Value) != 7 {
				t.Errorf("example %q is not masked", e.Value)
			}
			continue
		}
		ev[e.Where] = e.Value
	}
	if examples != MaxExamples {
		t.Errorf("%d examples", examples)
	}
	if ev["endpoint"] != "GET /api/v2/giftcards/{id}/balance" || ev["behavior.distinct_values"] != "20" || ev["behavior.failure_ratio"] != "100%" {
		t.Errorf("evidence %v", ev)
	}
	s := fs[1]
	if s.Detector != DetectorCrackingSucceeded || s.Evidence[1].Value != "GC*****" {
		t.Errorf("succeeded %v %v", s, s.Evidence)
	}
	for _, f := range fs {
		for _, e := range f.Evidence {
			if strings.Contains(e.Value, "1337") || strings.Contains(e.Value, "0019") || strings.Contains(f.Title, "GC-") {
				t.Errorf("a code leaked: %v", e)
			}
		}
	}
	// The coupon body's key names the input.
	c = NewCracking(Config{Threshold: 3})
	fs = play(t, c, attacker, repeat(3, func(i int) req { return coupon(fmt.Sprintf("SAVE%04d", i), 404) }))
	if len(fs) != 1 || !strings.Contains(fs[0].Title, "body.code") || fs[0].Evidence[3].Where != "body.code" || fs[0].Evidence[3].Value != "SA******" {
		t.Errorf("coupon finding %v %v", fs, fs[0].Evidence)
	}
}

func TestCrackingFiresOncePerWindow(t *testing.T) {
	c := NewCracking(Config{})
	fs, at := playFrom(t, c, attacker, t0, misses(60))
	if n := count(fs)[DetectorCracking]; n != 1 {
		t.Fatalf("%d findings in one window", n)
	}
	// A window later the next burst fires again.
	more := repeat(20, func(i int) req { return giftcard(100+i, 404) })
	more[0].after = 11 * time.Minute
	fs, _ = playFrom(t, c, attacker, at, more)
	if n := count(fs)[DetectorCracking]; n != 1 {
		t.Errorf("%d findings in the next window", n)
	}
	st := c.Stats()
	if st.Findings[DetectorCracking] != 2 || st.Suppressed != 40 || st.Actors != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCrackingActorsAreSeparate(t *testing.T) {
	c := NewCracking(Config{})
	// 40 actors each trying one code: a botnet spread thin is not one actor.
	var fs []vigil.Finding
	for i := range 40 {
		fs = append(fs, play(t, c, vigil.Actor{Addr: fmt.Sprintf("198.51.100.%d", i)}, []req{giftcard(i, 404)})...)
	}
	if len(fs) != 0 {
		t.Errorf("findings %v", fs)
	}
	// Principal first: the same user from two addresses is one actor.
	a1, a2 := vigil.Actor{Principal: "jwt:5", Addr: "192.0.2.1"}, vigil.Actor{Principal: "jwt:5", Addr: "192.0.2.2"}
	play(t, c, a1, misses(10))
	fs, _ = playFrom(t, c, a2, t0.Add(time.Minute), repeat(10, func(i int) req { return giftcard(50+i, 404) }))
	if count(fs)[DetectorCracking] != 1 {
		t.Errorf("one principal over two addresses: %v", fs)
	}
}

func TestBodySaysInvalid(t *testing.T) {
	for body, want := range map[string]bool{
		`{"valid":false}`:                                    true,
		`{"error":"x", "valid" :  false }`:                   true,
		`{"data":{"is_valid":false}}`:                        true,
		`{"Success": false}`:                                 true,
		`{"valid":true,"in_stock":false}`:                    false,
		`{"valid":true}`:                                     false,
		`false`:                                              false,
		`{"note":"valid:false"}`:                             false,
		`{"items":[{"gift":false}]}`:                         false,
		"{\"valid\":false" + strings.Repeat(" ", 5000) + "}": false,
	} {
		if got := bodySaysInvalid([]byte(body)); got != want {
			t.Errorf("bodySaysInvalid(%.40q) = %v", body, got)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"GC-0042": "GC*****", "SAVE1234": "SA******", "7": "7", "": "", "é1x": "é1*",
		"\x00abc": "?a**", strings.Repeat("x", 100): "xx" + strings.Repeat("*", maxShownBytes-2),
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeKeys(t *testing.T) {
	for k, want := range map[string]bool{
		"code": true, "Coupon": true, "coupon_code": true, "giftCard": true, "gift-card": true, "gift_card": true,
		"OTP": true, "pin": true, "reset_token": true, "verificationCode": true, "cvv": true,
		"quote_id": false, "payment_id": false, "email": false, "password": false, "product_id": false, "id": false,
		strings.Repeat("code", 20): false,
	} {
		if got := isCodeKey([]byte(k)); got != want {
			t.Errorf("isCodeKey(%q) = %v", k, got)
		}
	}
}

func TestCrackingHostileInput(t *testing.T) {
	c := NewCracking(Config{})
	for _, x := range []*vigil.Exchange{
		nil,
		{},
		{Request: vigil.Request{Body: []byte(`{"code":`)}, Response: &vigil.Response{Status: 404}},
		{Request: vigil.Request{Body: []byte(strings.Repeat("[", 10000))}, Response: &vigil.Response{Status: 404}},
		{Request: vigil.Request{Body: []byte(`{"code":"\"\\"}`)}, Response: &vigil.Response{Status: 404}},
		{Time: time.Unix(1<<62, 0), Request: vigil.Request{Method: "GET", URL: nil}, Response: &vigil.Response{Status: 404}},
		{Time: time.Unix(-1<<62, 0), Request: vigil.Request{Method: "\x00"}, Response: &vigil.Response{Status: 200, Body: []byte("false")}},
	} {
		if _, err := c.Analyze(context.Background(), x); err != nil {
			t.Error(err)
		}
	}
}
