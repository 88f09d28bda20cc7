package simulate

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Search terms real customers type, including ones that look like SQL or
// carry quotes: a detector must not flag them.
var searchTerms = []string{
	"chair", "desk lamp", "select chair", "drop-leaf table", "O'Reilly book", "union jack mug",
	"table & chairs", "50% off", "coffee grinder", "update kit", "sleep mask", "kids' bike",
	"insert tool", "where's my order", "or-nament", "delete key keyboard", "1=1 puzzle", "--wool socks",
}

var supportQuestions = []string{
	"Hi, where is my order? It has not arrived yet.",
	"Can I change the delivery address of my last order?",
	"How do I return a chair that arrived damaged?",
	"Do you ship to Canada, and how long does it take?",
	"My gift card balance looks wrong, can you check it?",
}

var testCards = []map[string]string{
	{"number": "4111111111111111", "expiry": "12/29", "cvv": "123"},
	{"number": "5555555555554444", "expiry": "08/28", "cvv": "737"},
	{"number": "4000056655665556", "expiry": "03/30", "cvv": "310"},
}

// ownedGiftCards are gift cards customers really hold (valid in the shop's
// seed data).
var ownedGiftCards = []string{"GC-0042", "GC-1337"}

// customer is one benign shop user with their own device and login.
type customer struct {
	a        *actor
	n        int
	products []int64
	orders   []int64
	addrs    []int64
}

func (p *plan) customer(n int) script {
	ident := p.browser()
	kind := "web"
	if p.master.Float64() < 0.3 {
		ident = p.mobileApp()
		kind = "app"
	}
	a := p.newActor(fmt.Sprintf("%s-user%d", kind, n), CampaignBenign, ident)
	perUser := p.cfg.Rate / float64(p.cfg.Users)
	c := &customer{a: a, n: n}
	gap := func() time.Duration {
		rate := perUser * surge(float64(a.at)/float64(p.cfg.Duration))
		return time.Duration(a.rng.ExpFloat64() / rate * float64(time.Second))
	}
	return func(ctx context.Context, r *runner) error {
		a.wait(gap())
		for {
			if err := c.journey(ctx, r, gap); err != nil {
				return err
			}
			a.wait(gap())
		}
	}
}

// journey runs one visit: log in when needed, then one thing a customer does.
func (c *customer) journey(ctx context.Context, r *runner, gap func() time.Duration) error {
	a := c.a
	step := func(q request) (*response, error) {
		resp, err := r.do(ctx, a, q)
		if err != nil {
			return nil, err
		}
		a.wait(gap() / 3) // think time inside a visit is shorter than between visits
		if resp.status == 401 {
			a.logout()
		}
		return resp, nil
	}
	if a.token == "" {
		email := fmt.Sprintf("user%d@shop.test", c.n)
		if a.rng.Float64() < 0.05 { // an honest typo first
			if _, err := step(request{step: "login.typo", method: "POST", target: "/api/v2/auth/login", template: "/api/v2/auth/login",
				body: map[string]string{"email": email, "password": fmt.Sprintf("Passw0rd%d", c.n)}}); err != nil {
				return err
			}
		}
		resp, err := step(request{step: "login", method: "POST", target: "/api/v2/auth/login", template: "/api/v2/auth/login",
			body: map[string]string{"email": email, "password": fmt.Sprintf("Passw0rd!%d", c.n)}})
		if err != nil {
			return err
		}
		if tok := jsonString(resp.body, "token"); tok != "" {
			a.login(tok)
		}
	}
	switch w := a.rng.IntN(100); {
	case w < 25:
		return c.browse(step)
	case w < 45:
		return c.search(step)
	case w < 65:
		return c.checkout(step)
	case w < 75:
		return c.account(step)
	case w < 95:
		return c.myOrders(step)
	default:
		_, err := step(request{step: "support.chat", method: "POST", target: "/api/v2/support/chat", template: "/api/v2/support/chat",
			body: map[string]string{"message": pick(a.rng, supportQuestions)}})
		return err
	}
}

type stepFunc func(request) (*response, error)

func (c *customer) product() int64 {
	if len(c.products) > 0 && c.a.rng.IntN(3) > 0 {
		return pick(c.a.rng, c.products)
	}
	return int64(1 + c.a.rng.IntN(200))
}

