package shop

import (
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Accounts.

func (a *app) register(w http.ResponseWriter, r *http.Request) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	email, ok1 := str(w, m, "email", 254)
	if !ok1 {
		return
	}
	password, ok2 := str(w, m, "password", 128)
	if !ok2 {
		return
	}
	name, ok3 := str(w, m, "name", 100)
	if !ok3 {
		return
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		fail(w, http.StatusBadRequest, "field \"email\" must be an email address")
		return
	}
	if len(password) < 8 {
		fail(w, http.StatusBadRequest, "field \"password\" must have at least 8 characters")
		return
	}
	a.mu.Lock()
	if _, exists := a.byEmail[email]; exists {
		a.mu.Unlock()
		fail(w, http.StatusConflict, "an account with this email exists")
		return
	}
	u := &user{ID: a.nextUser, Email: email, Name: name, Role: roleCustomer,
		PasswordHash: hashPassword(fmt.Sprintf("%08x", a.nextUser*2654435761%(1<<32)), password),
		Created:      time.Now().UTC().Format(time.RFC3339)}
	a.nextUser++
	a.users[u.ID] = u
	a.byEmail[email] = u
	old, evicted := a.registered.put(u.ID, struct{}{})
	var gone *user
	if evicted {
		gone = a.users[old]
		a.dropUserLocked(old)
	}
	a.mu.Unlock()
	if gone != nil {
		_ = a.db.deleteUser(r.Context(), gone.ID)
	}
	if err := a.db.insertUser(r.Context(), u); err != nil {
		a.logger.Warn("store registered user", "err", err)
	}
	writeJSON(w, http.StatusCreated, publicUser(u))
}

// dropUserLocked forgets an evicted run-time account and what it owned.
func (a *app) dropUserLocked(id int64) {
	u, ok := a.users[id]
	if !ok {
		return
	}
	delete(a.users, id)
	delete(a.byEmail, u.Email)
	delete(a.carts, id)
	for _, ad := range u.addresses {
		delete(a.addresses, ad)
	}
}

// login has no rate limit and no lockout: the planted "no-rate-limit-login".
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	email, ok1 := str(w, m, "email", 254)
	password, ok2 := str(w, m, "password", 128)
	if !ok1 || !ok2 {
		return
	}
	email = strings.ToLower(strings.TrimSpace(email))
	account, addr := "login:"+email, "login:"+clientAddr(r)
	if a.cfg.hardened {
		waitAccount, blockedAccount := a.limits.loginAccount.blocked(account)
		waitAddress, blockedAddress := a.limits.loginAddress.blocked(addr)
		if blockedAccount || blockedAddress {
			tooMany(w, max(waitAccount, waitAddress)) // the longer wait: blocked() is 0 when not blocked
			return
		}
	}
	a.mu.Lock()
	u := a.byEmail[email]
	var snapshot user
	if u != nil {
		snapshot = *u
	}
	a.mu.Unlock()
	if u == nil || !checkPassword(snapshot.PasswordHash, password) {
		if a.cfg.hardened {
			a.limits.loginAccount.fail(account)
			a.limits.loginAddress.fail(addr)
		}
		fail(w, http.StatusUnauthorized, "invalid email or password")
		return
	}
	if a.cfg.hardened {
		a.limits.loginAccount.reset(account)
	}
	tok, err := a.issue(&snapshot)
	if err != nil {
		fail(w, http.StatusInternalServerError, "issue token: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok, "token_type": "Bearer", "expires_in": int(tokenTTL.Seconds()), "user": publicUser(&snapshot),
	})
}

