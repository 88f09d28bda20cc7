package shop

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Seeded data. Customers user1..user500 have ids 1..500 and the password
// "Passw0rd!<n>"; support and admin have their own accounts.
const (
	seedCustomers   = 500
	seedProducts    = 200
	ordersPerUser   = 3
	firstOrderID    = 1001 // user n owns 1001+3(n-1) .. 1003+3(n-1)
	firstAddressID  = 501  // user n's address is 500+n
	supportID       = 900
	adminID         = 901
	firstRegistered = 10001 // ids of accounts registered at run time

	supportEmail    = "support@shop.test"
	supportPassword = "Support#2024"
	adminEmail      = "admin@shop.test"
	adminPassword   = "Adm1n!Vigil"
)

// Bounds on state that grows with traffic. When a bound is reached the
// oldest run-time entry is evicted; seeded data is never evicted.
const (
	maxRegistered    = 5000  // accounts registered at run time
	maxCreatedOrders = 20000 // orders confirmed at run time
	maxQuotes        = 20000
	maxPayments      = 20000
	maxCartItems     = 50 // per cart; more is a 409
	maxAddresses     = 10 // per user; the oldest added one is dropped
	maxImports       = 1000
	maxCoupons       = 1000 // coupons created through the admin API
	maxOrdersListed  = 50   // GET /orders returns the newest
)

// Roles.
const (
	roleCustomer = "customer"
	roleSupport  = "support"
	roleAdmin    = "admin"
)

type user struct {
	ID           int64   `json:"id"`
	Email        string  `json:"email"`
	Name         string  `json:"name"`
	Role         string  `json:"role"`
	Phone        string  `json:"phone,omitempty"`
	PasswordHash string  `json:"password_hash"`
	Card         *card   `json:"card,omitempty"`
	Created      string  `json:"created_at"`
	orders       []int64 // newest last
	addresses    []int64
}

type card struct {
	Number string `json:"number"`
	Expiry string `json:"expiry"`
	CVV    string `json:"cvv"`
	Holder string `json:"holder"`
}

type product struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Category    string  `json:"category"`
	Price       float64 `json:"price"`
	Description string  `json:"description"`
	Stock       int     `json:"stock"`
}

type address struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	Line1    string `json:"line1"`
	City     string `json:"city"`
	Postcode string `json:"postcode"`
	Country  string `json:"country"`
	Phone    string `json:"phone,omitempty"`
}

type item struct {
	ID        int64   `json:"id"`
	ProductID int64   `json:"product_id"`
	Name      string  `json:"name"`
	Quantity  int64   `json:"quantity"`
	Price     float64 `json:"price"`
}

type quote struct {
	ID       string  `json:"quote_id"`
	UserID   int64   `json:"-"`
	Items    []item  `json:"items"`
	Subtotal float64 `json:"subtotal"`
	Coupon   string  `json:"coupon,omitempty"`
	Discount float64 `json:"discount"`
	Total    float64 `json:"total"`
	Currency string  `json:"currency"`
	Expires  string  `json:"expires_at"`
}

type payment struct {
	ID       string  `json:"payment_id"`
	QuoteID  string  `json:"quote_id"`
	UserID   int64   `json:"-"`
	Amount   float64 `json:"amount"`
	Method   string  `json:"method"`
	Status   string  `json:"status"`
	External string  `json:"partner_charge_id,omitempty"`
}

type order struct {
	ID        int64    `json:"id"`
	UserID    int64    `json:"user_id"`
	Email     string   `json:"email"`
	Status    string   `json:"status"`
	Items     []item   `json:"items"`
	Total     float64  `json:"total"`
	PaymentID string   `json:"payment_id,omitempty"`
	Ship      *address `json:"shipping_address,omitempty"`
	CardLast4 string   `json:"card_last4,omitempty"`
	Created   string   `json:"created_at"`
}

type coupon struct {
	Code    string `json:"code"`
	Percent int    `json:"percent_off"`
	Note    string `json:"-"`
}

type giftCard struct {
	Code    string  `json:"code"`
	Balance float64 `json:"balance"`
	OwnerID int64   `json:"-"`
}

