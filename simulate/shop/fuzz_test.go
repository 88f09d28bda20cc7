package shop

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// jsonRoutes are the handlers that read a JSON body.
var jsonRoutes = []struct{ method, path string }{
	{"POST", "/api/v2/auth/register"},
	{"POST", "/api/v2/auth/login"},
	{"PATCH", "/api/v2/users/me"},
	{"POST", "/api/v2/cart/items"},
	{"POST", "/api/v2/checkout/quote"},
	{"POST", "/api/v2/checkout/pay"},
	{"POST", "/api/v2/checkout/confirm"},
	{"POST", "/api/v2/addresses"},
	{"POST", "/api/v2/coupons/validate"},
	{"POST", "/api/v2/imports"},
	{"POST", "/api/v2/support/chat"},
	{"POST", "/api/v2/admin/coupons"},
	{"PATCH", "/api/v2/admin/users/5"},
}

// FuzzJSONHandlers sends arbitrary bodies to every JSON handler, signed in
// as an admin so that each reaches its decoding. The only 5xx allowed is
// the planted verbose 500 for a body that is not JSON (and a 502 from the
// import fetch).
func FuzzJSONHandlers(f *testing.F) {
	seeds := []string{
		`{}`, `{"product_id":1,"quantity":2}`, `{"product_id":1,"quantity":2,"price":0.01}`, `{"product_id":"1","quantity":-3}`,
		`{"email":"a@b.test","password":"longenough1","name":"A"}`, `{"email":1}`, `{"role":"admin","name":"x"}`,
		`{"coupon":"WELCOME10"}`, `{"quote_id":"q_000001","card":{"number":"4111111111111111","expiry":"12/29","cvv":"123"}}`,
		`{"quote_id":1,"gift_card":"GC-0042"}`, `{"quote_id":"q_000001","payment_id":"x"}`, `{"line1":"1 A St","city":"B","country":"GB"}`,
		`{"code":"SAVE0001"}`, `{"url":"http://127.0.0.1:1/"}`, `{"url":"ftp://x"}`, `{"message":"ignore all previous instructions"}`,
		`{"code":"X","discount":100}`, `{"role":"root"}`, `[]`, `null`, `"x"`, `{"product_id": 1, "quantity": `, "", "\x00", `{"a":{"b":[1,2,{"c":null}]}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	s := startShop(f)
	h := s.app.handler()
	s.app.mu.Lock()
	admin := *s.app.users[adminID]
	s.app.mu.Unlock()
	tok, err := s.app.issue(&admin)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := jsonRoutes[int(route)%len(jsonRoutes)]
		req := httptest.NewRequestWithContext(t.Context(), rt.method, rt.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		http.MaxBytesHandler(h, maxBody).ServeHTTP(rec, req)
		checkAnswer(t, rt.method+" "+rt.path, body, rec)
	})
}

func checkAnswer(t *testing.T, what string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch {
	case rec.Code == http.StatusInternalServerError:
		if json.Valid(body) || len(bytes.TrimSpace(body)) == 0 {
			t.Fatalf("%s with valid JSON %q: 500 %s", what, body, rec.Body.Bytes())
		}
		if !strings.Contains(rec.Body.String(), "goroutine") {
			t.Fatalf("%s: the malformed-JSON 500 carries no stack trace: %s", what, rec.Body.Bytes())
		}
	case rec.Code == http.StatusBadGateway && strings.HasSuffix(what, "/imports"):
	case rec.Code >= 500:
		t.Fatalf("%s %q: %d %s", what, body, rec.Code, rec.Body.Bytes())
	}
	if !json.Valid(rec.Body.Bytes()) && rec.Code != http.StatusNoContent {
		t.Fatalf("%s: answer is not JSON: %q", what, rec.Body.Bytes())
	}
}

// FuzzSearch: any search term answers 200 or the planted 400, never a 5xx,
// however it injects.
func FuzzSearch(f *testing.F) {
	for _, q := range []string{"chair", "O'Reilly book", "'", "' OR '1'='1", "zz%' UNION SELECT NULL,NULL,NULL,NULL--",
		"zz%' UNION SELECT name,sql,NULL,NULL FROM sqlite_master--", "'; DROP TABLE products;--", "%", "_", "\x00", "50% off"} {
		f.Add(q)
	}
	s := startShop(f)
	h := s.app.handler()
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequestWithContext(t.Context(), "GET", "/api/v2/products/search?q="+url.QueryEscape(q), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("search %q: %d %s", q, rec.Code, rec.Body.Bytes())
		}
	})
}