// me returns the caller's whole record, password hash and card included:
// the planted "excessive-data-exposure".
func (a *app) me(w http.ResponseWriter, r *http.Request, p principal) {
	a.mu.Lock()
	u, ok := a.users[p.id]
	var out user
	var public map[string]any
	if ok {
		out = fullUser(u)
		public = publicUser(u)
		if u.Phone != "" {
			public["phone"] = u.Phone
		}
	}
	a.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	if a.cfg.hardened {
		writeJSON(w, http.StatusOK, public) // the documented PublicUser: no hash, no card
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// updateMe binds every known field of the body to the account, role
// included: the planted "mass-assignment-role".
func (a *app) updateMe(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	name, ok1 := str(w, m, "name", 100)
	phone, ok2 := str(w, m, "phone", 32)
	role, ok3 := str(w, m, "role", 16)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	if role != "" && role != roleCustomer && role != roleSupport && role != roleAdmin {
		fail(w, http.StatusBadRequest, "field \"role\" must be one of customer, support, admin")
		return
	}
	a.mu.Lock()
	u, exists := a.users[p.id]
	if !exists {
		a.mu.Unlock()
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	if name != "" {
		u.Name = name
	}
	if phone != "" {
		u.Phone = phone
	}
	if role != "" && !a.cfg.hardened { // the hardened twin ignores role: only admins set it
		u.Role = role
	}
	snapshot := *u
	a.mu.Unlock()
	if err := a.db.updateUser(r.Context(), &snapshot); err != nil {
		a.logger.Warn("store user update", "err", err)
	}
	writeJSON(w, http.StatusOK, publicUser(&snapshot))
}

// userByID is for support staff and admins (the fixed twin of the legacy
// /api/v1/users/{id}).
func (a *app) userByID(w http.ResponseWriter, r *http.Request, p principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if p.role != roleSupport && p.role != roleAdmin && p.id != id {
		fail(w, http.StatusForbidden, "forbidden: support or admin only")
		return
	}
	a.mu.Lock()
	u, exists := a.users[id]
	var out map[string]any
	if exists {
		out = publicUser(u)
		out["phone"] = u.Phone
	}
	a.mu.Unlock()
	if !exists {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// Catalogue.

func (a *app) listProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset := 20, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		limit = min(n, 100)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(w, http.StatusBadRequest, "offset must be a non-negative integer")
			return
		}
		offset = n
	}
	cat := q.Get("category")
	a.mu.Lock()
	var all []product
	for _, id := range a.productIDs {
		if p := a.products[id]; cat == "" || p.Category == cat {
			all = append(all, *p)
		}
	}
	a.mu.Unlock()
	page := []product{}
	if offset < len(all) {
		page = all[offset:min(len(all), offset+limit)]
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": page, "total": len(all), "limit": limit, "offset": offset})
}

func (a *app) productByID(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	p, exists := a.products[id]
	var out product
	if exists {
		out = *p
	}
	a.mu.Unlock()
	if !exists {
		fail(w, http.StatusNotFound, "no such product")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// maxQuery caps a search term.
const maxQuery = 200

// search pastes q into its SQL: the planted "sqli-search". A query that
// fails answers 400 with the SQL and the driver's error (verbose).
func (a *app) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if len(q) > maxQuery {
		fail(w, http.StatusBadRequest, "q is longer than %d characters", maxQuery)
		return
	}
	if a.cfg.hardened {
		rows, err := a.db.searchSafe(r.Context(), q)
		if err != nil {
			a.logger.Warn("search", "err", err)
			fail(w, http.StatusInternalServerError, "search failed")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"query": q, "count": len(rows), "products": rows})
		return
	}
	rows, query, err := a.db.search(r.Context(), q)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "search failed: " + err.Error(),
			"query": query,
			"hint":  "sqlite3 products table (id, name, category, price, description)",
		})
		return
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": q, "count": len(rows), "products": rows})
}

// Cart and checkout.

func (a *app) cartLocked(uid int64) *cart {
	c := a.carts[uid]
	if c == nil {
		c = &cart{nextItem: 1}
		a.carts[uid] = c
	}
	return c
}

func cartView(c *cart) map[string]any {
	items := slices.Clone(c.items)
	if items == nil {
		items = []item{}
	}
	sub := 0.0
	for _, it := range items {
		sub += it.Price * float64(it.Quantity)
	}
	return map[string]any{"items": items, "count": len(items), "subtotal": money(sub), "currency": "USD"}
}

func (a *app) viewCart(w http.ResponseWriter, r *http.Request, p principal) {
	a.mu.Lock()
	v := cartView(a.cartLocked(p.id))
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

var cartFields = []string{"product_id", "quantity", "price"}

// addItem takes the unit price from the body when one is sent: the planted
// "mass-assignment-price". Its validation errors name the allowed fields.
func (a *app) addItem(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(cartFields, k) {
			fail(w, http.StatusBadRequest, "unknown field %q; allowed fields: %s", k, strings.Join(cartFields, ", "))
			return
		}
	}
	pid, present, valid := integer(m, "product_id")
	if !present || !valid {
		fail(w, http.StatusBadRequest, `field "product_id" is required (integer)`)
		return
	}
	qty, present, valid := integer(m, "quantity")
	if !present || !valid {
		fail(w, http.StatusBadRequest, `field "quantity" must be an integer`)
		return
	}
	if qty < 1 || qty > 99 {
		fail(w, http.StatusBadRequest, `field "quantity" must be between 1 and 99`)
		return
	}
	price := -1.0
	if v, sent := m["price"]; sent {
		f, isNum := v.(float64)
		if !isNum || f < 0 || f > 1e6 {
			fail(w, http.StatusBadRequest, `field "price" must be a number`)
			return
		}
		price = money(f)
	}
	if a.cfg.hardened {
		price = -1 // the hardened twin ignores a client price: the catalogue's is used
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	prod, exists := a.products[pid]
	if !exists {
		fail(w, http.StatusNotFound, "no such product %d", pid)
		return
	}
	if price < 0 {
		price = prod.Price
	}
	c := a.cartLocked(p.id)
	if len(c.items) >= maxCartItems {
		fail(w, http.StatusConflict, "cart is full (%d items)", maxCartItems)
		return
	}
	it := item{ID: c.nextItem, ProductID: pid, Name: prod.Name, Quantity: qty, Price: price}
	c.nextItem++
	c.items = append(c.items, it)
	writeJSON(w, http.StatusCreated, it)
}

func (a *app) removeItem(w http.ResponseWriter, r *http.Request, p principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.cartLocked(p.id)
	i := slices.IndexFunc(c.items, func(it item) bool { return it.ID == id })
	if i < 0 {
		fail(w, http.StatusNotFound, "no such cart item")
		return
	}
	c.items = slices.Delete(c.items, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) quote(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	code, ok := str(w, m, "coupon", 32)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.cartLocked(p.id)
	if len(c.items) == 0 {
		fail(w, http.StatusConflict, "cart is empty")
		return
	}
	q := &quote{UserID: p.id, Items: slices.Clone(c.items), Currency: "USD",
		Expires: time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)}
	for _, it := range q.Items {
		q.Subtotal += it.Price * float64(it.Quantity)
	}
	q.Subtotal = money(q.Subtotal)
	if code != "" {
		cp, known := a.coupons[strings.ToUpper(code)]
		if !known {
			fail(w, http.StatusBadRequest, "unknown coupon %q", code)
			return
		}
		q.Coupon = cp.Code
		q.Discount = money(q.Subtotal * float64(cp.Percent) / 100)
	}
	q.Total = money(q.Subtotal - q.Discount)
	a.nextQuote++
	q.ID = fmt.Sprintf("q_%06d", a.nextQuote)
	a.quotes.put(q.ID, q)
	writeJSON(w, http.StatusCreated, q)
}

func (a *app) pay(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	qid := idString(m, "quote_id")
	gift, ok := str(w, m, "gift_card", 32)
	if !ok {
		return
	}
	var cc card
	if raw, sent := m["card"]; sent {
		cm, isObj := raw.(map[string]any)
		if !isObj {
			fail(w, http.StatusBadRequest, `field "card" must be an object with number, expiry and cvv`)
			return
		}
		var ok1, ok2, ok3 bool
		cc.Number, ok1 = str(w, cm, "number", 19)
		if !ok1 {
			return
		}
		cc.Expiry, ok2 = str(w, cm, "expiry", 5)
		if !ok2 {
			return
		}
		cc.CVV, ok3 = str(w, cm, "cvv", 4)
		if !ok3 {
			return
		}
	}
	if gift == "" && cc.Number == "" {
		fail(w, http.StatusBadRequest, `one of "card" or "gift_card" is required`)
		return
	}
	a.mu.Lock()
	q, exists := a.quotes.get(qid)
	if !exists || q.UserID != p.id {
		a.mu.Unlock()
		fail(w, http.StatusNotFound, "no such quote %q", qid)
		return
	}
	total := q.Total
	if gift != "" {
		g, known := a.giftCards[strings.ToUpper(gift)]
		switch {
		case !known:
			a.mu.Unlock()
			fail(w, http.StatusPaymentRequired, "gift card declined")
			return
		case g.Balance < total:
			a.mu.Unlock()
			fail(w, http.StatusPaymentRequired, "gift card balance %.2f is less than %.2f", g.Balance, total)
			return
		}
		g.Balance = money(g.Balance - total)
		pm := a.newPaymentLocked(q, "gift_card", "")
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, pm)
		return
	}
	a.mu.Unlock()

	charge, status, err := a.charge(r, total, cc, qid)
	if err != nil {
		if a.cfg.hardened {
			a.logger.Warn("payment partner", "err", err)
			fail(w, http.StatusBadGateway, "payment partner unavailable")
			return
		}
		fail(w, http.StatusBadGateway, "payment partner: %v", err)
		return
	}
	if status != "succeeded" {
		fail(w, http.StatusPaymentRequired, "card %s by the payment partner", status)
		return
	}
	a.mu.Lock()
	pm := a.newPaymentLocked(q, "card", charge)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, pm)
}

