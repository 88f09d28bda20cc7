package behavior

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func withResp(r req, resp string) req {
	r.resp = resp
	return r
}

func search(q string, status int) req {
	return get("/api/v2/products/search?q="+url.QueryEscape(q), status)
}

func TestAdaptiveProbing(t *testing.T) {
	const cart = "/api/v2/cart/items"
	tests := []struct {
		name string
		reqs []req
		want vigil.Severity // -1: no finding
	}{
		{"schema learned from error answers", []req{
			withResp(post(cart, `{}`, 400), `{"error":"field \"product_id\" is required"}`),
			withResp(post(cart, `{"sku":"A-1","qty":"one","discount":100}`, 400), `{"error":"unknown field \"sku\"; allowed: product_id, quantity"}`),
			withResp(post(cart, `{"product_id":12}`, 400), `{"error":"quantity must be an integer"}`),
			withResp(post(cart, `{"product_id":12,"quantity":"2"}`, 400), `{"error":"\"quantity\" must be an integer"}`),
			withResp(post(cart, `{"product_id": 1, "quantity": `, 400), `{"error":"invalid JSON"}`),
			withResp(post(cart, `{"product_id":12,"quantity":-3}`, 400), `{"error":"quantity must be positive"}`),
			withResp(post(cart, `{"product_id":"12","quantity":[1]}`, 500), `{"error":"internal error"}`),
			withResp(post(cart, `{"product_id":{"$gt":0},"quantity":true}`, 400), `{"error":"bad request"}`),
		}, vigil.SeverityHigh},
		{"one field sent as every type", []req{
			post("/api/v2/orders/lookup", `{"id":1}`, 422),
			post("/api/v2/orders/lookup", `{"id":"1"}`, 422),
			post("/api/v2/orders/lookup", `{"id":[1]}`, 422),
			post("/api/v2/orders/lookup", `{"id":{"a":1}}`, 500),
			post("/api/v2/orders/lookup", `{"id":null}`, 422),
			post("/api/v2/orders/lookup", `{"id":true}`, 422),
		}, vigil.SeverityMedium},
		{"injection shapes on a search box", []req{
			search("'", 500), search("' OR '1'='1", 500), search("zz%' OR 1=1--", 500), search("zz%' UNION SELECT NULL--", 500),
			search("zz%' UNION SELECT NULL,NULL--", 400), search(`{"$gt":""}`, 400), search("{{7*7}}", 400), search("${7*7}", 400),
			search("<script>alert(1)</script>", 400), search("../../etc/passwd", 400), search("\x00", 400), search("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 400),
		}, vigil.SeverityMedium},

		{"a form fixed in three tries", []req{
			withResp(post("/api/v2/addresses", `{"line1":"","city":"Leeds","postcode":"LS1"}`, 422), `{"error":"line1 is required; postcode is invalid"}`),
			withResp(post("/api/v2/addresses", `{"line1":"1 Market St","city":"Leeds","postcode":"LS1"}`, 422), `{"error":"postcode is invalid"}`),
			post("/api/v2/addresses", `{"line1":"1 Market St","city":"Leeds","postcode":"LS1 4AP"}`, 201),
		}, -1},
		{"a person struggling with the password rules", []req{
			withResp(post("/api/v2/auth/register", `{"email":"ann@example.com","password":"secret","name":"Ann"}`, 422), `{"error":"password must have 10 characters"}`),
			withResp(post("/api/v2/auth/register", `{"email":"ann@example.com","password":"secretsecret","name":"Ann"}`, 422), `{"error":"password needs a digit"}`),
			withResp(post("/api/v2/auth/register", `{"email":"ann@example.com","password":"secretsecret1","name":"Ann"}`, 422), `{"error":"password needs an upper-case letter"}`),
			withResp(post("/api/v2/auth/register", `{"email":"ann@example.com","password":"Secretsecret1","name":"Ann"}`, 422), `{"error":"password needs a symbol"}`),
			withResp(post("/api/v2/auth/register", `{"email":"ann@example.com","password":"Secret secret 1!","name":"Ann"}`, 422), `{"error":"password must not contain spaces"}`),
			post("/api/v2/auth/register", `{"email":"ann@example.com","password":"Secret-secret-1!","name":"Ann"}`, 201),
		}, -1},
		{"a search box with many distinct queries", func() []req {
			var out []req
			for i, q := range []string{"chair", "desk lamp", "O'Reilly book", "50% off", "kids' bike", "table & chairs", "--wool socks", "1=1 puzzle", "union jack mug", "where's my order"} {
				out = append(out, search(q, 200), search(fmt.Sprintf("%s %d", q, i), 200))
			}
			return append(out, search("", 400), search("", 400))
		}(), -1},
		{"a client retrying a failing request", repeat(12, func(int) req { return post(cart, `{"product_id":12,"quantity":1}`, 503) }), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewAdaptiveProbing(Config{})
			fs := play(t, p, attacker, tc.reqs)
			if tc.want < 0 {
				for _, f := range fs {
					t.Errorf("unexpected %s %v", f, f.Evidence)
				}
				return
			}
			if len(fs) != 1 && (len(fs) != 2 || fs[0].Severity >= fs[1].Severity) {
				t.Fatalf("%d findings, want 1 (or 2 when it escalates): %v", len(fs), fs)
			}
			if f := fs[len(fs)-1]; f.Severity != tc.want || f.Detector != DetectorAdaptiveProbing {
				t.Errorf("got %s %v, want severity %s", f, f.Evidence, tc.want)
			} else {
				t.Logf("%s %v", f.Title, f.Evidence)
			}
		})
	}
}