var (
	categories = []string{"furniture", "books", "kitchen", "garden", "toys"}
	nouns      = map[string][]string{
		"furniture": {"chair", "desk", "drop-leaf table", "table & chairs", "bookshelf", "desk lamp", "sofa", "stool"},
		"books":     {"O'Reilly book", "cookbook", "novel", "atlas", "puzzle book", "1=1 puzzle", "comic"},
		"kitchen":   {"coffee grinder", "union jack mug", "kettle", "knife set", "insert tool", "frying pan"},
		"garden":    {"hose", "planter", "rake", "bird feeder", "wool socks", "sleep mask"},
		"toys":      {"kids' bike", "kite", "ornament", "robot", "keyboard", "update kit"},
	}
	adjectives = []string{"classic", "compact", "deluxe", "oak", "steel", "vintage", "eco", "smart", "travel", "family"}
	cities     = []string{"Springfield", "Leeds", "Lyon", "Utrecht", "Austin", "Porto"}
	countries  = []string{"US", "GB", "FR", "NL", "US", "PT"}
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Eva", "Femi", "Grace", "Hugo", "Iris", "Jon", "Kai", "Lena"}
	lastNames  = []string{"Smith", "Novak", "Garcia", "Okafor", "Muller", "Tanaka", "Rossi", "Dubois", "Khan", "Berg"}
	testCards  = []string{"4111111111111111", "5555555555554444", "4000056655665556", "378282246310005"}
)

// hashPassword is the shop's (weak: one round of SHA-256) password hash.
func hashPassword(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + password))
	return "sha256$" + salt + "$" + hex.EncodeToString(sum[:])
}

func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	return len(parts) == 3 && hashPassword(parts[1], password) == hash
}