func (a *app) newPaymentLocked(q *quote, method, external string) payment {
	a.nextPayment++
	pm := &payment{ID: fmt.Sprintf("pay_%08d", a.nextPayment), QuoteID: q.ID, UserID: q.UserID, Amount: q.Total,
		Method: method, Status: "succeeded", External: external}
	a.payments.put(pm.ID, pm)
	return *pm
}

// confirm turns a quote into an order. It checks that a payment id is sent
// but never that the payment exists, succeeded or covers this quote: the
// planted "skip-payment".
func (a *app) confirm(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	qid, pid := idString(m, "quote_id"), idString(m, "payment_id")
	if pid == "" {
		fail(w, http.StatusBadRequest, `field "payment_id" is required`)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	q, exists := a.quotes.get(qid)
	if !exists || q.UserID != p.id {
		fail(w, http.StatusNotFound, "no such quote %q", qid)
		return
	}
	if a.cfg.hardened {
		// The hardened twin confirms only a quote this user paid for.
		pm, paid := a.payments.get(pid)
		if !paid || pm.UserID != p.id || pm.QuoteID != q.ID || pm.Status != "succeeded" || pm.Amount < q.Total {
			fail(w, http.StatusPaymentRequired, "no successful payment %q for quote %q", pid, qid)
			return
		}
	}
	u := a.users[p.id]
	o := &order{ID: a.nextOrder, UserID: p.id, Status: "confirmed", Items: q.Items, Total: q.Total, PaymentID: pid,
		Created: time.Now().UTC().Format(time.RFC3339)}
	if u != nil {
		o.Email = u.Email
		if len(u.addresses) > 0 {
			o.Ship = a.addresses[u.addresses[0]]
		}
		if u.Card != nil {
			o.CardLast4 = u.Card.Number[len(u.Card.Number)-4:]
		}
		u.orders = append(u.orders, o.ID)
		if len(u.orders) > 4*maxOrdersListed {
			u.orders = slices.Clone(u.orders[len(u.orders)-maxOrdersListed:])
		}
	}
	a.nextOrder++
	a.orders[o.ID] = o
	if old, evicted := a.created.put(o.ID, struct{}{}); evicted {
		delete(a.orders, old)
	}
	a.quotes.del(qid)
	if c := a.carts[p.id]; c != nil {
		c.items = nil
	}
	writeJSON(w, http.StatusCreated, o)
}

// Orders and addresses.

func (a *app) listOrders(w http.ResponseWriter, r *http.Request, p principal) {
	type summary struct {
		ID      int64   `json:"id"`
		Status  string  `json:"status"`
		Total   float64 `json:"total"`
		Created string  `json:"created_at"`
	}
	out := []summary{}
	a.mu.Lock()
	if u := a.users[p.id]; u != nil {
		for i := len(u.orders) - 1; i >= 0 && len(out) < maxOrdersListed; i-- {
			if o := a.orders[u.orders[i]]; o != nil {
				out = append(out, summary{o.ID, o.Status, o.Total, o.Created})
			}
		}
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

// orderByID returns any order to any signed-in user: the planted
// "bola-orders". The hardened twin returns only the caller's own orders (or
// any, for an admin).
func (a *app) orderByID(w http.ResponseWriter, r *http.Request, p principal) {
	a.writeOrder(w, r, p, a.cfg.hardened)
}

// writeOrder writes the order named in the path. With ownOnly, another
// user's order (unless p is an admin) is "no such order".
func (a *app) writeOrder(w http.ResponseWriter, r *http.Request, p principal, ownOnly bool) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	o, exists := a.orders[id]
	var out order
	if exists {
		out = *o
	}
	a.mu.Unlock()
	if ownOnly && exists && out.UserID != p.id && p.role != roleAdmin {
		exists = false
	}
	if !exists {
		fail(w, http.StatusNotFound, "no such order")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *app) listAddresses(w http.ResponseWriter, r *http.Request, p principal) {
	out := []address{}
	a.mu.Lock()
	if u := a.users[p.id]; u != nil {
		for _, id := range u.addresses {
			if ad := a.addresses[id]; ad != nil {
				out = append(out, *ad)
			}
		}
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"addresses": out})
}

func (a *app) addAddress(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	var ad address
	for _, f := range []struct {
		key   string
		dst   *string
		limit int
		req   bool
	}{{"name", &ad.Name, 100, false}, {"line1", &ad.Line1, 200, true}, {"city", &ad.City, 100, true},
		{"postcode", &ad.Postcode, 16, false}, {"country", &ad.Country, 2, true}, {"phone", &ad.Phone, 32, false}} {
		v, ok := str(w, m, f.key, f.limit)
		if !ok {
			return
		}
		if f.req && v == "" {
			fail(w, http.StatusBadRequest, "field %q is required", f.key)
			return
		}
		*f.dst = v
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[p.id]
	if u == nil {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	ad.ID, ad.UserID = a.nextAddress, p.id
	if ad.Name == "" {
		ad.Name = u.Name
	}
	a.nextAddress++
	a.addresses[ad.ID] = &ad
	u.addresses = append(u.addresses, ad.ID)
	if len(u.addresses) > maxAddresses {
		delete(a.addresses, u.addresses[0])
		u.addresses = slices.Delete(u.addresses, 0, 1)
	}
	writeJSON(w, http.StatusCreated, ad)
}

// addressByID returns any address to any signed-in user: the planted
// "bola-addresses".
func (a *app) addressByID(w http.ResponseWriter, r *http.Request, p principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	ad, exists := a.addresses[id]
	var out address
	if exists {
		out = *ad
	}
	a.mu.Unlock()
	if a.cfg.hardened && exists && out.UserID != p.id && p.role != roleAdmin {
		exists = false // the hardened twin: another user's address is "no such address"
	}
	if !exists {
		fail(w, http.StatusNotFound, "no such address")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// Coupons and gift cards.

func (a *app) validateCoupon(w http.ResponseWriter, r *http.Request) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	code, ok := str(w, m, "code", 32)
	if !ok {
		return
	}
	a.mu.Lock()
	c, known := a.coupons[strings.ToUpper(code)]
	a.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]any{"valid": false, "error": "unknown coupon"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "code": c.Code, "percent_off": c.Percent})
}

// giftCardBalance answers anyone, as often as asked: the planted
// "no-rate-limit-giftcard" (codes are GC- and four digits).
func (a *app) giftCardBalance(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(r.PathValue("code"))
	addr := "giftcard:" + clientAddr(r)
	if a.cfg.hardened {
		if wait, blocked := a.limits.giftCards.blocked(addr); blocked {
			tooMany(w, wait)
			return
		}
	}
	a.mu.Lock()
	g, known := a.giftCards[code]
	var bal float64
	if known {
		bal = g.Balance
	}
	a.mu.Unlock()
	if !known {
		if a.cfg.hardened {
			a.limits.giftCards.fail(addr)
		}
		fail(w, http.StatusNotFound, "unknown gift card")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": code, "balance": bal, "currency": "USD"})
}

// Admin.

func (a *app) adminUsers(w http.ResponseWriter, r *http.Request, p principal) {
	q := r.URL.Query()
	page, limit := 1, 50
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, 100)
	}
	a.mu.Lock()
	ids := slices.Sorted(maps.Keys(a.users))
	out := []map[string]any{}
	for i := (page - 1) * limit; i >= 0 && i < len(ids) && len(out) < limit; i++ {
		out = append(out, publicUser(a.users[ids[i]]))
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "page": page, "limit": limit, "total": len(ids)})
}

func (a *app) adminSetRole(w http.ResponseWriter, r *http.Request, p principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	m, ok := body(w, r)
	if !ok {
		return
	}
	role, ok := str(w, m, "role", 16)
	if !ok {
		return
	}
	if role != roleCustomer && role != roleSupport && role != roleAdmin {
		fail(w, http.StatusBadRequest, "field \"role\" must be one of customer, support, admin")
		return
	}
	a.mu.Lock()
	u, exists := a.users[id]
	var snapshot user
	if exists {
		u.Role = role
		snapshot = *u
	}
	a.mu.Unlock()
	if !exists {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	if err := a.db.updateUser(r.Context(), &snapshot); err != nil {
		a.logger.Warn("store role", "err", err)
	}
	writeJSON(w, http.StatusOK, publicUser(&snapshot))
}

func (a *app) adminStats(w http.ResponseWriter, r *http.Request, p principal) {
	a.mu.Lock()
	revenue := 0.0
	for _, o := range a.orders {
		revenue += o.Total
	}
	out := map[string]any{"users": len(a.users), "orders": len(a.orders), "products": len(a.products),
		"quotes": a.quotes.len(), "payments": a.payments.len(), "revenue": money(revenue), "coupons": len(a.coupons)}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// createCoupon checks that the caller is signed in, not that they are an
// admin: the planted "bfla-admin-coupons".
func (a *app) createCoupon(w http.ResponseWriter, r *http.Request, p principal) {
	if a.cfg.hardened && p.role != roleAdmin {
		fail(w, http.StatusForbidden, "forbidden: admin only")
		return
	}
	m, ok := body(w, r)
	if !ok {
		return
	}
	code, ok := str(w, m, "code", 32)
	if !ok {
		return
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		fail(w, http.StatusBadRequest, `field "code" is required`)
		return
	}
	pct, present, valid := integer(m, "percent_off")
	if !present {
		pct, present, valid = integer(m, "discount")
	}
	if !present || !valid || pct < 1 || pct > 100 {
		fail(w, http.StatusBadRequest, `field "percent_off" must be an integer from 1 to 100`)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, exists := a.coupons[code]; exists {
		fail(w, http.StatusConflict, "coupon %q exists", code)
		return
	}
	a.coupons[code] = coupon{Code: code, Percent: int(pct), Note: fmt.Sprintf("created by user %d", p.id)}
	if old, evicted := a.newCoupons.put(code, struct{}{}); evicted {
		delete(a.coupons, old)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"code": code, "percent_off": pct, "created_by": p.id})
}

// Legacy /api/v1 routes: left out of the spec, still served, with the old
// token check that accepts alg "none" and no ownership checks.

// v1User is the legacy twin of /api/v2/users/{id}: any signed-in caller gets
// any user's whole record.
func (a *app) v1User(w http.ResponseWriter, r *http.Request, p principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.writeFullUser(w, id)
}

func (a *app) writeFullUser(w http.ResponseWriter, id int64) {
	a.mu.Lock()
	u, exists := a.users[id]
	var out user
	if exists {
		out = fullUser(u)
	}
	a.mu.Unlock()
	if !exists {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *app) v1Order(w http.ResponseWriter, r *http.Request, p principal) {
	a.writeOrder(w, r, p, false)
}

// v1Account trusts the token's subject; with alg "none" anyone can claim to
// be anyone (ground truth "jwt-alg-none").
func (a *app) v1Account(w http.ResponseWriter, r *http.Request, p principal) {
	a.writeFullUser(w, p.id)
}

// v1Export is the old bulk export: it trusts the role claim of a legacy
// token and returns every user with hashes and cards.
func (a *app) v1Export(w http.ResponseWriter, r *http.Request, p principal) {
	if p.role != roleAdmin {
		fail(w, http.StatusForbidden, "forbidden: admin only")
		return
	}
	a.mu.Lock()
	out := make([]user, 0, len(a.users))
	for _, id := range slices.Sorted(maps.Keys(a.users)) {
		out = append(out, fullUser(a.users[id]))
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"exported_at": time.Now().UTC().Format(time.RFC3339), "count": len(out), "users": out})
}

// debug is a leftover diagnostics endpoint that prints the configuration,
// secrets included, to anyone.
func (a *app) debug(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "shop-api", "version": "2.4.1-debug", "env": "production",
		"uptime_s":       int(time.Since(a.started).Seconds()),
		"jwt_secret":     string(a.secret),
		"jwt_algorithms": []string{"HS256", "none (legacy /api/v1)"},
		"partner_url":    a.cfg.partnerURL,
		"partner_key":    a.partnerKey,
		"llm_url":        a.cfg.llmURL,
		"database":       "sqlite:" + a.cfg.dbPath,
		"cloud_metadata": a.cfg.metadataURL,
		"weak_coupon":    a.weakCouponID,
		"admin_email":    adminEmail,
		"feature_flags":  map[string]bool{"legacy_v1": true, "import_from_url": true, "support_bot": true},
	})
}