func (c *customer) browse(step stepFunc) error {
	a := c.a
	target := fmt.Sprintf("/api/v2/products?limit=20&offset=%d", 20*a.rng.IntN(10))
	if a.rng.IntN(3) == 0 {
		target += "&category=" + pick(a.rng, []string{"furniture", "books", "kitchen", "garden", "toys"})
	}
	resp, err := step(request{step: "browse.list", method: "GET", target: target, template: "/api/v2/products"})
	if err != nil {
		return err
	}
	if ids := jsonInts(resp.body, "id"); len(ids) > 0 {
		c.products = ids
	}
	for range 1 + a.rng.IntN(3) {
		id := c.product()
		if _, err := step(request{step: "browse.product", method: "GET", target: fmt.Sprintf("/api/v2/products/%d", id), template: "/api/v2/products/{id}"}); err != nil {
			return err
		}
	}
	return nil
}

func (c *customer) search(step stepFunc) error {
	a := c.a
	resp, err := step(request{step: "search", method: "GET", target: "/api/v2/products/search?q=" + url.QueryEscape(pick(a.rng, searchTerms)),
		template: "/api/v2/products/search"})
	if err != nil {
		return err
	}
	if ids := jsonInts(resp.body, "id"); len(ids) > 0 && a.rng.IntN(2) == 0 {
		_, err = step(request{step: "browse.product", method: "GET", target: fmt.Sprintf("/api/v2/products/%d", pick(a.rng, ids)), template: "/api/v2/products/{id}"})
	}
	return err
}

func (c *customer) checkout(step stepFunc) error {
	a := c.a
	if a.token == "" {
		return nil
	}
	if _, err := step(request{step: "cart.add", method: "POST", target: "/api/v2/cart/items", template: "/api/v2/cart/items",
		body: map[string]int64{"product_id": c.product(), "quantity": int64(1 + a.rng.IntN(2))}}); err != nil {
		return err
	}
	if a.rng.IntN(3) == 0 {
		if _, err := step(request{step: "cart.add", method: "POST", target: "/api/v2/cart/items", template: "/api/v2/cart/items",
			body: map[string]int64{"product_id": c.product(), "quantity": 1}}); err != nil {
			return err
		}
	}
	resp, err := step(request{step: "cart.view", method: "GET", target: "/api/v2/cart", template: "/api/v2/cart"})
	if err != nil {
		return err
	}
	if items := jsonInts(resp.body, "id"); len(items) > 1 && a.rng.IntN(5) == 0 {
		if _, err := step(request{step: "cart.remove", method: "DELETE", target: fmt.Sprintf("/api/v2/cart/items/%d", items[len(items)-1]),
			template: "/api/v2/cart/items/{id}"}); err != nil {
			return err
		}
	}
	quote := map[string]string{}
	if a.rng.IntN(10) < 4 {
		code := pick(a.rng, []string{"WELCOME10", "SPRING15"})
		if a.rng.IntN(8) == 0 { // a mistyped coupon, retried twice: as typed, then corrected
			typo := code[:len(code)-3] + code[len(code)-2:]
			for range 2 {
				if _, err := step(request{step: "coupon.typo", method: "POST", target: "/api/v2/coupons/validate", template: "/api/v2/coupons/validate",
					body: map[string]string{"code": typo}}); err != nil {
					return err
				}
			}
		}
		resp, err := step(request{step: "coupon.validate", method: "POST", target: "/api/v2/coupons/validate", template: "/api/v2/coupons/validate",
			body: map[string]string{"code": code}})
		if err != nil {
			return err
		}
		if resp.ok() {
			quote["coupon"] = code
		}
	}
	resp, err = step(request{step: "checkout.quote", method: "POST", target: "/api/v2/checkout/quote", template: "/api/v2/checkout/quote", body: quote})
	if err != nil {
		return err
	}
	quoteID := jsonValue(resp.body, "quote_id")
	if quoteID == nil {
		return nil
	}
	pay := map[string]any{"quote_id": quoteID, "card": pick(a.rng, testCards)}
	if a.rng.IntN(5) == 0 {
		code := pick(a.rng, ownedGiftCards)
		resp, err := step(request{step: "giftcard.balance", method: "GET", target: "/api/v2/giftcards/" + code + "/balance", template: "/api/v2/giftcards/{code}/balance"})
		if err != nil {
			return err
		}
		if resp.ok() {
			pay = map[string]any{"quote_id": quoteID, "gift_card": code}
		}
	}
	resp, err = step(request{step: "checkout.pay", method: "POST", target: "/api/v2/checkout/pay", template: "/api/v2/checkout/pay", body: pay})
	if err != nil {
		return err
	}
	paymentID := jsonValue(resp.body, "payment_id")
	if paymentID == nil {
		return nil
	}
	resp, err = step(request{step: "checkout.confirm", method: "POST", target: "/api/v2/checkout/confirm", template: "/api/v2/checkout/confirm",
		body: map[string]any{"quote_id": quoteID, "payment_id": paymentID}})
	if err != nil {
		return err
	}
	if id, ok := jsonInt(resp.body, "id"); ok {
		c.orders = append(c.orders, id)
	}
	return nil
}

