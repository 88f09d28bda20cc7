package behavior

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

// Tampering finds clients changing what the server should decide: amounts
// and prices in requests to commerce endpoints (a path segment cart, basket,
// bag, checkout, order, quote or purchase, singular or plural). It raises
// behavior.tampering (medium) for
//
//   - a negative number (a JSON number, or a string or form value that
//     reads as one) under a key quantity, qty, amount, price, unit_price,
//     total, subtotal or discount;
//   - a price key (price, unit_price, total, subtotal) in a request to an
//     endpoint (host, method, template) that has seen at least 20 requests
//     with a body, at most 5% of them carrying that key: the shop computes
//     prices and its other clients never send one.
//
// Key names compare case-insensitively, ignoring '_', '-' and '.'. The
// finding fires whatever the answer (an attempt the server refused is still
// an attempt; the evidence says how it was answered), at most once per actor
// per window.
//
// # Memory
//
// Only actors that tampered are tracked, about 80 bytes each. The
// per-endpoint counts are a fixed table of at most 4096 endpoints (about
// 40 bytes each); endpoints beyond it are not learned and their price keys
// are not judged.
type Tampering struct {
	cfg    Config
	window int64
	table  *actortable.Table[tamperActor]
	counts counters

	mu    sync.Mutex
	stats map[uint64]*priceCount
}

var _ vigil.Analyzer = (*Tampering)(nil)

type tamperActor struct {
	fired    int64
	hasFired bool
}

type priceCount struct {
	bodies, priced uint32
}

// Learning limits of Tampering.
const (
	maxPriceEndpoints = 4096
	priceBaseline     = 20 // requests with a body before price keys are judged
	pricePercent      = 5  // a price key in at most this share is unusual
)

// NewTampering returns a parameter-tampering detector; zero fields of cfg
// take the defaults.
func NewTampering(cfg Config) *Tampering {
	cfg = cfg.withDefaults()
	t := &Tampering{cfg: cfg, window: int64(cfg.Window), stats: make(map[uint64]*priceCount)}
	t.table = actortable.New[tamperActor](cfg.MaxActors, &t.counts.Counts)
	return t
}

// Config returns the configuration in force, defaults filled in.
func (t *Tampering) Config() Config { return t.cfg }

// Stats returns the detector's counters.
func (t *Tampering) Stats() Stats { return t.counts.stats(DetectorTampering) }

// isCommercePath reports whether a path segment names a commerce resource.
func isCommercePath(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if len(seg) < 3 || len(seg) > 10 {
			continue
		}
		var buf [32]byte
		switch string(normKey(&buf, seg)) {
		case "cart", "carts", "basket", "baskets", "bag", "checkout", "checkouts", "order", "orders",
			"quote", "quotes", "purchase", "purchases":
			return true
		}
	}
	return false
}

// amountKey classifies a key: 0 none, 1 an amount, 2 a price (also an
// amount).
func amountKey(k []byte) int {
	var buf [32]byte
	switch string(normKey(&buf, k)) {
	case "price", "unitprice", "total", "subtotal":
		return 2
	case "quantity", "qty", "amount", "discount":
		return 1
	}
	return 0
}

// negative reports whether a value reads as a number below zero.
func negative(v []byte) bool {
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	if len(v) < 2 || v[0] != '-' {
		return false
	}
	if _, err := strconv.ParseFloat(string(v), 64); err != nil {
		return false
	}
	for _, c := range v[1:] {
		if c >= '1' && c <= '9' {
			return true
		}
		if c == 'e' || c == 'E' {
			break
		}
	}
	return false
}

// tamper is what one request shows. The price key is kept raw (pointing
// into the request) and made fit for evidence only when a finding needs it:
// most priced requests raise nothing.
type tamper struct {
	negKey, negVal string
	priceWhere     string // "query." or "body."
	priceK, priceV []byte
	hasPrice       bool
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (t *Tampering) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	r := &x.Request
	kind := bodyKind(r)
	hasQuery := r.URL != nil && r.URL.RawQuery != ""
	if kind == 0 && !hasQuery {
		return nil, nil
	}
	path := cutPath(r.Path())
	if !isCommercePath(path) {
		return nil, nil
	}
	var tp tamper
	where := "query."
	see := func(k, v []byte) {
		switch amountKey(k) {
		case 0:
			return
		case 2:
			if !tp.hasPrice {
				tp.hasPrice, tp.priceWhere, tp.priceK, tp.priceV = true, where, k, v
			}
		}
		if tp.negKey == "" && negative(v) {
			tp.negKey, tp.negVal = where+cutKey(k), cutValue(v)
		}
	}
	if hasQuery {
		scanPairs([]byte(r.URL.RawQuery), see)
	}
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	where = "body."
	switch kind {
	case 'j':
		scanJSON(body, func(k, v []byte, _ bool) { see(k, v) })
	case 'f':
		scanPairs(body, see)
	}
	unusualPrice := false
	if kind != 0 {
		unusualPrice = t.learn(x, path, tp.hasPrice)
	}
	if tp.negKey == "" && !unusualPrice {
		return nil, nil
	}
	sh, a := t.table.Acquire(actortable.ActorHash(t.table.Seed(), &x.Actor), exchangeTime(x), t.window, true)
	defer sh.Unlock()
	now := a.Last
	if !t.counts.fire(&a.State.hasFired, &a.State.fired, now, t.window, 0) {
		return nil, nil
	}
	return []vigil.Finding{t.finding(x, &tp, unusualPrice)}, nil
}

// learn counts a request with a body on its endpoint and reports whether
// it carries a price key the endpoint's requests rarely carry.
func (t *Tampering) learn(x *vigil.Exchange, path string, priced bool) bool {
	key := endpointHash(t.table.Seed(), x.Request.Host(), x.Request.Method, inventory.TemplateFor(x, path))
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.stats[key]
	if c == nil {
		if len(t.stats) >= maxPriceEndpoints {
			return false
		}
		c = &priceCount{}
		t.stats[key] = c
	}
	unusual := priced && c.bodies >= priceBaseline && uint64(c.priced)*100 <= uint64(c.bodies)*pricePercent
	if c.bodies < 1<<31 {
		c.bodies++
		if priced {
			c.priced++
		}
	}
	return unusual
}

func (t *Tampering) finding(x *vigil.Exchange, tp *tamper, unusualPrice bool) vigil.Finding {
	answered := "answered " + strconv.Itoa(x.Status())
	var ev []vigil.Evidence
	var what []string
	if tp.negKey != "" {
		name := tp.negKey[strings.IndexByte(tp.negKey, '.')+1:]
		ev = append(ev, vigil.Evidence{Where: tp.negKey, Value: tp.negVal, Why: "negative " + name + " sent by the client, " + answered})
		what = append(what, "negative "+name)
	}
	if unusualPrice {
		name := cutKey(tp.priceK)
		ev = append(ev, vigil.Evidence{Where: tp.priceWhere + name, Value: cutValue(tp.priceV),
			Why: "client-supplied " + name + " on an endpoint whose other requests do not send one, " + answered})
		what = append(what, "client-supplied "+name)
	}
	return vigil.Finding{
		Detector:   DetectorTampering,
		Category:   vigil.API6BusinessFlows,
		Area:       vigil.AreaBusinessLogic,
		Severity:   vigil.SeverityMedium,
		Confidence: 0.7,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   endpointOf(x),
		Title:      "Parameter tampering: " + strings.Join(what, " and "),
		Evidence:   ev,
	}
}

// cutValue makes a number fit for evidence: at most 32 bytes, printable.
func cutValue(v []byte) string { return cutKey(v) }
