package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

type config struct {
	seed                            int64
	partnerURL, llmURL, metadataURL string
	// partnerVia and partnerHost route payment calls through an egress
	// proxy (Options.PartnerVia).
	partnerVia, partnerHost string
	dbPath                  string
	// hardened fixes every planted vulnerability (Options.Hardened).
	hardened bool
}

// app is the shop's state and handlers. One mutex guards the in-memory
// state; calls to the partner, the LLM and import URLs happen outside it.
type app struct {
	cfg        config
	logger     *slog.Logger
	secret     []byte
	partnerKey string
	db         *db
	specJSON   []byte
	started    time.Time

	fetcher *http.Client // import-from-URL: loopback only
	limits  *limits      // failure rate limits; nil unless hardened
	partner *http.Client
	llm     *http.Client

	mu           sync.Mutex
	users        map[int64]*user
	byEmail      map[string]*user
	registered   *fifo[int64, struct{}]
	nextUser     int64
	products     map[int64]*product
	productIDs   []int64 // listing order
	addresses    map[int64]*address
	nextAddress  int64
	orders       map[int64]*order
	created      *fifo[int64, struct{}] // orders confirmed at run time
	nextOrder    int64
	carts        map[int64]*cart
	quotes       *fifo[string, *quote]
	payments     *fifo[string, *payment]
	nextQuote    int64
	nextPayment  int64
	coupons      map[string]coupon
	newCoupons   *fifo[string, struct{}]
	giftCards    map[string]*giftCard
	imported     int
	nextProduct  int64
	weakCouponID string
}

type cart struct {
	items    []item
	nextItem int64
}

func newApp(ctx context.Context, cfg config, logger *slog.Logger) (*app, error) {
	d := newSeed(cfg.seed)
	spec, err := specAsJSON()
	if err != nil {
		return nil, err
	}
	database, err := openDB(ctx, cfg.dbPath, d)
	if err != nil {
		return nil, err
	}
	a := &app{
		cfg: cfg, logger: logger, secret: []byte(d.secret), partnerKey: d.partner, db: database, specJSON: spec,
		started: time.Now(),
		fetcher: newFetcher(),
		partner: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}},
		llm:     &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}},
		users:   map[int64]*user{}, byEmail: map[string]*user{},
		registered: newFIFO[int64, struct{}](maxRegistered), nextUser: firstRegistered,
		products: map[int64]*product{}, addresses: map[int64]*address{}, orders: map[int64]*order{},
		created: newFIFO[int64, struct{}](maxCreatedOrders),
		carts:   map[int64]*cart{},
		quotes:  newFIFO[string, *quote](maxQuotes), payments: newFIFO[string, *payment](maxPayments),
		coupons: map[string]coupon{}, newCoupons: newFIFO[string, struct{}](maxCoupons),
		giftCards: map[string]*giftCard{}, nextProduct: 5001, weakCouponID: d.weakCode,
	}
	if cfg.hardened {
		a.limits = newLimits(time.Now)
	}
	for _, u := range d.users {
		a.users[u.ID] = u
		a.byEmail[u.Email] = u
	}
	for _, p := range d.products {
		a.products[p.ID] = p
		a.productIDs = append(a.productIDs, p.ID)
	}
	for _, ad := range d.addresses {
		a.addresses[ad.ID] = ad
		a.nextAddress = max(a.nextAddress, ad.ID+1)
	}
	for _, o := range d.orders {
		a.orders[o.ID] = o
		a.nextOrder = max(a.nextOrder, o.ID+1)
	}
	for _, c := range d.coupons {
		a.coupons[c.Code] = c
	}
	for _, g := range d.giftCards {
		a.giftCards[g.Code] = &g
	}
	return a, nil
}

func (a *app) close() error {
	a.fetcher.CloseIdleConnections()
	a.partner.CloseIdleConnections()
	a.llm.CloseIdleConnections()
	return a.db.close()
}

// specAsJSON converts the embedded openapi.yaml for GET /openapi.json.
func specAsJSON() ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(specYAML, &v); err != nil {
		return nil, fmt.Errorf("shop spec: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("shop spec: %w", err)
	}
	return b, nil
}