func (c *customer) account(step stepFunc) error {
	a := c.a
	if a.token == "" {
		return nil
	}
	if _, err := step(request{step: "account.me", method: "GET", target: "/api/v2/users/me", template: "/api/v2/users/me"}); err != nil {
		return err
	}
	resp, err := step(request{step: "account.addresses", method: "GET", target: "/api/v2/addresses", template: "/api/v2/addresses"})
	if err != nil {
		return err
	}
	if ids := jsonInts(resp.body, "id"); len(ids) > 0 {
		c.addrs = ids
	}
	switch {
	case len(c.addrs) > 0 && a.rng.IntN(2) == 0:
		_, err = step(request{step: "account.address", method: "GET", target: fmt.Sprintf("/api/v2/addresses/%d", pick(a.rng, c.addrs)),
			template: "/api/v2/addresses/{id}"})
	case a.rng.IntN(6) == 0:
		_, err = step(request{step: "account.address-add", method: "POST", target: "/api/v2/addresses", template: "/api/v2/addresses",
			body: map[string]string{"line1": fmt.Sprintf("%d Market Street", 1+a.rng.IntN(400)), "city": pick(a.rng, []string{"Springfield", "Leeds", "Lyon", "Utrecht"}),
				"postcode": strconv.Itoa(10000 + a.rng.IntN(89999)), "country": pick(a.rng, []string{"US", "GB", "FR", "NL"})}})
	}
	return err
}

func (c *customer) myOrders(step stepFunc) error {
	a := c.a
	if a.token == "" {
		return nil
	}
	resp, err := step(request{step: "orders.list", method: "GET", target: "/api/v2/orders", template: "/api/v2/orders"})
	if err != nil {
		return err
	}
	if ids := jsonInts(resp.body, "id"); len(ids) > 0 {
		c.orders = ids
	}
	if len(c.orders) > 0 && a.rng.IntN(3) > 0 {
		_, err = step(request{step: "orders.view", method: "GET", target: fmt.Sprintf("/api/v2/orders/%d", pick(a.rng, c.orders)), template: "/api/v2/orders/{id}"})
	}
	return err
}

// partner is the one high-volume legitimate integration: a catalogue feed
// reading products at a steady rate with an API key.
func (p *plan) partner() script {
	ident := p.tool("PartnerCatalogSync/2.3.1 (+catalog-feed; ops@partner.test)", header{"Accept", "application/json"}, header{"Accept-Encoding", "gzip"})
	ident.headers = ident.headers[1:] // its own Accept replaces the tool default
	a := p.newActor("partner-feed", CampaignBenign, ident)
	a.apiKey = fmt.Sprintf("pk_live_%016x%016x", p.master.Uint64(), p.master.Uint64())
	a.principal = apiKeyPrincipal(a.apiKey)
	every := time.Duration(float64(time.Second) / partnerRate(p.cfg.Rate))
	return func(ctx context.Context, r *runner) error {
		a.wait(a.jitter(every))
		for offset := 0; ; offset = (offset + 50) % 200 {
			resp, err := r.do(ctx, a, request{step: "partner.catalog", method: "GET", target: fmt.Sprintf("/api/v2/products?limit=50&offset=%d", offset), template: "/api/v2/products"})
			if err != nil {
				return err
			}
			a.wait(every)
			ids := jsonInts(resp.body, "id")
			if len(ids) == 0 {
				ids = []int64{int64(offset + 1), int64(offset + 2), int64(offset + 3)}
			}
			for _, id := range ids[:min(len(ids), 5)] {
				if _, err := r.do(ctx, a, request{step: "partner.product", method: "GET", target: fmt.Sprintf("/api/v2/products/%d", id), template: "/api/v2/products/{id}"}); err != nil {
					return err
				}
				a.wait(time.Duration(float64(every) * (0.9 + 0.2*a.rng.Float64())))
			}
		}
	}
}