func TestShape(t *testing.T) {
	same := [][2]string{{"chair", "table"}, {"12", "97"}, {"Oak Chair", "Big Table"}}
	for _, p := range same {
		if Shape([]byte(p[0]), typeString) != Shape([]byte(p[1]), typeString) {
			t.Errorf("%q and %q have different shapes", p[0], p[1])
		}
	}
	differ := [][2]string{{"chair", "' OR 1=1--"}, {"chair", "chairs and tables and more"}, {"12", "{{7*7}}"}, {"abc", "abç"}}
	for _, p := range differ {
		if Shape([]byte(p[0]), typeString) == Shape([]byte(p[1]), typeString) {
			t.Errorf("%q and %q have one shape", p[0], p[1])
		}
	}
	if Shape([]byte("1"), typeNumber) == Shape([]byte("1"), typeString) {
		t.Error("a number and a string of the same text have one shape")
	}
}

func TestTopFields(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`{}`, "", true},
		{`{"a":1,"b":"x","c":[1,{"d":"]"}],"e":{"f":null},"g":true}`, "a=1:2 b=x:1 c=[1,{\"d\":\"]\"}]:32 e={\"f\":null}:16 g=true:4", true},
		{`{"a": 1, "b": `, "a=1:2", false},
		{`[1,2]`, "=[1,2]:32", true},
		{`"str"`, "=\"str\":1", true},
		{`{"a":"unterminated}`, "", false},
		{`{"a":1 "b":2}`, "a=1:2", false},
		{``, "", false},
	}
	for _, tc := range tests {
		var got string
		ok := topFields([]byte(tc.in), func(k, v []byte, typ uint8) {
			if got != "" {
				got += " "
			}
			got += fmt.Sprintf("%s=%s:%d", k, v, typ)
		})
		if got != tc.want || ok != tc.ok {
			t.Errorf("topFields(%s) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAdaptiveProbingWindow(t *testing.T) {
	p := NewAdaptiveProbing(Config{Window: time.Minute})
	// Six type probes spread over more than a window never add up.
	reqs := []req{
		post("/x", `{"id":1}`, 422), post("/x", `{"id":"1"}`, 422), post("/x", `{"id":[1]}`, 422),
		post("/x", `{"id":{}}`, 422), post("/x", `{"id":null}`, 422), post("/x", `{"id":true}`, 422),
	}
	for i := range reqs {
		reqs[i].after = 25 * time.Second
	}
	if fs := play(t, p, attacker, reqs); len(fs) != 0 {
		t.Errorf("probing spread over windows: %v", fs)
	}
}