// Route kinds.
const (
	kindAPI    = "api"    // documented in openapi.yaml
	kindShadow = "shadow" // served but left out of the spec: legacy twins, debug, zombie export
	kindMeta   = "meta"   // the root and the spec itself
)

type route struct {
	method, path string // path is a ServeMux pattern
	kind         string
	h            http.HandlerFunc
}

// routes is the shop's route table: what it serves, and whether the spec
// documents it.
func (a *app) routes() []route {
	return []route{
		{"GET", "/{$}", kindMeta, a.root},
		{"GET", "/openapi.json", kindMeta, a.spec},

		{"POST", "/api/v2/auth/register", kindAPI, a.register},
		{"POST", "/api/v2/auth/login", kindAPI, a.login},
		{"GET", "/api/v2/users/me", kindAPI, a.authed(a.me)},
		{"PATCH", "/api/v2/users/me", kindAPI, a.authed(a.updateMe)},
		{"GET", "/api/v2/users/{id}", kindAPI, a.authed(a.userByID)},
		{"GET", "/api/v2/products", kindAPI, a.listProducts},
		{"GET", "/api/v2/products/search", kindAPI, a.search},
		{"GET", "/api/v2/products/{id}", kindAPI, a.productByID},
		{"GET", "/api/v2/cart", kindAPI, a.authed(a.viewCart)},
		{"POST", "/api/v2/cart/items", kindAPI, a.authed(a.addItem)},
		{"DELETE", "/api/v2/cart/items/{id}", kindAPI, a.authed(a.removeItem)},
		{"POST", "/api/v2/checkout/quote", kindAPI, a.authed(a.quote)},
		{"POST", "/api/v2/checkout/pay", kindAPI, a.authed(a.pay)},
		{"POST", "/api/v2/checkout/confirm", kindAPI, a.authed(a.confirm)},
		{"GET", "/api/v2/orders", kindAPI, a.authed(a.listOrders)},
		{"GET", "/api/v2/orders/{id}", kindAPI, a.authed(a.orderByID)},
		{"GET", "/api/v2/addresses", kindAPI, a.authed(a.listAddresses)},
		{"POST", "/api/v2/addresses", kindAPI, a.authed(a.addAddress)},
		{"GET", "/api/v2/addresses/{id}", kindAPI, a.authed(a.addressByID)},
		{"POST", "/api/v2/coupons/validate", kindAPI, a.validateCoupon},
		{"GET", "/api/v2/giftcards/{code}/balance", kindAPI, a.giftCardBalance},
		{"POST", "/api/v2/imports", kindAPI, a.authed(a.importURL)},
		{"POST", "/api/v2/support/chat", kindAPI, a.chat},
		{"GET", "/api/v2/admin/users", kindAPI, a.authed(a.adminOnly(a.adminUsers))},
		{"PATCH", "/api/v2/admin/users/{id}", kindAPI, a.authed(a.adminOnly(a.adminSetRole))},
		{"GET", "/api/v2/admin/stats", kindAPI, a.authed(a.adminOnly(a.adminStats))},
		{"POST", "/api/v2/admin/coupons", kindAPI, a.authed(a.createCoupon)}, // planted BFLA: no role check

		{"GET", "/api/v1/users/{id}", kindShadow, a.legacy(a.v1User)},
		{"GET", "/api/v1/orders/{id}", kindShadow, a.legacy(a.v1Order)},
		{"GET", "/api/v1/account", kindShadow, a.legacy(a.v1Account)},
		{"GET", "/api/v1/export/users", kindShadow, a.legacy(a.v1Export)},
		{"GET", "/internal/debug", kindShadow, a.debug},
	}
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.routes() {
		if a.cfg.hardened && rt.kind == kindShadow {
			continue // retired: the legacy /api/v1 twins and /internal/debug answer 404
		}
		mux.HandleFunc(rt.method+" "+rt.path, rt.h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "no route for %s %s", r.Method, r.URL.Path)
	})
	if a.cfg.hardened {
		return securityHeaders(recoverNeutral(a.logger, mux))
	}
	return securityHeaders(recoverVerbose(a.logger, mux))
}