func money(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// seedData is the shop's initial state drawn from the seed.
type seedData struct {
	users     []*user
	products  []*product
	addresses []*address
	orders    []*order
	coupons   []coupon
	giftCards []giftCard
	weakCode  string // SAVE0000..SAVE9999
	secret    string // the JWT secret
	partner   string // the partner API key
}

func newSeed(seed int64) *seedData {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73686f70))
	created := time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC)
	d := &seedData{
		secret:  fmt.Sprintf("shop-jwt-%016x", rng.Uint64()),
		partner: fmt.Sprintf("pk_partner_%016x", rng.Uint64()),
	}
	for i := range seedProducts {
		cat := categories[i%len(categories)]
		ns := nouns[cat]
		name := ns[(i/len(categories))%len(ns)]
		if i >= len(categories)*len(ns) {
			name = adjectives[rng.IntN(len(adjectives))] + " " + name
		}
		d.products = append(d.products, &product{
			ID: int64(i + 1), Name: name, Category: cat,
			Price:       money(5 + rng.Float64()*195),
			Description: fmt.Sprintf("A %s %s from our %s range.", adjectives[rng.IntN(len(adjectives))], name, cat),
			Stock:       rng.IntN(500),
		})
	}
	salt := func() string { return fmt.Sprintf("%08x", rng.Uint32()) }
	nextOrder := int64(firstOrderID)
	for n := 1; n <= seedCustomers; n++ {
		fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		s := salt()
		u := &user{
			ID: int64(n), Email: fmt.Sprintf("user%d@shop.test", n), Name: fn + " " + ln, Role: roleCustomer,
			Phone:        fmt.Sprintf("+1-555-%04d", rng.IntN(10000)),
			PasswordHash: hashPassword(s, fmt.Sprintf("Passw0rd!%d", n)),
			Card: &card{Number: testCards[rng.IntN(len(testCards))], Expiry: fmt.Sprintf("%02d/%02d", 1+rng.IntN(12), 27+rng.IntN(4)),
				CVV: fmt.Sprintf("%03d", rng.IntN(1000)), Holder: fn + " " + ln},
			Created: created.Add(time.Duration(n) * time.Hour).Format(time.RFC3339),
		}
		ci := rng.IntN(len(cities))
		a := &address{ID: int64(firstAddressID - 1 + n), UserID: u.ID, Name: u.Name,
			Line1: fmt.Sprintf("%d %s Street", 1+rng.IntN(400), lastNames[rng.IntN(len(lastNames))]),
			City:  cities[ci], Postcode: fmt.Sprintf("%05d", 10000+rng.IntN(89999)), Country: countries[ci], Phone: u.Phone}
		u.addresses = []int64{a.ID}
		d.addresses = append(d.addresses, a)
		for range ordersPerUser {
			var items []item
			total := 0.0
			for k := range 1 + rng.IntN(3) {
				p := d.products[rng.IntN(len(d.products))]
				q := int64(1 + rng.IntN(2))
				items = append(items, item{ID: int64(k + 1), ProductID: p.ID, Name: p.Name, Quantity: q, Price: p.Price})
				total += p.Price * float64(q)
			}
			o := &order{ID: nextOrder, UserID: u.ID, Email: u.Email, Status: "delivered", Items: items, Total: money(total),
				PaymentID: fmt.Sprintf("pay_seed%06d", nextOrder), Ship: a, CardLast4: u.Card.Number[len(u.Card.Number)-4:],
				Created: created.Add(time.Duration(nextOrder) * 37 * time.Minute).Format(time.RFC3339)}
			nextOrder++
			u.orders = append(u.orders, o.ID)
			d.orders = append(d.orders, o)
		}
		d.users = append(d.users, u)
	}
	d.users = append(d.users,
		&user{ID: supportID, Email: supportEmail, Name: "Sam Support", Role: roleSupport, PasswordHash: hashPassword(salt(), supportPassword), Created: created.Format(time.RFC3339)},
		&user{ID: adminID, Email: adminEmail, Name: "Alex Admin", Role: roleAdmin, PasswordHash: hashPassword(salt(), adminPassword), Created: created.Format(time.RFC3339)},
	)
	d.weakCode = fmt.Sprintf("SAVE%04d", 1000+rng.IntN(9000))
	d.coupons = []coupon{
		{Code: "WELCOME10", Percent: 10}, {Code: "SPRING15", Percent: 15},
		{Code: "STAFF50", Percent: 50, Note: "staff only"},
		{Code: d.weakCode, Percent: 20, Note: "weak, guessable code"},
	}
	d.giftCards = []giftCard{{Code: "GC-0042", Balance: 250000, OwnerID: 42}, {Code: "GC-1337", Balance: 250000, OwnerID: 137}}
	for len(d.giftCards) < 12 {
		code := fmt.Sprintf("GC-%04d", 2000+rng.IntN(8000))
		d.giftCards = append(d.giftCards, giftCard{Code: code, Balance: money(10 + rng.Float64()*190), OwnerID: int64(1 + rng.IntN(seedCustomers))})
	}
	return d
}

// fifo is a map that keeps at most limit entries and evicts the oldest
// inserted one beyond that.
type fifo[K comparable, V any] struct {
	limit int
	m     map[K]V
	order []K // insertion order; may hold keys already deleted
}

func newFIFO[K comparable, V any](limit int) *fifo[K, V] {
	return &fifo[K, V]{limit: limit, m: map[K]V{}}
}

func (f *fifo[K, V]) get(k K) (V, bool) { v, ok := f.m[k]; return v, ok }

// put stores v and returns the evicted key, if any.
func (f *fifo[K, V]) put(k K, v V) (evicted K, ok bool) {
	if _, exists := f.m[k]; !exists {
		f.order = append(f.order, k)
	}
	f.m[k] = v
	for len(f.m) > f.limit && len(f.order) > 0 {
		old := f.order[0]
		f.order = f.order[1:]
		if _, live := f.m[old]; live {
			delete(f.m, old)
			evicted, ok = old, true
		}
	}
	if len(f.order) > 2*f.limit+16 { // compact keys deleted out of order
		live := f.order[:0:0]
		for _, k := range f.order {
			if _, ok := f.m[k]; ok {
				live = append(live, k)
			}
		}
		f.order = live
	}
	return evicted, ok
}

func (f *fifo[K, V]) del(k K) { delete(f.m, k) }

func (f *fifo[K, V]) len() int { return len(f.m) }
