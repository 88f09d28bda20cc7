package shop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestBenignJourneys walks the shop as customers do – browse, search (with
// the quoted and SQL-looking words real people type), cart, quote, pay by
// card and by gift card, confirm, account and orders, support – and
// requires every answer to be a 2xx (no 5xx, no surprise 4xx), except the
// searches with an apostrophe, which the planted unsafe query answers 400.
func TestBenignJourneys(t *testing.T) {
	s := startShop(t)
	c := newClient(t, s)
	ok := func(r reply, what string) reply {
		t.Helper()
		if r.status < 200 || r.status > 299 {
			t.Errorf("%s = %v, want 2xx", what, r)
		}
		return r
	}

	t.Run("browse", func(t *testing.T) {
		r := ok(c.call("GET", "/api/v2/products?limit=20&offset=40", "", nil), "list")
		ps, _ := r.json["products"].([]any)
		if len(ps) != 20 || r.num("total") != seedProducts {
			t.Errorf("list: %d products of %v, want 20 of %d", len(ps), r.num("total"), seedProducts)
		}
		r = ok(c.call("GET", "/api/v2/products?category=books&limit=100", "", nil), "category")
		for _, p := range r.json["products"].([]any) {
			if p.(map[string]any)["category"] != "books" {
				t.Errorf("category filter let through %v", p)
			}
		}
		ok(c.call("GET", "/api/v2/products/17", "", nil), "product")
		if r := c.call("GET", "/api/v2/products/999999", "", nil); r.status != 404 {
			t.Errorf("missing product = %v, want 404", r)
		}
	})

	t.Run("search", func(t *testing.T) {
		for _, q := range []string{"chair", "desk lamp", "select chair", "drop-leaf table", "union jack mug", "table & chairs", "50% off",
			"coffee grinder", "update kit", "sleep mask", "insert tool", "or-nament", "delete key keyboard", "1=1 puzzle", "--wool socks"} {
			r := c.call("GET", "/api/v2/products/search?q="+url.QueryEscape(q), "", nil)
			if r.status != 200 {
				t.Errorf("search %q = %v, want 200", q, r)
			}
		}
		for _, q := range []string{"O'Reilly book", "kids' bike", "where's my order"} {
			if r := c.call("GET", "/api/v2/products/search?q="+url.QueryEscape(q), "", nil); r.status != 400 {
				t.Errorf("search %q = %v, want the planted 400 (never a 5xx)", q, r)
			}
		}
		if r := ok(c.call("GET", "/api/v2/products/search?q=coffee+grinder", "", nil), "search"); r.num("count") < 1 {
			t.Errorf("coffee grinder: no results: %v", r)
		}
	})

	t.Run("checkout by card", func(t *testing.T) {
		tok := c.customer(21)
		ok(c.call("POST", "/api/v2/cart/items", tok, map[string]any{"product_id": 3, "quantity": 2}), "add")
		ok(c.call("POST", "/api/v2/cart/items", tok, map[string]any{"product_id": 4, "quantity": 1}), "add")
		cart := ok(c.call("GET", "/api/v2/cart", tok, nil), "cart")
		if cart.num("count") != 2 {
			t.Fatalf("cart = %v, want 2 items", cart)
		}
		ok(c.call("DELETE", "/api/v2/cart/items/2", tok, nil), "remove")
		ok(c.call("POST", "/api/v2/coupons/validate", "", map[string]string{"code": "WELCOME10"}), "coupon")
		q := ok(c.call("POST", "/api/v2/checkout/quote", tok, map[string]string{"coupon": "WELCOME10"}), "quote")
		if q.num("discount") <= 0 || q.num("total") >= q.num("subtotal") {
			t.Errorf("quote with WELCOME10 = %v, want a discount", q)
		}
		p := ok(c.call("POST", "/api/v2/checkout/pay", tok, map[string]any{"quote_id": q.str("quote_id"),
			"card": map[string]string{"number": "4111111111111111", "expiry": "12/29", "cvv": "123"}}), "pay")
		if p.str("status") != "succeeded" || !strings.HasPrefix(p.str("partner_charge_id"), "ch_") {
			t.Errorf("pay = %v, want a partner charge", p)
		}
		o := ok(c.call("POST", "/api/v2/checkout/confirm", tok, map[string]any{"quote_id": q.str("quote_id"), "payment_id": p.str("payment_id")}), "confirm")
		id := int64(o.num("id"))
		list := ok(c.call("GET", "/api/v2/orders", tok, nil), "orders")
		if !strings.Contains(string(list.raw), fmt.Sprintf(`"id":%d,`, id)) {
			t.Errorf("new order %d not in %v", id, list)
		}
		ok(c.call("GET", fmt.Sprintf("/api/v2/orders/%d", id), tok, nil), "order")
		if r := ok(c.call("GET", "/api/v2/cart", tok, nil), "cart after"); r.num("count") != 0 {
			t.Errorf("cart after confirm = %v, want empty", r)
		}
	})

	t.Run("checkout by gift card", func(t *testing.T) {
		tok := c.customer(22)
		before := ok(c.call("GET", "/api/v2/giftcards/GC-1337/balance", "", nil), "balance").num("balance")
		qid := c.quoteOne(tok, 9, nil)
		p := ok(c.call("POST", "/api/v2/checkout/pay", tok, map[string]any{"quote_id": qid, "gift_card": "GC-1337"}), "pay")
		ok(c.call("POST", "/api/v2/checkout/confirm", tok, map[string]any{"quote_id": qid, "payment_id": p.str("payment_id")}), "confirm")
		after := ok(c.call("GET", "/api/v2/giftcards/GC-1337/balance", "", nil), "balance").num("balance")
		if after >= before {
			t.Errorf("gift card balance %v -> %v, want it charged", before, after)
		}
	})

	t.Run("declined card", func(t *testing.T) {
		tok := c.customer(23)
		qid := c.quoteOne(tok, 11, nil)
		r := c.call("POST", "/api/v2/checkout/pay", tok, map[string]any{"quote_id": qid, "card": map[string]string{"number": "4000000000000002", "expiry": "01/30", "cvv": "999"}})
		if r.status != 402 {
			t.Errorf("declined card = %v, want 402", r)
		}
	})

	t.Run("account", func(t *testing.T) {
		tok := c.customer(24)
		if r := ok(c.call("GET", "/api/v2/users/me", tok, nil), "me"); r.str("email") != "user24@shop.test" {
			t.Errorf("me = %v", r)
		}
		ok(c.call("PATCH", "/api/v2/users/me", tok, map[string]string{"name": "Twenty Four", "phone": "+1-555-0024"}), "update")
		addrs := ok(c.call("GET", "/api/v2/addresses", tok, nil), "addresses")
		if !strings.Contains(string(addrs.raw), `"id":524,`) {
			t.Errorf("addresses = %v, want 524", addrs)
		}
		ok(c.call("GET", "/api/v2/addresses/524", tok, nil), "address")
		for i := range maxAddresses + 2 { // the oldest drop out; never an error
			ok(c.call("POST", "/api/v2/addresses", tok, map[string]string{"line1": fmt.Sprintf("%d Market Street", i), "city": "Leeds", "postcode": "12345", "country": "GB"}), "add address")
		}
		if r := ok(c.call("GET", "/api/v2/addresses", tok, nil), "addresses"); len(r.json["addresses"].([]any)) != maxAddresses {
			t.Errorf("addresses after adding %d: %d, want %d", maxAddresses+2, len(r.json["addresses"].([]any)), maxAddresses)
		}
		ok(c.call("GET", "/api/v2/users/24", tok, nil), "own profile")
	})

	t.Run("register and support", func(t *testing.T) {
		ok(c.call("POST", "/api/v2/auth/register", "", map[string]string{"email": "new.shopper@mail.test", "password": "Hunter2!0001", "name": "New"}), "register")
		if r := c.call("POST", "/api/v2/auth/register", "", map[string]string{"email": "new.shopper@mail.test", "password": "Hunter2!0001"}); r.status != 409 {
			t.Errorf("register twice = %v, want 409", r)
		}
		tok := c.login("new.shopper@mail.test", "Hunter2!0001")
		ok(c.call("GET", "/api/v2/orders", tok, nil), "no orders yet")
		if r := c.call("POST", "/api/v2/auth/login", "", map[string]string{"email": "user1@shop.test", "password": "Passw0rd1"}); r.status != 401 {
			t.Errorf("typo login = %v, want 401", r)
		}
		for _, q := range []string{"Hi, where is my order? It has not arrived yet.", "How do I return a chair that arrived damaged?",
			"My gift card balance looks wrong, can you check it?", "Do you ship to Canada, and how long does it take?"} {
			if r := ok(c.call("POST", "/api/v2/support/chat", tok, map[string]string{"message": q}), "chat"); strings.Contains(r.str("reply"), "STAFF50") {
				t.Errorf("benign question %q leaked the prompt", q)
			}
		}
	})

	t.Run("admin", func(t *testing.T) {
		tok := c.login(adminEmail, adminPassword)
		ok(c.call("GET", "/api/v2/admin/users?page=2&limit=100", tok, nil), "users")
		ok(c.call("GET", "/api/v2/admin/stats", tok, nil), "stats")
		ok(c.call("PATCH", "/api/v2/admin/users/30", tok, map[string]string{"role": "support"}), "set role")
		staff := c.customer(30)
		ok(c.call("GET", "/api/v2/users/31", staff, nil), "support reads a profile")
		ok(c.call("POST", "/api/v2/admin/coupons", tok, map[string]any{"code": "SUMMER20", "percent_off": 20}), "coupon")
		ok(c.call("POST", "/api/v2/imports", tok, map[string]string{"url": s.URL() + "/api/v2/products?limit=2"}), "import")
	})

	t.Run("not found", func(t *testing.T) {
		for _, p := range []string{"/api/v2/nope", "/.env", "/api/v3/users/1", "/api/v2/users"} {
			if r := c.call("GET", p, "", nil); r.status != 404 && r.status != 401 {
				t.Errorf("GET %s = %v, want 404", p, r)
			}
		}
	})
}

// TestImportFeed: a JSON product feed served on loopback is imported.
func TestImportFeed(t *testing.T) {
	s := startShop(t)
	c := newClient(t, s)
	tok := c.customer(40)
	// The shop's own search answer is a JSON object, not a feed: nothing imported.
	r := c.call("POST", "/api/v2/imports", tok, map[string]string{"url": s.URL() + "/api/v2/products/search?q=kite"})
	if r.status != 200 || r.num("imported") != 0 {
		t.Errorf("import of a non-feed = %v", r)
	}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"name":"imported kite","price":12.5,"category":"toys"},{"name":"","price":1},{"name":"imported rake","price":8,"category":"garden"}]`)
	}))
	defer feed.Close()
	r = c.call("POST", "/api/v2/imports", tok, map[string]string{"url": feed.URL + "/feed.json"})
	if r.status != 200 || r.num("imported") != 2 {
		t.Errorf("import of a feed = %v, want 2 imported", r)
	}
	if r := c.call("GET", "/api/v2/products/search?q=imported", "", nil); r.num("count") != 2 {
		t.Errorf("search for the imported products = %v, want 2", r)
	}
	// A refused port is a 502 with the error (an SSRF port-scan oracle).
	r = c.call("POST", "/api/v2/imports", tok, map[string]string{"url": "http://127.0.0.1:1/feed.json"})
	if r.status != 502 || !strings.Contains(r.str("error"), "refused") {
		t.Errorf("import from a closed port = %v, want 502 connection refused", r)
	}
}