// recoverVerbose turns a handler panic into a 500 that shows the panic and
// the goroutine's stack trace: the planted verbose-error vulnerability
// (ground truth "verbose-errors"). Handlers panic on malformed JSON.
func recoverVerbose(logger *slog.Logger, next http.Handler) http.Handler {
	return recovering(next, func(w http.ResponseWriter, r *http.Request, v any) {
		logger.Debug("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
		writeJSON(w, http.StatusInternalServerError, map[string]string{
			"error": fmt.Sprintf("panic: %v", v),
			"trace": string(debug.Stack()),
		})
	})
}

// recovering answers a panic in next with onPanic (called while the
// panicking stack is still there for debug.Stack), in both modes; an
// http.ErrAbortHandler panic is passed on for net/http to abort the
// response.
func recovering(next http.Handler, onPanic func(w http.ResponseWriter, r *http.Request, v any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			onPanic(w, r, v)
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// malformedJSON is what handlers panic with on a body that is not JSON.
type malformedJSON struct{ err error }

func (m malformedJSON) String() string { return "decode request body: " + m.err.Error() }

// body reads the JSON object of r into a generic map. A syntax error panics
// (and so becomes the verbose 500); an empty body is an empty object; a body
// over the cap, or JSON that is not an object, is a 4xx.
func body(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			fail(w, http.StatusRequestEntityTooLarge, "request body over %d bytes", maxBody)
			return nil, false
		}
		fail(w, http.StatusBadRequest, "read request body: %v", err)
		return nil, false
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return map[string]any{}, true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		panic(malformedJSON{err})
	}
	m, ok := v.(map[string]any)
	if !ok {
		fail(w, http.StatusBadRequest, "request body must be a JSON object")
		return nil, false
	}
	return m, true
}

// str reads an optional string field; ok is false (and a 400 written) when
// the field has another type or is longer than limit.
func str(w http.ResponseWriter, m map[string]any, key string, limit int) (string, bool) {
	v, present := m[key]
	if !present || v == nil {
		return "", true
	}
	s, ok := v.(string)
	if !ok {
		fail(w, http.StatusBadRequest, "field %q must be a string", key)
		return "", false
	}
	if len(s) > limit {
		fail(w, http.StatusBadRequest, "field %q is longer than %d characters", key, limit)
		return "", false
	}
	return s, true
}

// integer reads an optional integer field (JSON number without fraction).
func integer(m map[string]any, key string) (n int64, present, ok bool) {
	v, present := m[key]
	if !present {
		return 0, false, true
	}
	f, isNum := v.(float64)
	if !isNum || f != float64(int64(f)) || f > 1e12 || f < -1e12 {
		return 0, true, false
	}
	return int64(f), true, true
}

// idString reads an id that clients send as a string or a number.
func idString(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		if len(v) <= 64 {
			return v
		}
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		fail(w, http.StatusBadRequest, "id must be a positive integer")
		return 0, false
	}
	return id, true
}

type authedHandler func(w http.ResponseWriter, r *http.Request, p principal)

// authed requires a valid HS256 token.
func (a *app) authed(h authedHandler) http.HandlerFunc {
	return a.withAuth(false, h)
}

// legacy requires a token the legacy way: HS256 or alg "none".
func (a *app) legacy(h authedHandler) http.HandlerFunc {
	return a.withAuth(true, h)
}

func (a *app) withAuth(legacy bool, h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := a.verify(r, legacy)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shop"`)
			fail(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		a.mu.Lock()
		_, exists := a.users[p.id]
		a.mu.Unlock()
		if !exists && !legacy {
			fail(w, http.StatusUnauthorized, "unauthorized: account no longer exists")
			return
		}
		h(w, r, p)
	}
}

// adminOnly is the correct function-level check: the token's role must be
// admin.
func (a *app) adminOnly(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p principal) {
		if p.role != roleAdmin {
			fail(w, http.StatusForbidden, "forbidden: admin only")
			return
		}
		h(w, r, p)
	}
}

func (a *app) root(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": "Vigil demo shop", "api": "/api/v2", "openapi": "/openapi.json"})
}

func (a *app) spec(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.specJSON)
}

// publicUser is a user without secrets.
func publicUser(u *user) map[string]any {
	return map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role, "created_at": u.Created}
}

// fullUser is the whole record, password hash and card included: what the
// planted excessive-data-exposure routes return.
func fullUser(u *user) user {
	c := *u
	if u.Card != nil {
		cc := *u.Card
		c.Card = &cc
	}
	return c
}
